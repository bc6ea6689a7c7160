import type BetterSqlite3 from 'better-sqlite3';
import { newLeaseToken } from '../shared/ids.js';
import { messageByIdSql, messagePageSql } from './console-rows.js';
import { guard } from './errors.js';
import {
  type CallbackResult,
  type ClaimedCallback,
  type ClaimedMessage,
  type FailoverCount,
  type Enqueued,
  type MessageRow,
  claimedFromRow,
  type MessageStore,
  type MessageTag,
  type NewMessage,
  type OutcomeToRecord,
  type RecipientRow,
  type SendOutcome,
  messageFromRow,
  recipientFromRow,
  recipientUpdateOf,
  storedFromNew,
} from './messages.js';
import { LIMIT, byLimit } from './sqlite-limit.js';
import type { SqliteReader } from './sqlite-reader.js';
import type { WalSync } from './sqlite-wal-sync.js';

export const MESSAGES_SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS gw_messages (
  id TEXT PRIMARY KEY,
  idem_key TEXT UNIQUE,
  request_hash TEXT NOT NULL,
  account TEXT NOT NULL,
  mobiles TEXT NOT NULL,
  content TEXT NOT NULL,
  send_at INTEGER,
  ext_no TEXT NOT NULL,
  metadata TEXT,
  callback_url TEXT,
  expires_at INTEGER,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  route TEXT,
  route_attempts TEXT,
  next_attempt_at INTEGER NOT NULL,
  lease TEXT,
  lease_until INTEGER,
  task_id TEXT,
  error_code TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  sent_at INTEGER
);
-- The claim's order, whole: with only next_attempt_at indexed, every due message sharing the
-- oldest one's instant was read and sorted for each claim. Only queued messages are in it.
CREATE INDEX IF NOT EXISTS gw_messages_due_fifo ON gw_messages (account, next_attempt_at, created_at)
  WHERE status = 'queued';
DROP INDEX IF EXISTS gw_messages_due;
-- Only messages being sent, the ones whose lease can run out: the queued and the finished ones
-- were in it too, an entry written with each message and rewritten with each change of status.
CREATE INDEX IF NOT EXISTS gw_messages_leased ON gw_messages (lease_until) WHERE status = 'sending';
DROP INDEX IF EXISTS gw_messages_sending;
-- Each claim expires what ran out of time first: without this it read every queued message.
CREATE INDEX IF NOT EXISTS gw_messages_expiring ON gw_messages (expires_at)
  WHERE status = 'queued' AND expires_at IS NOT NULL;
-- The console's pages by status, without the messages being sent (gw_messages_leased has
-- those): a claim and its outcome moved each message's entry twice, two pages of the WAL per
-- commit of either (store floor: 40-46 against 36-43 µs a message claimed and sent).
CREATE INDEX IF NOT EXISTS gw_messages_status_page_not_sending ON gw_messages (status, id)
  WHERE status <> 'sending';
DROP INDEX IF EXISTS gw_messages_status_page;
CREATE INDEX IF NOT EXISTS gw_messages_account_page ON gw_messages (account, id);
CREATE TABLE IF NOT EXISTS gw_recipients (
  message_id TEXT NOT NULL REFERENCES gw_messages(id),
  mobile TEXT NOT NULL,
  account TEXT NOT NULL,
  task_id TEXT,
  status TEXT NOT NULL,
  code TEXT,
  sent_at INTEGER,
  reported_at INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (message_id, mobile)
);
-- Reports find their recipient by task id: one not yet sent has none, and no entry.
CREATE INDEX IF NOT EXISTS gw_recipients_sent_task ON gw_recipients (account, task_id, mobile)
  WHERE task_id IS NOT NULL;
DROP INDEX IF EXISTS gw_recipients_task;
-- A reply's last message sent to its number: only sent recipients have an entry (written once,
-- when sent; a queued one had an entry written at its POST and moved when it was sent).
CREATE INDEX IF NOT EXISTS gw_recipients_sent_mobile ON gw_recipients (account, mobile, sent_at)
  WHERE sent_at IS NOT NULL;
DROP INDEX IF EXISTS gw_recipients_mobile;
CREATE TABLE IF NOT EXISTS gw_callbacks (
  event_id TEXT NOT NULL,
  url TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease TEXT,
  last_status INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (event_id, url)
);
CREATE INDEX IF NOT EXISTS gw_callbacks_due ON gw_callbacks (status, next_attempt_at);
`;

/**
 * The oldest due messages of an account, in the claim's order, read from the index in that
 * order: a claim reads what it takes, however long the queue (exported for its plan's test).
 */
export const SELECT_DUE_SQLITE = `SELECT rowid, id, account, mobiles, content, send_at, ext_no, attempts, route
  FROM gw_messages INDEXED BY gw_messages_due_fifo
  WHERE account = ? AND status = 'queued' AND next_attempt_at <= ?
  ORDER BY next_attempt_at, created_at LIMIT ${LIMIT}`;

/**
 * A claim's messages marked `sending`, all in one statement, by the rows its SELECT read (a
 * JSON array of rowids: no lookup by id). Without RETURNING: the SELECT read them already
 * (RETURNING cost a claim 2 µs a message). Exported for its plan's test.
 */
export const MARK_SENDING_SQLITE = `UPDATE gw_messages SET status = 'sending', lease = ?,
  lease_until = ?, attempts = attempts + 1, updated_at = ?
  WHERE rowid IN (SELECT value FROM json_each(?)) AND status = 'queued'`;

/** A row of SELECT_DUE_SQLITE, read raw (in its columns' order). */
type DueTuple = [
  rowid: number,
  id: string,
  account: string,
  mobiles: string,
  content: string,
  send_at: number | null,
  ext_no: string,
  attempts: number,
  route: string | null,
];

/**
 * Whether a number of an account is in a message being sent: from the messages being sent (few:
 * at most the senders' windows), then their numbers by primary key.
 */
export const SENDING_TO_SQLITE = `SELECT 1 FROM gw_messages m INDEXED BY gw_messages_leased
  JOIN gw_recipients r ON r.message_id = m.id
  WHERE m.status = 'sending' AND r.account = ? AND r.mobile IN (SELECT value FROM json_each(?))
  LIMIT 1`;

/**
 * Settled messages older than the retention (exported for its plan's test). `status <>
 * 'sending'` is the status index's predicate: stated, the planner can read that index.
 */
export const PRUNABLE_SQLITE = `SELECT id FROM gw_messages
  WHERE status IN ('sent', 'failed', 'expired') AND status <> 'sending' AND updated_at < ? LIMIT ?`;

/** The messages whose lease ran out (their sender stopped), from the index of leased ones alone. */
export const STALE_SENDING_SQLITE = `SELECT id FROM gw_messages INDEXED BY gw_messages_leased
  WHERE status = 'sending' AND lease_until <= ?`;

/** Adds the routing columns to a database made before they existed. */
function migrateRoute(db: BetterSqlite3.Database): void {
  const has = () =>
    (db.pragma('table_info(gw_messages)') as Array<{ name: string }>).some(
      (c) => c.name === 'route_attempts',
    );
  if (has()) return;
  db.transaction(() => {
    if (has()) return;
    db.exec('ALTER TABLE gw_messages ADD COLUMN route TEXT');
    db.exec('ALTER TABLE gw_messages ADD COLUMN route_attempts TEXT');
  }).immediate();
}

/** The failovers of stored messages; each one went to the next failover's account, the last to the message's own. */
const FAILOVER_COUNTS_SQLITE = `
  SELECT json_extract(j.value, '$.account') AS "from",
    coalesce(json_extract(m.route_attempts, '$[' || (j.key + 1) || '].account'), m.account) AS "to",
    json_extract(j.value, '$.code') AS code, count(*) AS count
  FROM gw_messages m, json_each(m.route_attempts) j
  WHERE m.route_attempts IS NOT NULL
  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`;

const TAG_COLUMNS = 'm.id AS message_id, m.metadata, m.callback_url';
/** A report's recipient and its message (exported, like the others, for its plan's test). */
export const REPORT_TARGET_SQLITE = `SELECT ${TAG_COLUMNS} FROM gw_recipients r
  JOIN gw_messages m ON m.id = r.message_id
  WHERE r.account = ? AND r.task_id = ? AND r.mobile = ? LIMIT 1`;
/** A reply's last message sent to its number (exported for its plan's test). */
export const LAST_SENT_SQLITE = `SELECT ${TAG_COLUMNS} FROM gw_recipients r
  JOIN gw_messages m ON m.id = r.message_id
  WHERE r.account = ? AND r.mobile = ? AND r.sent_at IS NOT NULL
  ORDER BY r.sent_at DESC LIMIT 1`;

interface TagRow {
  message_id: string;
  metadata: string | null;
  callback_url: string | null;
}
const tagOf = (row: TagRow | undefined): MessageTag | undefined =>
  row && { messageId: row.message_id, metadata: row.metadata, callbackUrl: row.callback_url };

/**
 * The gateway's tables in the relay's SQLite file. A message is `sending` on disk before the
 * platform is called: a claim commits without an fsync of its own and is handed out only
 * once `wal.sync()` put its commit on disk (the fsync of a `FULL` commit, off the event loop:
 * it held the relay's only thread for about 29 % of a drain).
 */
export function sqliteMessages(
  db: BetterSqlite3.Database,
  reader: SqliteReader,
  wal: WalSync | undefined,
): MessageStore {
  db.exec(MESSAGES_SQLITE_SCHEMA);
  migrateRoute(db);
  // The console's failover counts read only the messages that failed over.
  db.exec(
    'CREATE INDEX IF NOT EXISTS gw_messages_failovers ON gw_messages (account) WHERE route_attempts IS NOT NULL',
  );
  const run = <T>(operation: string, work: () => T | Promise<T>) =>
    guard('sqlite', operation, work);
  // Prepared once: `db.pragma()` prepares its statement again on every call.
  const syncNormal = db.prepare('PRAGMA synchronous = NORMAL');
  const syncFull = db.prepare('PRAGMA synchronous = FULL');
  const normal = <T>(work: () => T): T => {
    syncNormal.run();
    try {
      return work();
    } finally {
      syncFull.run();
    }
  };

  const insertMessage = db.prepare(`
    INSERT INTO gw_messages (id, idem_key, request_hash, account, route, mobiles, content, send_at,
      ext_no, metadata, callback_url, expires_at, status, next_attempt_at, created_at, updated_at)
    VALUES (@id, @idem_key, @request_hash, @account, @route, @mobiles, @content, @send_at, @ext_no,
      @metadata, @callback_url, @expires_at, 'queued', @now, @now, @now)
    ON CONFLICT (idem_key) DO NOTHING`);
  const insertRecipient = db.prepare(
    `INSERT INTO gw_recipients (message_id, mobile, account, status, updated_at) VALUES (?, ?, ?, 'queued', ?)`,
  );
  const byId = db.prepare(messageByIdSql('', '')[0]);
  const byKey = db.prepare('SELECT * FROM gw_messages WHERE idem_key = ?');
  const recipientsOf =
    'SELECT mobile, status, code, reported_at, updated_at FROM gw_recipients WHERE message_id = ? ORDER BY rowid';
  const enqueueOne = (m: NewMessage): Enqueued => {
    const changes = insertMessage.run({
      id: m.id,
      idem_key: m.idempotencyKey,
      request_hash: m.requestHash,
      account: m.account,
      route: m.route && m.route.length > 0 ? JSON.stringify(m.route) : null,
      mobiles: JSON.stringify(m.mobiles),
      content: m.content,
      send_at: m.sendAt,
      ext_no: m.extNo,
      metadata: m.metadata,
      callback_url: m.callbackUrl,
      expires_at: m.expiresAt,
      now: m.now,
    }).changes;
    if (changes === 0) {
      return { message: messageFromRow(byKey.get(m.idempotencyKey) as MessageRow), created: false };
    }
    for (const mobile of m.mobiles) insertRecipient.run(m.id, mobile, m.account, m.now);
    return { message: storedFromNew(m), created: true };
  };
  const enqueueMany = db.transaction((batch: readonly NewMessage[]) => batch.map(enqueueOne));
  /**
   * Commits `work` durably: in WAL mode without an fsync of its own, then the WAL synced off
   * the event loop (`wal`); otherwise (no WAL: in memory, or a file system without it) with
   * the file's `FULL`.
   */
  const durably = async <T>(work: () => T): Promise<T> => {
    if (!wal) return work();
    const result = normal(work);
    await wal.sync();
    return result;
  };
  const enqueueSynced = (batch: readonly NewMessage[]): Promise<Enqueued[]> =>
    durably(() => enqueueMany.immediate(batch));

  // Positional parameters on the hot paths: a named one is looked up on its object by a name
  // made anew for each run (better-sqlite3), a fifth of the claim-and-outcome's binding.
  const updateRecipients = db.prepare(
    `UPDATE gw_recipients SET status = ?, code = ?, task_id = coalesce(?, task_id),
       sent_at = coalesce(?, sent_at), updated_at = ?
     WHERE message_id = ? AND status NOT IN ('delivered', 'failed')`,
  );
  const setRecipients = (
    id: string,
    status: string,
    code: string | null,
    taskId: string | null,
    sentAt: number | null,
    now: number,
  ) => updateRecipients.run(status, code, taskId, sentAt, now, id);
  const resetRecipients = db.prepare(
    `UPDATE gw_recipients SET status = @status, code = @code, task_id = NULL, sent_at = NULL,
       reported_at = NULL, updated_at = @now WHERE message_id = @id`,
  );
  const expireQueued = db.prepare(
    // INDEXED BY: without statistics the planner took the status index and read every queued message.
    `SELECT id FROM gw_messages INDEXED BY gw_messages_expiring
     WHERE status = 'queued' AND expires_at IS NOT NULL AND expires_at <= ?`,
  );
  const markExpired = db.prepare(
    `UPDATE gw_messages SET status = 'expired', error_code = 'EXPIRED',
       error = 'not sent before its ttl ran out', updated_at = ? WHERE id = ? AND status = 'queued'`,
  );
  const selectDue = byLimit(db, SELECT_DUE_SQLITE);
  const markSending = db.prepare(MARK_SENDING_SQLITE);
  const expire = (now: number) => {
    for (const { id } of expireQueued.all(now) as Array<{ id: string }>) {
      markExpired.run(now, id);
      setRecipients(id, 'expired', 'EXPIRED', null, null, now);
    }
  };
  const claim = db.transaction(
    (o: { account: string; limit: number; now: number; leaseMs: number }) => {
      expire(o.now);
      const lease = newLeaseToken();
      const claimed: ClaimedMessage[] = [];
      // One transaction: what the SELECT read is what the UPDATE changes.
      // Rows as arrays: better-sqlite3 builds a row object property by property, on V8's slow
      // path, a tenth of the store's work in a drain.
      const due = selectDue(o.limit).raw(true).all(o.account, o.now) as DueTuple[];
      if (due.length === 0) return claimed;
      const rowids = JSON.stringify(due.map((row) => row[0]));
      const marked = markSending.run(lease, o.now + o.leaseMs, o.now, rowids).changes;
      // The SELECT read them queued in this transaction: all of them are marked.
      if (marked !== due.length) throw new Error(`a claim marked ${marked} of ${due.length}`);
      for (const [, id, account, mobiles, content, send_at, ext_no, attempts, route] of due) {
        claimed.push(
          claimedFromRow({
            id,
            lease,
            account,
            mobiles,
            content,
            send_at,
            ext_no,
            attempts: attempts + 1,
            route,
          }),
        );
      }
      return claimed;
    },
  );

  const releaseOne = db.prepare(
    `UPDATE gw_messages SET status = 'queued', lease = NULL, lease_until = NULL,
       attempts = attempts - 1, updated_at = ? WHERE id = ? AND lease = ? AND status = 'sending'`,
  );
  const release = db.transaction((claims: readonly { id: string; lease: string }[], now: number) =>
    claims.reduce((n, c) => n + releaseOne.run(now, c.id, c.lease).changes, 0),
  );

  const recordSent = db.prepare(
    `UPDATE gw_messages SET status = 'sent', task_id = ?, sent_at = ?, error_code = NULL,
       error = NULL, lease_until = NULL, updated_at = ?
     WHERE id = ? AND lease = ? AND status IN ('sending', 'unknown')`,
  );
  const recordRetry = db.prepare(
    `UPDATE gw_messages SET status = 'queued', next_attempt_at = @next, error_code = @code,
       error = @error, lease = NULL, lease_until = NULL, updated_at = @now
     WHERE id = @id AND lease = @lease AND status = 'sending'`,
  );
  const recordEnd = db.prepare(
    `UPDATE gw_messages SET status = @status, error_code = @code, error = @error,
       lease_until = NULL, updated_at = @now
     WHERE id = @id AND lease = @lease AND status = 'sending'`,
  );
  const selectFailovers = db.prepare(
    `SELECT route_attempts FROM gw_messages WHERE id = ? AND lease = ? AND status = 'sending'`,
  );
  const recordFailover = db.prepare(
    `UPDATE gw_messages SET status = 'queued', account = @account, route = @route,
       route_attempts = @route_attempts, next_attempt_at = @now, error_code = @code, error = @error,
       lease = NULL, lease_until = NULL, updated_at = @now
     WHERE id = @id AND lease = @lease AND status = 'sending'`,
  );
  const moveRecipients = db.prepare(
    `UPDATE gw_recipients SET account = ?, updated_at = ? WHERE message_id = ?`,
  );
  const recordOne = (id: string, lease: string, outcome: SendOutcome, now: number): boolean => {
    let changes: number;
    if (outcome.kind === 'failover') {
      const row = selectFailovers.get(id, lease) as { route_attempts: string | null } | undefined;
      if (!row) return false;
      const failovers = row.route_attempts ? (JSON.parse(row.route_attempts) as unknown[]) : [];
      failovers.push({ account: outcome.from, code: outcome.code });
      changes = recordFailover.run({
        id,
        lease,
        account: outcome.account,
        route: JSON.stringify(outcome.route),
        route_attempts: JSON.stringify(failovers),
        code: outcome.code,
        error: outcome.error,
        now,
      }).changes;
      if (changes > 0) moveRecipients.run(outcome.account, now, id);
      return changes > 0;
    }
    if (outcome.kind === 'sent') {
      changes = recordSent.run(outcome.taskId, now, now, id, lease).changes;
    } else if (outcome.kind === 'retry') {
      changes = recordRetry.run({
        id,
        lease,
        next: outcome.nextAttemptAt,
        code: outcome.code,
        error: outcome.error,
        now,
      }).changes;
    } else {
      changes = recordEnd.run({
        id,
        lease,
        status: outcome.kind,
        code: outcome.code,
        error: outcome.error,
        now,
      }).changes;
    }
    const update = recipientUpdateOf(outcome);
    if (changes > 0 && update) {
      const { status, code, taskId, sent } = update;
      setRecipients(id, status, code, taskId, sent ? now : null, now);
    }
    return changes > 0;
  };
  const recordMany = db.transaction((outcomes: readonly OutcomeToRecord[], now: number) =>
    outcomes.map((o) => recordOne(o.id, o.lease, o.outcome, now)),
  );

  const staleSending = db.prepare(STALE_SENDING_SQLITE);
  const markUnknown = db.prepare(
    `UPDATE gw_messages SET status = 'unknown', error_code = 'UNKNOWN_OUTCOME',
       error = 'the send was under way when its sender stopped (lease over): it may have reached the platform',
       updated_at = ? WHERE id = ? AND status = 'sending'`,
  );
  const expireLeases = db.transaction((now: number, cutoff: number) => {
    const ids = (staleSending.all(cutoff) as Array<{ id: string }>).map((r) => r.id);
    for (const id of ids) {
      markUnknown.run(now, id);
      setRecipients(id, 'unknown', 'UNKNOWN_OUTCOME', null, null, now);
    }
    return ids;
  });

  const sendingTo = db.prepare(SENDING_TO_SQLITE);

  const requeue = db.prepare(
    `UPDATE gw_messages SET status = 'queued', attempts = 0, next_attempt_at = @now, lease = NULL,
       lease_until = NULL, expires_at = NULL, task_id = NULL, error_code = NULL, error = NULL,
       sent_at = NULL, updated_at = @now
     WHERE id = @id AND status IN ('unknown', 'failed', 'expired')`,
  );
  const resend = db.transaction((id: string, now: number) => {
    if (!byId.get(id)) return undefined;
    if (requeue.run({ id, now }).changes === 0) return false as const;
    resetRecipients.run({ id, status: 'queued', code: null, now });
    return messageFromRow(byId.get(id) as MessageRow);
  });
  const operatorFail = db.prepare(
    `UPDATE gw_messages SET status = 'failed', error_code = 'OPERATOR', error = @reason,
       lease_until = NULL, updated_at = @now WHERE id = @id AND status IN ('queued', 'unknown')`,
  );
  const fail = db.transaction((id: string, reason: string, now: number) => {
    if (!byId.get(id)) return undefined;
    if (operatorFail.run({ id, reason, now }).changes === 0) return false as const;
    setRecipients(id, 'failed', 'OPERATOR', null, null, now);
    return messageFromRow(byId.get(id) as MessageRow);
  });

  const reportTarget = db.prepare(REPORT_TARGET_SQLITE);
  const applyReport = db.prepare(
    `UPDATE gw_recipients SET status = ?, code = ?, reported_at = ?, updated_at = ?
     WHERE account = ? AND task_id = ? AND mobile = ?`,
  );
  const applyReports = db.transaction(
    (
      account: string,
      reports: Parameters<MessageStore['applyReports']>[1],
      now: number,
    ): Array<MessageTag | undefined> =>
      reports.map((r) => {
        const tag = tagOf(reportTarget.get(account, r.taskId, r.mobile) as TagRow | undefined);
        if (tag) {
          applyReport.run(
            r.delivered ? 'delivered' : 'failed',
            r.code,
            r.at,
            now,
            account,
            r.taskId,
            r.mobile,
          );
        }
        return tag;
      }),
  );
  const lastSent = db.prepare(LAST_SENT_SQLITE);

  const insertCallback = db.prepare(
    `INSERT INTO gw_callbacks (event_id, url, body, next_attempt_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, url) DO NOTHING`,
  );
  const enqueueCallbacks = db.transaction(
    (callbacks: Parameters<MessageStore['enqueueCallbacks']>[0], now: number) => {
      for (const c of callbacks) insertCallback.run(c.eventId, c.url, c.body, now, now, now);
    },
  );
  const dueCallbacks = byLimit(
    db,
    `SELECT rowid, event_id, url, body, attempts FROM gw_callbacks
     WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ${LIMIT}`,
  );
  const leaseCallback = db.prepare(
    'UPDATE gw_callbacks SET next_attempt_at = ?, lease = ? WHERE rowid = ?',
  );
  const claimCallbacks = db.transaction(
    (o: { limit: number; now: number; leaseMs: number }): ClaimedCallback[] => {
      const lease = newLeaseToken();
      const rows = dueCallbacks(o.limit).all(o.now) as Array<{
        rowid: number;
        event_id: string;
        url: string;
        body: string;
        attempts: number;
      }>;
      return rows.map((row) => {
        leaseCallback.run(o.now + o.leaseMs, lease, row.rowid);
        return {
          eventId: row.event_id,
          url: row.url,
          body: row.body,
          attempts: row.attempts,
          lease,
        };
      });
    },
  );
  const completeCallback = db.prepare(
    `UPDATE gw_callbacks SET status = @status, attempts = attempts + @failed,
       next_attempt_at = coalesce(@next, next_attempt_at),
       last_status = CASE WHEN @tried THEN @code ELSE last_status END,
       last_error = CASE WHEN @tried THEN @error ELSE last_error END,
       lease = NULL, updated_at = @now
     WHERE event_id = @event_id AND url = @url AND lease = @lease AND status = 'pending'`,
  );
  const completeCallbacks = db.transaction((results: readonly CallbackResult[], now: number) => {
    for (const r of results) {
      completeCallback.run({
        status:
          r.outcome.kind === 'delivered'
            ? 'delivered'
            : r.outcome.kind === 'dead'
              ? 'dead'
              : 'pending',
        failed: r.outcome.kind === 'delivered' || r.outcome.kind === 'defer' ? 0 : 1,
        tried: r.outcome.kind === 'defer' ? 0 : 1,
        next:
          r.outcome.kind === 'retry' || r.outcome.kind === 'defer' ? r.outcome.nextAttemptAt : null,
        code: r.status ?? null,
        error: r.error ?? null,
        now,
        event_id: r.eventId,
        url: r.url,
        lease: r.lease,
      });
    }
  });

  const selectPrunable = db.prepare(PRUNABLE_SQLITE);
  const deleteRecipients = db.prepare('DELETE FROM gw_recipients WHERE message_id = ?');
  const deleteMessage = db.prepare('DELETE FROM gw_messages WHERE id = ?');
  const deleteCallbacks = db.prepare(
    `DELETE FROM gw_callbacks WHERE status IN ('delivered', 'dead') AND updated_at < ?`,
  );
  const prune = db.transaction((before: number, limit: number) => {
    const ids = (selectPrunable.all(before, limit) as Array<{ id: string }>).map((r) => r.id);
    for (const id of ids) {
      deleteRecipients.run(id);
      deleteMessage.run(id);
    }
    deleteCallbacks.run(before);
    return ids.length;
  });

  const failoverCounts = db.prepare(FAILOVER_COUNTS_SQLITE);

  return {
    prune: ({ before, limit }) => run('pruneMessages', () => prune.immediate(before, limit)),
    failoverCounts: () => run('failoverCounts', () => failoverCounts.all() as FailoverCount[]),
    // Answered (a 202) only once the commit is on disk, as a claim is handed out.
    enqueue: (message) => run('enqueue', async () => (await enqueueSynced([message]))[0]!),
    enqueueMany: (messages) =>
      run('enqueue', () => (messages.length === 0 ? [] : enqueueSynced(messages))),
    // The console's and the API's reads: on the reader (a thread of their own on a file).
    get: (id) =>
      guard('sqlite', 'getMessage', async () => {
        const [rows, recipients] = await reader.read([
          messageByIdSql('', id),
          [recipientsOf, [id]],
        ]);
        const row = rows?.[0] as MessageRow | undefined;
        if (!row) return undefined;
        return {
          message: messageFromRow(row),
          recipients: (recipients as RecipientRow[]).map(recipientFromRow),
        };
      }),
    list: (query) =>
      guard('sqlite', 'listMessages', async () => {
        const [rows] = await reader.read([
          messagePageSql('', query, 'INDEXED BY gw_messages_leased'),
        ]);
        return (rows as MessageRow[]).map(messageFromRow);
      }),
    claim: (options) =>
      run('claimMessages', async () => {
        if (!wal) return claim.immediate(options);
        const claimed = normal(() => claim.immediate(options));
        // Not one of them is sent before its claim is on disk. (A claim that took nothing
        // committed only bookkeeping, expiries, which need no fsync of their own.)
        if (claimed.length > 0) await wal.sync();
        return claimed;
      }),
    // Without an fsync of its own (WAL + NORMAL survives a process crash): only a power cut
    // could roll an outcome back, and the claim under it is on disk, so the message would
    // come back `unknown` (never `queued`). The claim and the enqueue are synced to disk
    // before they are answered.
    record: (id, lease, outcome, now) =>
      run('recordSend', () =>
        normal(() => recordMany.immediate([{ id, lease, outcome }], now)[0]!),
      ),
    recordMany: (outcomes, now) =>
      run('recordSend', () =>
        outcomes.length === 0 ? [] : normal(() => recordMany.immediate(outcomes, now)),
      ),
    // Without an fsync of its own, as an outcome: lost in a power cut, the claim under it
    // stays on disk and the message comes back `unknown` (never sent twice).
    release: (claims, now) =>
      run('releaseMessages', () =>
        claims.length === 0 ? 0 : normal(() => release.immediate(claims, now)),
      ),
    expireLeases: (now, options) =>
      run('expireLeases', () =>
        expireLeases.immediate(now, options?.all ? Number.MAX_SAFE_INTEGER : now),
      ),
    sendingTo: (account, mobiles) =>
      run('sendingTo', () => sendingTo.get(account, JSON.stringify(mobiles)) !== undefined),
    resend: (id, now) => run('resend', () => resend.immediate(id, now)),
    fail: (id, reason, now) => run('fail', () => fail.immediate(id, reason, now)),
    applyReports: (account, reports, now) =>
      run('applyReports', () =>
        reports.length === 0 ? [] : applyReports.immediate(account, reports, now),
      ),
    lastSentTo: (account, mobiles) =>
      run('lastSentTo', () =>
        mobiles.map((mobile) => tagOf(lastSent.get(account, mobile) as TagRow | undefined)),
      ),
    enqueueCallbacks: (callbacks, now) =>
      run('enqueueCallbacks', () => {
        if (callbacks.length > 0) enqueueCallbacks.immediate(callbacks, now);
      }),
    claimCallbacks: (options) => run('claimCallbacks', () => claimCallbacks.immediate(options)),
    completeCallbacks: (results, now) =>
      run('completeCallbacks', () => {
        if (results.length > 0) completeCallbacks.immediate(results, now);
      }),
  };
}
