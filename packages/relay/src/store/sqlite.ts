import { resolve } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { newLeaseToken } from '../shared/ids.js';
import { checkEventIds, guard } from './errors.js';
import { type SqliteOwnership, acquireSqliteOwnership } from './sqlite-owner.js';
import type {
  AccountLock,
  ClaimOptions,
  DeliveryResult,
  InsertBatch,
  QuarantineEntry,
  Store,
  StoreStats,
} from './types.js';
import { type ClaimedRow, type DeadRow, claimedFromRow, deadFromRow } from './rows.js';
import { sqliteMessages } from './messages-sqlite.js';
import {
  type AttemptRow,
  type DeliveryStateRow,
  type EventRow,
  type OverviewRows,
  attemptFromRow,
  eventsFromRows,
  eventPageSql,
  excerpt,
  overviewFromRows,
  overviewSql,
  statsFromRows,
  statsSql,
  attemptsOfSql,
  eventByIdSql,
} from './console-rows.js';
import { sqliteCheckpointer } from './sqlite-checkpointer.js';
import { LIMIT, byLimit } from './sqlite-limit.js';
import { sqliteReader } from './sqlite-reader.js';
import { walSync } from './sqlite-wal-sync.js';

export interface SqliteStoreOptions {
  /** Path of the database file (created if missing). */
  path: string;
  /**
   * How long a statement waits for another connection's lock on the file before it fails
   * with `SQLITE_BUSY` (default 5000 ms).
   */
  busyTimeoutMs?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  account TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
  event_id TEXT NOT NULL REFERENCES events(id),
  target TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_status INTEGER,
  last_error TEXT,
  updated_at INTEGER NOT NULL,
  delivered_at INTEGER,
  lease TEXT,
  PRIMARY KEY (event_id, target)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS targets (
  name TEXT PRIMARY KEY,
  disabled_at INTEGER,
  reason TEXT
);
CREATE TABLE IF NOT EXISTS quarantine (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL,
  kind TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  content_type TEXT,
  body BLOB NOT NULL,
  error TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  entry_id TEXT
);
`;

/** Added for the console: each recorded attempt, and events listed newest first. */
const CONSOLE_SCHEMA = `
CREATE TABLE IF NOT EXISTS attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL,
  target TEXT NOT NULL,
  at INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  status INTEGER,
  latency_ms INTEGER,
  error TEXT,
  response TEXT
);
`;

/**
 * The console's indexes: each of its reads is an index range or a step down an index.
 * Pages of events by `(created_at, id)` (alone, by account, by type); a target's newest
 * attempt by `(target, id)`; the chart's window by `at`, covering what it sums; an event's
 * attempts to a target by `(event_id, target)` (with `event_id` alone, SQLite without
 * statistics would rather walk all of a target's attempts by `(target, id)`).
 */
const CONSOLE_INDEXES = `
DROP INDEX IF EXISTS events_created;
DROP INDEX IF EXISTS attempts_at;
DROP INDEX IF EXISTS attempts_event;
CREATE INDEX IF NOT EXISTS attempts_event_target ON attempts (event_id, target);
CREATE INDEX IF NOT EXISTS events_page ON events (created_at, id);
CREATE INDEX IF NOT EXISTS events_account_page ON events (account, created_at, id);
CREATE INDEX IF NOT EXISTS events_type_page ON events (type, created_at, id);
CREATE INDEX IF NOT EXISTS attempts_target ON attempts (target, id);
CREATE INDEX IF NOT EXISTS attempts_window ON attempts (at, target, outcome, latency_ms);
`;

/**
 * What the console counts, kept by triggers in the transaction of every write (insert,
 * result, replay, prune): deliveries per target and state (`retrying`: pending after a
 * failed attempt, also counted as pending), events per account (state ''). Reading them is
 * a few rows, whatever the size of the store.
 */
const COUNTS_SCHEMA = `
CREATE TABLE console_counts (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  state TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (kind, name, state)
) WITHOUT ROWID;
${countTrigger('deliveries_counted_insert', 'INSERT', [['NEW', 1]])}
${countTrigger('deliveries_counted_delete', 'DELETE', [['OLD', -1]])}
${countTrigger(
  'deliveries_counted_update',
  'UPDATE OF status, attempts',
  [
    ['OLD', -1],
    ['NEW', 1],
  ],
  `OLD.status IS NOT NEW.status OR (OLD.attempts > 0) IS NOT (NEW.attempts > 0)`,
)}
CREATE TRIGGER events_counted_delete AFTER DELETE ON events BEGIN
  UPDATE console_counts SET n = n - 1 WHERE kind = 'events' AND name = OLD.account AND state = '';
END;
INSERT INTO console_counts (kind, name, state, n)
  SELECT 'delivery', target, status, COUNT(*) FROM deliveries WHERE true GROUP BY target, status;
INSERT INTO console_counts (kind, name, state, n)
  SELECT 'delivery', target, 'retrying', COUNT(*) FROM deliveries
  WHERE status = 'pending' AND attempts > 0 GROUP BY target;
INSERT INTO console_counts (kind, name, state, n)
  SELECT 'events', account, '', COUNT(*) FROM events WHERE true GROUP BY account;
`;

/** A trigger that adds `sign` for each row (`NEW` or `OLD`) to its delivery counters. */
function countTrigger(
  name: string,
  event: string,
  rows: Array<[row: 'NEW' | 'OLD', sign: 1 | -1]>,
  when?: string,
): string {
  const add = ([row, sign]: [string, number]) => `
  INSERT INTO console_counts (kind, name, state, n) VALUES ('delivery', ${row}.target, ${row}.status, ${sign})
    ON CONFLICT DO UPDATE SET n = n + ${sign};
  INSERT INTO console_counts (kind, name, state, n)
    SELECT 'delivery', ${row}.target, 'retrying', ${sign} WHERE ${row}.status = 'pending' AND ${row}.attempts > 0
    ON CONFLICT DO UPDATE SET n = n + ${sign};`;
  return `CREATE TRIGGER ${name} AFTER ${event} ON deliveries${when ? ` WHEN ${when}` : ''} BEGIN${rows
    .map(add)
    .join('')}
END;`;
}

interface ClaimRow extends ClaimedRow {
  rowid: number;
}

/**
 * The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so a batch is on
 * disk when its transaction returns. One relay process per file: poll locks are held in
 * this process only.
 */
/** Poll locks per database file, shared by every store on that file in this process. */
const fileLocks = new Map<string, Set<string>>();

export async function sqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const { default: Database } = await import('better-sqlite3');
  const db: BetterSqlite3.Database = new Database(options.path, {
    timeout: options.busyTimeoutMs ?? 5000,
  });
  /** `wal` on a file; `memory` for `:memory:`; another mode where a file system has no WAL. */
  let journalMode = '';
  try {
    journalMode = String(db.pragma('journal_mode = WAL', { simple: true }));
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.exec(SCHEMA);
    db.exec(CONSOLE_SCHEMA);
    migrate(db);
    addConsoleCounts(db);
  } catch (error) {
    db.close();
    throw error;
  }

  /**
   * Leases and acknowledgements commit without an fsync of their own (WAL + NORMAL still
   * survives a process crash; only a power cut could roll them back, which means a
   * redelivery, never a loss). Fetched batches, quarantine and replays commit with FULL,
   * whose fsync also covers every earlier WAL frame.
   */
  // Prepared once: `db.pragma()` prepares its statement again on every call.
  const syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
  const syncFull = db.prepare('PRAGMA synchronous = FULL');
  const bookkeeping = <T>(work: () => T): T => {
    syncNormal.run();
    try {
      return work();
    } finally {
      syncFull.run();
    }
  };

  // Only a clash of ids is ignored (not NOT NULL or foreign keys, as INSERT OR IGNORE would).
  const insertEvent = db.prepare(
    `INSERT INTO events (id, type, account, body, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (id) DO NOTHING`,
  );
  const insertDelivery = db.prepare(
    `INSERT INTO deliveries (event_id, target, next_attempt_at, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (event_id, target) DO NOTHING`,
  );
  // Events are counted once per batch here, not by a row trigger: an AFTER INSERT trigger
  // on `events` made each insert maintain its three page indexes about 4x slower
  // (measured: 64 against 18 µs per event for insertBatch, bench/README.md).
  const countEvents = db.prepare(
    `INSERT INTO console_counts (kind, name, state, n) VALUES ('events', ?, '', ?)
     ON CONFLICT DO UPDATE SET n = n + excluded.n`,
  );
  const insertBatch = db.transaction((batch: InsertBatch): string[] => {
    const inserted: string[] = [];
    for (const event of batch.events) {
      // Already stored (an earlier try of this batch committed): its deliveries are too.
      if (
        insertEvent.run(event.id, event.type, batch.account, event.body, batch.now).changes === 0
      ) {
        continue;
      }
      for (const target of batch.targets) {
        insertDelivery.run(event.id, target, batch.now, batch.now);
      }
      inserted.push(event.id);
    }
    if (inserted.length > 0) countEvents.run(batch.account, inserted.length);
    return inserted;
  });

  const selectDue = byLimit(
    db,
    `SELECT d.rowid AS rowid, d.event_id, d.target, d.attempts, e.type, e.account, e.body, e.created_at
    FROM deliveries d JOIN events e ON e.id = d.event_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= @now
      AND d.target NOT IN (SELECT name FROM targets WHERE disabled_at IS NOT NULL)
      AND (@only IS NULL OR d.target IN (SELECT value FROM json_each(@only)))
    ORDER BY d.next_attempt_at LIMIT ${LIMIT}`,
  );
  const lease = db.prepare('UPDATE deliveries SET next_attempt_at = ?, lease = ? WHERE rowid = ?');
  const claim = db.transaction((options: ClaimOptions) => {
    const { limit, now, leaseMs, targets } = options;
    const only = targets === undefined ? null : JSON.stringify(targets);
    const rows = selectDue(limit).all({ only, now }) as ClaimRow[];
    const token = newLeaseToken();
    for (const row of rows) {
      lease.run(now + leaseMs, token, row.rowid);
      row.lease = token;
    }
    return rows;
  });

  let ownership: SqliteOwnership | undefined;

  // A result counts only under the lease it was claimed with, and spends it.
  const held = `event_id = ? AND target = ? AND status = 'pending' AND lease = ?`;
  const markDelivered = db.prepare(
    `UPDATE deliveries SET status = 'delivered', last_status = ?, last_error = NULL,
       updated_at = ?, delivered_at = ?, lease = NULL WHERE ${held}`,
  );
  const markRetry = db.prepare(
    `UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_status = ?,
       last_error = ?, updated_at = ?, lease = NULL WHERE ${held}`,
  );
  const markDead = db.prepare(
    `UPDATE deliveries SET status = 'dead', attempts = attempts + 1, last_status = ?,
       last_error = ?, updated_at = ?, lease = NULL WHERE ${held}`,
  );
  const markGone = db.prepare(
    `UPDATE deliveries SET next_attempt_at = ?, last_status = ?, last_error = ?, updated_at = ?,
       lease = NULL WHERE ${held}`,
  );
  const upsertTarget = db.prepare(
    `INSERT INTO targets (name, disabled_at, reason) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason`,
  );
  const insertAttempt = db.prepare(
    `INSERT INTO attempts (event_id, target, at, outcome, status, latency_ms, error, response)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const complete = db.transaction((results: readonly DeliveryResult[], now: number) => {
    for (const r of results) {
      const status = r.status ?? null;
      const error = r.error ?? null;
      let counted: { changes: number } = { changes: 0 };
      switch (r.outcome.kind) {
        case 'delivered':
          counted = markDelivered.run(status, now, now, r.eventId, r.target, r.lease ?? null);
          break;
        case 'retry':
          counted = markRetry.run(
            r.outcome.nextAttemptAt,
            status,
            error,
            now,
            r.eventId,
            r.target,
            r.lease ?? null,
          );
          break;
        case 'dead':
          counted = markDead.run(status, error, now, r.eventId, r.target, r.lease ?? null);
          break;
        case 'release':
          markGone.run(now, status, error, now, r.eventId, r.target, r.lease ?? null);
          break;
        case 'gone':
          // The attempt does not count: the delivery waits, due, for the target to come back.
          // The target answered 410 whoever holds the lease now: it is disabled either way.
          counted = markGone.run(now, status, error, now, r.eventId, r.target, r.lease ?? null);
          upsertTarget.run(r.target, now, error ?? 'HTTP 410 Gone');
          break;
      }
      // A released delivery was not attempted; a stale lease's result is not this delivery's.
      if (counted.changes > 0 && r.outcome.kind !== 'release') {
        insertAttempt.run(
          r.eventId,
          r.target,
          now,
          r.outcome.kind,
          status,
          r.latencyMs === undefined ? null : Math.round(r.latencyMs),
          error,
          excerpt(r.response),
        );
      }
    }
  });

  const replayAll = db.prepare(
    `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?,
       lease = NULL
     WHERE status = 'dead' AND (? IS NULL OR event_id = ?) AND (? IS NULL OR target = ?)`,
  );
  const selectDead = db.prepare(`
    SELECT d.event_id, d.target, e.type, e.account, d.attempts, d.last_status, d.last_error,
           e.created_at, d.updated_at
    FROM deliveries d JOIN events e ON e.id = d.event_id
    WHERE d.status = 'dead' ORDER BY d.updated_at DESC LIMIT ?`);
  // One row per journal entry: a commit repeated after a crash finds it there.
  const insertQuarantine = db.prepare(
    `INSERT INTO quarantine (account, kind, http_status, content_type, body, error, created_at, entry_id)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (entry_id) DO NOTHING`,
  );
  const selectPrunable = db.prepare(`
    SELECT e.id FROM events e
    WHERE e.created_at < ?
      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status <> 'delivered')
    LIMIT ?`);
  const deleteDeliveries = db.prepare('DELETE FROM deliveries WHERE event_id = ?');
  const deleteAttempts = db.prepare('DELETE FROM attempts WHERE event_id = ?');
  const deleteEvent = db.prepare('DELETE FROM events WHERE id = ?');
  const prune = db.transaction((before: number, limit: number) => {
    const ids = (selectPrunable.all(before, limit) as Array<{ id: string }>).map((r) => r.id);
    for (const id of ids) {
      deleteDeliveries.run(id);
      deleteAttempts.run(id);
      deleteEvent.run(id);
    }
    return ids.length;
  });

  const reader = sqliteReader(db, {
    path: options.path,
    busyTimeoutMs: options.busyTimeoutMs ?? 5000,
  });
  const selectDeliveriesOf = `
    SELECT d.event_id, d.target, d.status, d.attempts, d.last_status, d.last_error,
           d.next_attempt_at, d.updated_at, d.delivered_at,
           (SELECT COUNT(*) FROM attempts a WHERE a.event_id = d.event_id AND a.target = d.target)
             AS tries
    FROM deliveries d WHERE d.event_id IN (SELECT value FROM json_each(?)) ORDER BY d.target`;
  const withDeliveries = async (rows: EventRow[]) => {
    if (rows.length === 0) return [];
    const [deliveries] = await reader.read([
      [selectDeliveriesOf, [JSON.stringify(rows.map((r) => r.id))]],
    ]);
    return eventsFromRows(rows, deliveries as DeliveryStateRow[]);
  };
  const shared = overviewSql('');
  const totals = statsSql('');
  const overviewActivity = `
    SELECT target, ? + CAST((at - ?) / ? AS INTEGER) * ? AS bucket,
      SUM(outcome = 'delivered') AS delivered, SUM(outcome <> 'delivered') AS failed,
      SUM(latency_ms) AS latency_sum, COUNT(latency_ms) AS latency_n
    FROM attempts WHERE at >= ? GROUP BY target, bucket ORDER BY bucket`;

  const fileKey = resolve(options.path);
  let locked = fileLocks.get(fileKey);
  if (!locked) {
    locked = new Set();
    fileLocks.set(fileKey, locked);
  }
  const ownLocks = new Set<string>();
  let closed = false;

  // better-sqlite3 throws synchronously (SQLITE_BUSY once the busy timeout is over, a full
  // disk, a closed database): every method turns that into a rejected promise.
  const run = <T>(operation: string, work: () => T) => guard('sqlite', operation, work);

  // The gateway's commits are synced off the event loop where the file is in WAL mode;
  // elsewhere they commit with FULL (an in-memory store has nothing to sync).
  const wal = journalMode === 'wal' ? walSync(db.name) : undefined;
  const checkpointer = sqliteCheckpointer(db, { path: options.path, journalMode });
  return {
    kind: 'sqlite',
    messages: sqliteMessages(db, reader, wal),
    async init() {},
    insertBatch(batch) {
      return run('insertBatch', () => {
        checkEventIds(batch.events);
        return insertBatch.immediate(batch);
      });
    },
    quarantine(entry: QuarantineEntry) {
      return run('quarantine', () => {
        insertQuarantine.run(
          entry.account,
          entry.kind,
          entry.httpStatus,
          entry.contentType ?? null,
          entry.body,
          entry.error,
          entry.now,
          entry.entryId ?? null,
        );
      });
    },
    claim(options) {
      return run('claim', () => bookkeeping(() => claim.immediate(options)).map(claimedFromRow));
    },
    complete(results, now) {
      return run('complete', () => {
        if (results.length > 0) bookkeeping(() => complete.immediate(results, now));
      });
    },
    replay({ eventId, target, now }) {
      return run('replay', () => {
        const e = eventId ?? null;
        const t = target ?? null;
        return replayAll.run(now, now, e, e, t, t).changes;
      });
    },
    listDead({ limit }) {
      return run('listDead', () => (selectDead.all(limit) as DeadRow[]).map(deadFromRow));
    },
    setTargetDisabled(target, disabled, now, reason) {
      return run('setTargetDisabled', () => {
        upsertTarget.run(target, disabled ? now : null, disabled ? (reason ?? null) : null);
      });
    },
    stats(): Promise<StoreStats> {
      return guard('sqlite', 'stats', async () => {
        const [counts, quarantined, disabled] = await reader.read([
          totals.counts,
          totals.quarantined,
          totals.disabled,
        ]);
        return statsFromRows(
          counts as Array<{ kind: string; state: string; n: number }>,
          (quarantined?.[0] as { n: number } | undefined)?.n ?? 0,
          disabled as Array<{ name: string }>,
        );
      });
    },
    listEvents(query) {
      return guard('sqlite', 'listEvents', async () => {
        const [rows] = await reader.read([eventPageSql('', query)]);
        return withDeliveries(rows as EventRow[]);
      });
    },
    getEvent(id) {
      return guard('sqlite', 'getEvent', async () => {
        const [rows] = await reader.read([eventByIdSql('', id)]);
        return (await withDeliveries(rows as EventRow[]))[0] ?? null;
      });
    },
    listAttempts(eventId) {
      return guard('sqlite', 'listAttempts', async () => {
        const [rows] = await reader.read([attemptsOfSql('', eventId)]);
        return (rows as AttemptRow[]).map(attemptFromRow);
      });
    },
    overview({ since, bucketMs }) {
      return guard('sqlite', 'overview', async () => {
        const from = Math.floor(since);
        const bucket = Math.max(1, Math.floor(bucketMs));
        // One read transaction: every part from the same snapshot.
        const [counts, disabled, last, accounts, activity] = await reader.read([
          shared.counts,
          shared.disabled,
          shared.last,
          shared.accounts,
          [overviewActivity, [from, from, bucket, bucket, from]],
        ]);
        return overviewFromRows({
          counts: counts as OverviewRows['counts'],
          disabled: disabled as OverviewRows['disabled'],
          last: last as OverviewRows['last'],
          accounts: accounts as OverviewRows['accounts'],
          activity: activity as OverviewRows['activity'],
        });
      });
    },
    prune({ before, limit }) {
      return run('prune', () => bookkeeping(() => prune.immediate(before, limit)));
    },
    async lockAccount(account): Promise<AccountLock | null> {
      if (closed || locked.has(account)) return null;
      locked.add(account);
      ownLocks.add(account);
      return {
        lost: new Promise<void>(() => {}),
        async release() {
          if (ownLocks.delete(account)) locked.delete(account);
        },
      };
    },
    async takeOver({ now, waitMs }) {
      // An in-memory database is this connection's alone.
      if (options.path !== ':memory:' && options.path !== '') {
        ownership ??= await acquireSqliteOwnership(options.path, { waitMs });
      }
      // With the owner lock, every lease left is a dead process's. (Prepared here: the
      // gateway's tables are made with the message store, after this function's statements.)
      const free = (table: string) =>
        db.prepare(
          `UPDATE ${table} SET lease = NULL, next_attempt_at = min(next_attempt_at, ?)
           WHERE status = 'pending' AND lease IS NOT NULL`,
        );
      const freeDeliveries = free('deliveries');
      const freeCallbacks = free('gw_callbacks');
      const { deliveries, callbacks } = bookkeeping(() =>
        db
          .transaction(() => ({
            deliveries: freeDeliveries.run(now).changes,
            callbacks: freeCallbacks.run(now).changes,
          }))
          .immediate(),
      );
      return { previousPid: ownership?.previousPid ?? null, deliveries, callbacks };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const account of ownLocks) locked.delete(account);
      ownLocks.clear();
      await reader.close();
      await checkpointer.close();
      await wal?.close();
      db.close();
      ownership?.release();
    },
  };
}

/**
 * Adds the console's indexes and counters to a file made before them, counting what is
 * there in the same IMMEDIATE transaction that adds the triggers (no write slips between).
 */
function addConsoleCounts(db: BetterSqlite3.Database): void {
  // Files made by earlier versions count events with a row trigger; insertBatch counts them
  // now, so the trigger goes (or every event would count twice).
  if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'events_counted_insert'").get()) {
    db.exec('DROP TRIGGER IF EXISTS events_counted_insert');
  }
  const done = () =>
    db
      .prepare(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'attempts_event_target'",
      )
      .get() !== undefined &&
    db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'console_counts'").get() !== undefined;
  if (done()) return;
  db.transaction(() => {
    db.exec(CONSOLE_INDEXES);
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'console_counts'").get()) return;
    db.exec(COUNTS_SCHEMA);
  }).immediate();
}

/**
 * Brings a database made by an earlier version up to date, in an IMMEDIATE transaction so
 * two processes opening the same old file do not both add the column.
 */
function migrate(db: BetterSqlite3.Database): void {
  const has = (table: string, column: string) =>
    (db.pragma(`table_info(${table})`) as Array<{ name: string }>).some((c) => c.name === column);
  const upToDate = () =>
    has('deliveries', 'lease') &&
    has('quarantine', 'entry_id') &&
    db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'quarantine_entry'")
      .get() !== undefined;
  // Checked first without a write lock: opening an up-to-date file never waits for a writer.
  if (upToDate()) return;
  db.transaction(() => {
    if (!has('deliveries', 'lease')) db.exec('ALTER TABLE deliveries ADD COLUMN lease TEXT');
    if (!has('quarantine', 'entry_id')) db.exec('ALTER TABLE quarantine ADD COLUMN entry_id TEXT');
    // Rows without an entry (NULL) are all distinct.
    db.exec('CREATE UNIQUE INDEX IF NOT EXISTS quarantine_entry ON quarantine (entry_id)');
  }).immediate();
}
