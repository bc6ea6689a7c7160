import type { ClaimedDelivery, DeadDelivery } from './types.js';

/**
 * Both stores select the same columns; these read them into the Store's shapes.
 * PostgreSQL returns `bigint` columns as strings, SQLite as numbers: `Number()` takes both.
 */
export interface ClaimedRow {
  event_id: string;
  target: string;
  lease: string;
  type: ClaimedDelivery['type'];
  account: string;
  body: string;
  attempts: number;
  created_at: number | string;
}

export interface DeadRow {
  event_id: string;
  target: string;
  type: DeadDelivery['type'];
  account: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number | string;
  updated_at: number | string;
}

export function claimedFromRow(row: ClaimedRow): ClaimedDelivery {
  return {
    eventId: row.event_id,
    target: row.target,
    lease: row.lease,
    type: row.type,
    account: row.account,
    body: row.body,
    attempts: row.attempts,
    createdAt: Number(row.created_at),
  };
}

export function deadFromRow(row: DeadRow): DeadDelivery {
  return {
    eventId: row.event_id,
    target: row.target,
    type: row.type,
    account: row.account,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
