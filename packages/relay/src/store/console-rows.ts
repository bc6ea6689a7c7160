import type {
  DeliveryAttempt,
  DeliveryState,
  Overview,
  StoredEvent,
  TargetOverview,
} from './types.js';

/**
 * The console's reads, shared by both stores. PostgreSQL returns `bigint` columns and
 * aggregates as strings, SQLite as numbers: `num()` takes both.
 */
const num = (value: number | string | null | undefined): number => Number(value ?? 0);
const numOrNull = (value: number | string | null | undefined): number | null =>
  value === null || value === undefined ? null : Number(value);

/** The most of a response body an attempt keeps. */
export const EXCERPT_CHARS = 200;

/** An attempt's response excerpt as stored: at most `EXCERPT_CHARS` characters, or null. */
export function excerpt(response: string | undefined): string | null {
  if (response === undefined || response === '') return null;
  return Array.from(response).slice(0, EXCERPT_CHARS).join('');
}

export interface EventRow {
  id: string;
  type: StoredEvent['type'];
  account: string;
  body: string;
  created_at: number | string;
}

export interface DeliveryStateRow {
  event_id: string;
  target: string;
  status: DeliveryState;
  attempts: number;
  /** Rows in `attempts` for this delivery (COUNT: a string from PostgreSQL). */
  tries: number | string;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: number | string;
  updated_at: number | string;
  delivered_at: number | string | null;
}

export interface AttemptRow {
  event_id: string;
  target: string;
  at: number | string;
  outcome: DeliveryAttempt['outcome'];
  status: number | null;
  latency_ms: number | string | null;
  error: string | null;
  response: string | null;
}

export function eventsFromRows(rows: EventRow[], deliveries: DeliveryStateRow[]): StoredEvent[] {
  const byEvent = new Map<string, StoredEvent['deliveries']>();
  for (const d of deliveries) {
    const list = byEvent.get(d.event_id) ?? [];
    list.push({
      target: d.target,
      state: d.status,
      attempts: d.attempts,
      tries: num(d.tries),
      lastStatus: d.last_status,
      lastError: d.last_error,
      nextAttemptAt: num(d.next_attempt_at),
      updatedAt: num(d.updated_at),
      deliveredAt: numOrNull(d.delivered_at),
    });
    byEvent.set(d.event_id, list);
  }
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    account: row.account,
    body: row.body,
    createdAt: num(row.created_at),
    deliveries: byEvent.get(row.id) ?? [],
  }));
}

export function attemptFromRow(row: AttemptRow): DeliveryAttempt {
  return {
    eventId: row.event_id,
    target: row.target,
    at: num(row.at),
    outcome: row.outcome,
    status: row.status,
    latencyMs: numOrNull(row.latency_ms),
    error: row.error,
    response: row.response,
  };
}

type N = number | string | null;

export interface OverviewRows {
  counts: Array<{ target: string; pending: N; retrying: N; delivered: N; dead: N }>;
  disabled: Array<{ name: string; disabled_at: number | string; reason: string | null }>;
  last: Array<{ target: string; at: number | string; status: number | null; latency_ms: N }>;
  latency: Array<{ target: string; mean: N }>;
  accounts: Array<{ account: string; events: N; last: N }>;
  activity: Array<{ target: string; bucket: number | string; delivered: N; failed: N }>;
}

export function overviewFromRows(rows: OverviewRows): Overview {
  const targets = new Map<string, TargetOverview>();
  const target = (name: string): TargetOverview => {
    let t = targets.get(name);
    if (!t) {
      t = {
        target: name,
        pending: 0,
        retrying: 0,
        delivered: 0,
        dead: 0,
        disabled: null,
        lastAttempt: null,
        meanLatencyMs: null,
      };
      targets.set(name, t);
    }
    return t;
  };
  for (const c of rows.counts) {
    Object.assign(target(c.target), {
      pending: num(c.pending),
      retrying: num(c.retrying),
      delivered: num(c.delivered),
      dead: num(c.dead),
    });
  }
  for (const d of rows.disabled) {
    target(d.name).disabled = { at: num(d.disabled_at), reason: d.reason };
  }
  for (const l of rows.last) {
    target(l.target).lastAttempt = {
      at: num(l.at),
      status: l.status,
      latencyMs: numOrNull(l.latency_ms),
    };
  }
  for (const l of rows.latency) {
    const mean = numOrNull(l.mean);
    target(l.target).meanLatencyMs = mean === null ? null : Math.round(mean);
  }
  return {
    targets: [...targets.values()].sort((a, b) => a.target.localeCompare(b.target)),
    accounts: rows.accounts
      .map((a) => ({ account: a.account, events: num(a.events), lastEventAt: numOrNull(a.last) }))
      .sort((a, b) => a.account.localeCompare(b.account)),
    activity: rows.activity.map((a) => ({
      target: a.target,
      bucket: num(a.bucket),
      delivered: num(a.delivered),
      failed: num(a.failed),
    })),
  };
}
