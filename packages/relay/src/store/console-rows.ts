import type { MessageQuery } from './messages.js';
import type {
  DeliveryAttempt,
  DeliveryState,
  EventQuery,
  Overview,
  StoreStats,
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
  accounts: Array<{ account: string; events: N; last: N }>;
  /** Attempts per target and bucket, with their latencies' sum and count (for the mean). */
  activity: Array<{
    target: string;
    bucket: number | string;
    delivered: N;
    failed: N;
    latency_sum: N;
    latency_n: N;
  }>;
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
  const latency = new Map<string, { sum: number; n: number }>();
  for (const a of rows.activity) {
    const sum = latency.get(a.target) ?? { sum: 0, n: 0 };
    sum.sum += num(a.latency_sum);
    sum.n += num(a.latency_n);
    latency.set(a.target, sum);
  }
  for (const [name, { sum, n }] of latency) {
    if (n > 0) target(name).meanLatencyMs = Math.round(sum / n);
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

/*
 * The console's reads, written once for both stores. `t` is the table prefix (`""` for
 * SQLite, `"schema".` for PostgreSQL); statements use `?` placeholders (PostgreSQL's are
 * numbered by `numbered()`). Each is shaped for an index: a page is an index range from its
 * cursor (never a deep OFFSET scan), and the counts come from `console_counts`, kept by
 * triggers in the same transaction as the writes, never from counting rows.
 */

/** A statement and its parameters. */
export type Sql = readonly [sql: string, params: readonly unknown[]];

/** `?` → `$1`, `$2`, … (none of the console's statements holds a `?` otherwise). */
export function numbered([sql, params]: Sql): Sql {
  let n = 0;
  return [sql.replace(/\?/g, () => `$${++n}`), params];
}

/**
 * Events newest first. Only the filters given are in the statement, so each shape uses its
 * index: `(created_at, id)`, `(account, created_at, id)` or `(type, created_at, id)`.
 */
export function eventPageSql(t: string, query: EventQuery): Sql {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.type !== undefined) {
    where.push('e.type = ?');
    params.push(query.type);
  }
  if (query.account !== undefined) {
    where.push('e.account = ?');
    params.push(query.account);
  }
  if (query.before !== undefined) {
    where.push('(e.created_at, e.id) < (?, ?)');
    params.push(query.before.createdAt, query.before.id);
  }
  if (query.target !== undefined || query.state !== undefined) {
    const match: string[] = ['d.event_id = e.id'];
    if (query.target !== undefined) {
      match.push('d.target = ?');
      params.push(query.target);
    }
    if (query.state !== undefined) {
      match.push('d.status = ?');
      params.push(query.state);
    }
    where.push(`EXISTS (SELECT 1 FROM ${t}deliveries d WHERE ${match.join(' AND ')})`);
  }
  params.push(query.limit, query.offset ?? 0);
  return [
    `SELECT e.id, e.type, e.account, e.body, e.created_at FROM ${t}events e
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY e.created_at DESC, e.id DESC LIMIT ? OFFSET ?`,
    params,
  ];
}

/** One event (its deliveries are read with `withDeliveries`, as a page's are). */
export function eventByIdSql(t: string, id: string): Sql {
  return [`SELECT id, type, account, body, created_at FROM ${t}events WHERE id = ?`, [id]];
}

/** An event's attempts, oldest first. */
export function attemptsOfSql(t: string, eventId: string): Sql {
  return [
    `SELECT event_id, target, at, outcome, status, latency_ms, error, response
     FROM ${t}attempts WHERE event_id = ? ORDER BY id`,
    [eventId],
  ];
}

/** One gateway message. */
export function messageByIdSql(t: string, id: string): Sql {
  return [`SELECT * FROM ${t}gw_messages WHERE id = ?`, [id]];
}

/**
 * Messages newest first (ids sort by creation), by `(status, id)` or `(account, id)`. The
 * status index leaves out the messages being sent (a claim and its outcome moved each
 * message's entry twice): a page of them reads the index of leased messages (few: the
 * senders' windows) and sorts them, the others say `status <> 'sending'`, the index's own
 * predicate, so both planners see that it serves them. `leasedIndexHint` follows the table
 * name on a page of messages being sent (SQLite's `INDEXED BY`: without statistics its
 * planner walked the whole table by id for them).
 */
export function messagePageSql(t: string, query: MessageQuery, leasedIndexHint = ''): Sql {
  const where: string[] = [];
  const params: unknown[] = [];
  const sending = query.status === 'sending';
  if (sending) {
    where.push(`status = 'sending'`);
  } else if (query.status !== undefined) {
    where.push(`status = ? AND status <> 'sending'`);
    params.push(query.status);
  }
  if (query.account !== undefined) {
    where.push('account = ?');
    params.push(query.account);
  }
  if (query.before !== undefined) {
    where.push('id < ?');
    params.push(query.before);
  }
  params.push(query.limit, query.offset ?? 0);
  return [
    `SELECT * FROM ${t}gw_messages ${sending ? leasedIndexHint : ''}
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY id DESC LIMIT ? OFFSET ?`,
    params,
  ];
}

/** The overview's parts that do not depend on the store's dialect. */
export function overviewSql(t: string): {
  counts: Sql;
  disabled: Sql;
  last: Sql;
  accounts: Sql;
} {
  return {
    counts: [
      `SELECT name AS target,
         SUM(CASE WHEN state = 'pending' THEN n ELSE 0 END) AS pending,
         SUM(CASE WHEN state = 'retrying' THEN n ELSE 0 END) AS retrying,
         SUM(CASE WHEN state = 'delivered' THEN n ELSE 0 END) AS delivered,
         SUM(CASE WHEN state = 'dead' THEN n ELSE 0 END) AS dead
       FROM ${t}console_counts WHERE kind = 'delivery' GROUP BY name HAVING SUM(n) <> 0`,
      [],
    ],
    disabled: [
      `SELECT name, disabled_at, reason FROM ${t}targets WHERE disabled_at IS NOT NULL`,
      [],
    ],
    // Each target's newest attempt: one step down the index `(target, id)` per target.
    last: [
      `SELECT a.target, a.at, a.status, a.latency_ms
       FROM (SELECT name FROM ${t}console_counts WHERE kind = 'delivery'
             GROUP BY name HAVING SUM(n) <> 0) c
       JOIN ${t}attempts a ON a.id = (SELECT MAX(id) FROM ${t}attempts WHERE target = c.name)`,
      [],
    ],
    // The newest event's time: one step down the index `(account, created_at, id)`.
    accounts: [
      `SELECT c.name AS account, SUM(c.n) AS events,
         (SELECT MAX(created_at) FROM ${t}events e WHERE e.account = c.name) AS last
       FROM ${t}console_counts c WHERE c.kind = 'events' GROUP BY c.name HAVING SUM(c.n) <> 0`,
      [],
    ],
  };
}

/** The totals of `stats()`, from the counters (and the small quarantine and targets tables). */
export function statsSql(t: string): { counts: Sql; quarantined: Sql; disabled: Sql } {
  return {
    counts: [`SELECT kind, state, SUM(n) AS n FROM ${t}console_counts GROUP BY kind, state`, []],
    quarantined: [`SELECT COUNT(*) AS n FROM ${t}quarantine`, []],
    disabled: [`SELECT name FROM ${t}targets WHERE disabled_at IS NOT NULL ORDER BY name`, []],
  };
}

export function statsFromRows(
  counts: Array<{ kind: string; state: string; n: N }>,
  quarantined: N,
  disabled: Array<{ name: string }>,
): StoreStats {
  const of = (kind: string, state: string) =>
    num(counts.find((c) => c.kind === kind && c.state === state)?.n);
  return {
    pending: of('delivery', 'pending'),
    delivered: of('delivery', 'delivered'),
    dead: of('delivery', 'dead'),
    events: of('events', ''),
    quarantined: num(quarantined),
    disabledTargets: disabled.map((d) => d.name),
  };
}
