import type pg from 'pg';
import type { ClaimHolder } from './postgres-holder.js';
import { messageByIdSql, messagePageSql, numbered } from './console-rows.js';
import { guard } from './errors.js';
import {
  type FailoverCount,
  type Enqueued,
  type ClaimedRow,
  type MessageRow,
  claimedFromRow,
  type MessageStore,
  type MessageTag,
  type NewMessage,
  type OutcomeToRecord,
  type RecipientRow,
  type SendOutcome,
  type StoredMessage,
  messageFromRow,
  recipientFromRow,
  recipientUpdateOf,
  storedFromNew,
} from './messages.js';

/**
 * Whether a number of an account is in a message being sent: from the messages being sent (few:
 * at most the senders' windows, in `gw_messages_sending`), then their numbers by primary key
 * (exported for its plan's test).
 */
export const sendingToPostgres = (s: string) =>
  `SELECT 1 FROM ${s}.gw_messages m JOIN ${s}.gw_recipients r ON r.message_id = m.id
   WHERE m.status = 'sending' AND r.account = $1 AND r.mobile = ANY($2::text[]) LIMIT 1`;

/** Each number's last message sent, through the index of sent numbers (exported for its plan's test). */
export const lastSentPostgres = (s: string) =>
  `SELECT DISTINCT ON (r.mobile) r.mobile, m.id AS message_id, m.metadata, m.callback_url
   FROM ${s}.gw_recipients r JOIN ${s}.gw_messages m ON m.id = r.message_id
   WHERE r.account = $1 AND r.mobile = ANY($2::text[]) AND r.sent_at IS NOT NULL
   ORDER BY r.mobile, r.sent_at DESC`;

/** The gateway's tables (created with IF NOT EXISTS under the store's init lock). */
export function messagesPostgresSchema(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.gw_messages (
  id text PRIMARY KEY,
  idem_key text UNIQUE,
  request_hash text NOT NULL,
  account text NOT NULL,
  mobiles text NOT NULL,
  content text NOT NULL,
  send_at bigint,
  ext_no text NOT NULL,
  metadata text,
  callback_url text,
  expires_at bigint,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  lease text,
  lease_until bigint,
  task_id text,
  error_code text,
  error text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  sent_at bigint
);
ALTER TABLE ${s}.gw_messages ADD COLUMN IF NOT EXISTS route text;
ALTER TABLE ${s}.gw_messages ADD COLUMN IF NOT EXISTS route_attempts text;
CREATE INDEX IF NOT EXISTS gw_messages_failovers ON ${s}.gw_messages (account) WHERE route_attempts IS NOT NULL;
-- The claim's order, whole: with only next_attempt_at indexed, each claim read and sorted every
-- due message (2,000 queued: 2,000 rows sorted for a claim of 8).
CREATE INDEX IF NOT EXISTS gw_messages_due_fifo ON ${s}.gw_messages (account, next_attempt_at, created_at)
  WHERE status = 'queued';
DROP INDEX IF EXISTS ${s}.gw_messages_due;
CREATE INDEX IF NOT EXISTS gw_messages_sending ON ${s}.gw_messages (lease_until) WHERE status = 'sending';
-- Each claim expires what ran out of time first: without this it read the whole table.
CREATE INDEX IF NOT EXISTS gw_messages_expiring ON ${s}.gw_messages (expires_at)
  WHERE status = 'queued' AND expires_at IS NOT NULL;
-- The console's pages by status, without the messages being sent (gw_messages_sending has
-- those): each claim's update added an entry to it for nothing.
CREATE INDEX IF NOT EXISTS gw_messages_status_page_not_sending ON ${s}.gw_messages (status, id)
  WHERE status <> 'sending';
DROP INDEX IF EXISTS ${s}.gw_messages_status_page;
CREATE INDEX IF NOT EXISTS gw_messages_account_page ON ${s}.gw_messages (account, id);
CREATE TABLE IF NOT EXISTS ${s}.gw_recipients (
  message_id text NOT NULL REFERENCES ${s}.gw_messages(id),
  position integer NOT NULL,
  mobile text NOT NULL,
  account text NOT NULL,
  task_id text,
  status text NOT NULL,
  code text,
  sent_at bigint,
  reported_at bigint,
  updated_at bigint NOT NULL,
  PRIMARY KEY (message_id, mobile)
);
-- Reports find their recipient by task id: one not yet sent has none, and no entry.
CREATE INDEX IF NOT EXISTS gw_recipients_sent_task ON ${s}.gw_recipients (account, task_id, mobile)
  WHERE task_id IS NOT NULL;
DROP INDEX IF EXISTS ${s}.gw_recipients_task;
-- A reply's last message sent to its number: only sent recipients have an entry (written once,
-- when sent; a queued one had an entry written at its POST and another when it was sent).
CREATE INDEX IF NOT EXISTS gw_recipients_sent_mobile ON ${s}.gw_recipients (account, mobile, sent_at)
  WHERE sent_at IS NOT NULL;
DROP INDEX IF EXISTS ${s}.gw_recipients_mobile;
CREATE TABLE IF NOT EXISTS ${s}.gw_callbacks (
  event_id text NOT NULL,
  url text NOT NULL,
  body text NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  lease text,
  last_status integer,
  last_error text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (event_id, url)
);
CREATE INDEX IF NOT EXISTS gw_callbacks_due ON ${s}.gw_callbacks (next_attempt_at) WHERE status = 'pending';`;
}

interface TagRow {
  message_id: string;
  metadata: string | null;
  callback_url: string | null;
}
const tagOf = (row: TagRow | undefined): MessageTag | undefined =>
  row && { messageId: row.message_id, metadata: row.metadata, callbackUrl: row.callback_url };

/**
 * A claim, in one statement (atomic on its own): the expired go `expired` with their numbers,
 * and the oldest due (never an expired one) go `sending`, read from `gw_messages_due_fifo` in
 * the claim's order, so a claim reads what it takes, however long the queue. $1 account, $2
 * now, $3 limit, $4 lease, $5 lease end. Exported for its plan's test.
 */
export function claimMessagesSql(s: string): string {
  return `WITH expired AS (
     UPDATE ${s}.gw_messages SET status = 'expired', error_code = 'EXPIRED',
       error = 'not sent before its ttl ran out', updated_at = $2
     WHERE id IN (
       SELECT id FROM ${s}.gw_messages
       WHERE status = 'queued' AND expires_at IS NOT NULL AND expires_at <= $2
       FOR UPDATE SKIP LOCKED)
     RETURNING id
   ), expired_numbers AS (
     UPDATE ${s}.gw_recipients SET status = 'expired', code = 'EXPIRED', updated_at = $2
     WHERE message_id IN (SELECT id FROM expired) AND status NOT IN ('delivered', 'failed')
   ), due AS (
     SELECT id FROM ${s}.gw_messages
     WHERE account = $1 AND status = 'queued' AND next_attempt_at <= $2
       AND (expires_at IS NULL OR expires_at > $2)
     ORDER BY next_attempt_at, created_at LIMIT $3
     FOR UPDATE SKIP LOCKED
   )
   UPDATE ${s}.gw_messages m SET status = 'sending', lease = $4, lease_until = $5,
     attempts = m.attempts + 1, updated_at = $2
   FROM due WHERE m.id = due.id
   RETURNING m.id, m.lease, m.account, m.mobiles, m.content, m.send_at, m.ext_no, m.attempts,
     m.route`;
}

/**
 * A batch of `sent` outcomes, messages and their numbers, in ONE statement (atomic on its
 * own): one round trip and one commit. $1 ids, $2 leases, $3 task ids, $4 now. The messages
 * are found through the primary key: the status check is kept off the indexes (`IS TRUE`),
 * or a planner without statistics read every `sending` and `unknown` entry of the status
 * index, stale ones included (2,000 for a batch of 8 after a drain). Exported for its plan's
 * test.
 */
export function recordSentSql(s: string): string {
  return `WITH m AS (
     UPDATE ${s}.gw_messages m SET status = 'sent', task_id = v.task_id, sent_at = $4,
       error_code = NULL, error = NULL, lease_until = NULL, updated_at = $4
     FROM unnest($1::text[], $2::text[], $3::text[]) AS v(id, lease, task_id)
     WHERE m.id = ANY($1::text[]) AND m.id = v.id AND m.lease = v.lease
       AND (m.status IN ('sending', 'unknown')) IS TRUE
     RETURNING m.id, m.lease, v.task_id
   ), r AS (
     UPDATE ${s}.gw_recipients r SET status = 'sent', code = NULL, task_id = m.task_id,
       sent_at = $4, updated_at = $4
     FROM m WHERE r.message_id = m.id AND r.status NOT IN ('delivered', 'failed')
   )
   SELECT id, lease FROM m`;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

export interface PostgresMessagesOptions {
  pool: pg.Pool;
  /** The quoted schema name. */
  s: string;
  /** Runs `work` in one transaction on one pooled connection. */
  tx: <T>(work: (client: pg.PoolClient) => Promise<T>) => Promise<T>;
  /** This process as a claim holder: a dead replica's sends and callbacks are known at once. */
  holder: ClaimHolder;
}

/**
 * The gateway's tables in the relay's PostgreSQL schema. Replicas claim queued messages
 * with `FOR UPDATE SKIP LOCKED`: each message is `sending` under one replica's lease, and
 * only `queued` ones are ever claimed, so no two replicas send the same message.
 */
export function postgresMessages({ pool, s, tx, holder }: PostgresMessagesOptions): MessageStore {
  const run = <T>(operation: string, work: () => Promise<T>) => guard('postgres', operation, work);

  const setRecipients = (
    db: Queryable,
    values: {
      id: string;
      status: string;
      code: string | null;
      taskId?: string | null;
      sentAt?: number | null;
      now: number;
    },
  ) =>
    db.query(
      `UPDATE ${s}.gw_recipients SET status = $2, code = $3, task_id = coalesce($4, task_id),
         sent_at = coalesce($5, sent_at), updated_at = $6
       WHERE message_id = $1 AND status NOT IN ('delivered', 'failed')`,
      [
        values.id,
        values.status,
        values.code,
        values.taskId ?? null,
        values.sentAt ?? null,
        values.now,
      ],
    );

  const getRow = async (db: Queryable, id: string) => {
    const [sql, values] = numbered(messageByIdSql(`${s}.`, id));
    return (await db.query<MessageRow>(sql, [...values])).rows[0];
  };

  /**
   * One transaction, three statements whatever the count: the messages (a key already
   * stored, or taken by an earlier message of the batch, inserts nothing), their numbers,
   * and the stored messages of the keys that inserted nothing.
   */
  const enqueueMany = async (messages: readonly NewMessage[]): Promise<Enqueued[]> => {
    // A key repeated in the batch: only its first message is inserted (the later ones
    // answer it, as they would one after another).
    const firstOfKey = new Set<string>();
    const fresh = messages.filter((m) => {
      if (m.idempotencyKey === null) return true;
      if (firstOfKey.has(m.idempotencyKey)) return false;
      firstOfKey.add(m.idempotencyKey);
      return true;
    });
    // One statement (atomic on its own, one round trip, one commit): the messages (a key
    // already stored inserts nothing) and the numbers of those inserted.
    // Named: prepared once per connection, not parsed and planned again for every group.
    const inserted = await pool.query<{ id: string }>({
      name: 'gw_enqueue',
      text: `WITH m AS (
         INSERT INTO ${s}.gw_messages (id, idem_key, request_hash, account, mobiles, content,
           send_at, ext_no, metadata, callback_url, expires_at, status, next_attempt_at,
           created_at, updated_at, route)
         SELECT id, idem_key, request_hash, account, mobiles, content, send_at, ext_no, metadata,
           callback_url, expires_at, 'queued', now, now, now, route
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
           $7::bigint[], $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::text[])
           AS v(id, idem_key, request_hash, account, mobiles, content, send_at, ext_no, metadata,
             callback_url, expires_at, now, route)
         ON CONFLICT (idem_key) DO NOTHING
         RETURNING id, account, mobiles, created_at
       ), r AS (
         INSERT INTO ${s}.gw_recipients (message_id, position, mobile, account, status, updated_at)
         SELECT m.id, t.position, t.mobile, m.account, 'queued', m.created_at
         FROM m, LATERAL jsonb_array_elements_text(m.mobiles::jsonb) WITH ORDINALITY AS t(mobile, position)
       )
       SELECT id FROM m`,
      values: [
        fresh.map((m) => m.id),
        fresh.map((m) => m.idempotencyKey),
        fresh.map((m) => m.requestHash),
        fresh.map((m) => m.account),
        fresh.map((m) => JSON.stringify(m.mobiles)),
        fresh.map((m) => m.content),
        fresh.map((m) => m.sendAt),
        fresh.map((m) => m.extNo),
        fresh.map((m) => m.metadata),
        fresh.map((m) => m.callbackUrl),
        fresh.map((m) => m.expiresAt),
        fresh.map((m) => m.now),
        fresh.map((m) => (m.route && m.route.length > 0 ? JSON.stringify(m.route) : null)),
      ],
    });
    const created = new Set(inserted.rows.map((r) => r.id));
    // The key's first request committed before ours (the insert waited on its row, or it
    // came earlier): its stored message is the answer.
    const taken = [
      ...new Set(messages.filter((m) => !created.has(m.id)).map((m) => m.idempotencyKey as string)),
    ];
    const existing = new Map<string, StoredMessage>();
    if (taken.length > 0) {
      const { rows } = await pool.query<MessageRow>(
        `SELECT * FROM ${s}.gw_messages WHERE idem_key = ANY($1::text[])`,
        [taken],
      );
      for (const row of rows) existing.set(row.idem_key!, messageFromRow(row));
    }
    return messages.map((m) =>
      created.has(m.id)
        ? { message: storedFromNew(m), created: true }
        : { message: existing.get(m.idempotencyKey!)!, created: false },
    );
  };

  const recordOne = async (
    client: Queryable,
    id: string,
    lease: string,
    outcome: SendOutcome,
    now: number,
  ): Promise<boolean> => {
    let count: number;
    if (outcome.kind === 'failover') {
      const current = await client.query<{ route_attempts: string | null }>(
        `SELECT route_attempts FROM ${s}.gw_messages
               WHERE id = $1 AND lease = $2 AND status = 'sending' FOR UPDATE`,
        [id, lease],
      );
      const row = current.rows[0];
      if (!row) return false;
      const failovers = row.route_attempts ? (JSON.parse(row.route_attempts) as unknown[]) : [];
      failovers.push({ account: outcome.from, code: outcome.code });
      const r = await client.query(
        `UPDATE ${s}.gw_messages SET status = 'queued', account = $3, route = $4,
                 route_attempts = $5, next_attempt_at = $6, error_code = $7, error = $8,
                 lease = NULL, lease_until = NULL, updated_at = $6
               WHERE id = $1 AND lease = $2 AND status = 'sending'`,
        [
          id,
          lease,
          outcome.account,
          JSON.stringify(outcome.route),
          JSON.stringify(failovers),
          now,
          outcome.code,
          outcome.error,
        ],
      );
      count = r.rowCount ?? 0;
      if (count > 0) {
        await client.query(
          `UPDATE ${s}.gw_recipients SET account = $2, updated_at = $3 WHERE message_id = $1`,
          [id, outcome.account, now],
        );
      }
      return count > 0;
    }
    if (outcome.kind === 'sent') {
      const r = await client.query(
        `UPDATE ${s}.gw_messages SET status = 'sent', task_id = $3, sent_at = $4,
                 error_code = NULL, error = NULL, lease_until = NULL, updated_at = $4
               WHERE id = $1 AND lease = $2 AND status IN ('sending', 'unknown')`,
        [id, lease, outcome.taskId, now],
      );
      count = r.rowCount ?? 0;
    } else if (outcome.kind === 'retry') {
      const r = await client.query(
        `UPDATE ${s}.gw_messages SET status = 'queued', next_attempt_at = $3, error_code = $4,
                 error = $5, lease = NULL, lease_until = NULL, updated_at = $6
               WHERE id = $1 AND lease = $2 AND status = 'sending'`,
        [id, lease, outcome.nextAttemptAt, outcome.code, outcome.error, now],
      );
      count = r.rowCount ?? 0;
    } else {
      const r = await client.query(
        `UPDATE ${s}.gw_messages SET status = $3, error_code = $4, error = $5,
                 lease_until = NULL, updated_at = $6
               WHERE id = $1 AND lease = $2 AND status = 'sending'`,
        [id, lease, outcome.kind, outcome.code, outcome.error, now],
      );
      count = r.rowCount ?? 0;
    }
    const update = recipientUpdateOf(outcome);
    if (count > 0 && update) {
      const { status, code, taskId, sent } = update;
      await setRecipients(client, { id, status, code, taskId, sentAt: sent ? now : null, now });
    }
    return count > 0;
  };

  /** Records `sent` outcomes (see recordSentSql); the `id lease` pairs recorded. */
  const recordSent = async (db: Queryable, sent: readonly OutcomeToRecord[], now: number) => {
    const { rows } = await db.query<{ id: string; lease: string }>({
      // Named: each connection plans it once.
      name: 'gw_record_sent',
      text: recordSentSql(s),
      values: [
        sent.map((o) => o.id),
        sent.map((o) => o.lease),
        sent.map((o) => (o.outcome as { taskId: string }).taskId),
        now,
      ],
    });
    return new Set(rows.map((row) => `${row.id} ${row.lease}`));
  };
  const recordSentOnly = async (outcomes: readonly OutcomeToRecord[], now: number) => {
    const recorded = await recordSent(pool, outcomes, now);
    return outcomes.map((o) => recorded.has(`${o.id} ${o.lease}`));
  };

  /** The `sent` outcomes (nearly all of them) in one statement, the others one by one. */
  const recordMany = async (
    client: Queryable,
    outcomes: readonly OutcomeToRecord[],
    now: number,
  ): Promise<boolean[]> => {
    const sent = outcomes.filter((o) => o.outcome.kind === 'sent');
    const recorded = sent.length > 0 ? await recordSent(client, sent, now) : new Set<string>();
    const answers: boolean[] = [];
    for (const o of outcomes) {
      answers.push(
        o.outcome.kind === 'sent'
          ? recorded.has(`${o.id} ${o.lease}`)
          : await recordOne(client, o.id, o.lease, o.outcome, now),
      );
    }
    return answers;
  };

  return {
    failoverCounts() {
      // Each failover went to the next one's account, the last to the message's own.
      return run('failoverCounts', async () => {
        const { rows } = await pool.query<FailoverCount & { count: string }>(
          `SELECT j.value ->> 'account' AS "from",
             coalesce((m.route_attempts::json -> j.n::int) ->> 'account', m.account) AS "to",
             j.value ->> 'code' AS code, count(*) AS count
           FROM ${s}.gw_messages m,
             json_array_elements(m.route_attempts::json) WITH ORDINALITY AS j(value, n)
           WHERE m.route_attempts IS NOT NULL
           GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        );
        return rows.map((row) => ({ ...row, count: Number(row.count) }));
      });
    },
    prune({ before, limit }) {
      return run('pruneMessages', () =>
        tx(async (client) => {
          const { rows } = await client.query<{ id: string }>(
            `SELECT id FROM ${s}.gw_messages
             WHERE status IN ('sent', 'failed', 'expired') AND status <> 'sending'
               AND updated_at < $1
             LIMIT $2 FOR UPDATE SKIP LOCKED`,
            [before, limit],
          );
          const ids = rows.map((r) => r.id);
          if (ids.length > 0) {
            await client.query(
              `DELETE FROM ${s}.gw_recipients WHERE message_id = ANY($1::text[])`,
              [ids],
            );
            await client.query(`DELETE FROM ${s}.gw_messages WHERE id = ANY($1::text[])`, [ids]);
          }
          await client.query(
            `DELETE FROM ${s}.gw_callbacks WHERE status IN ('delivered', 'dead') AND updated_at < $1`,
            [before],
          );
          return ids.length;
        }),
      );
    },
    enqueue(m) {
      return run('enqueue', async () => (await enqueueMany([m]))[0]!);
    },
    enqueueMany(messages) {
      return run('enqueue', () =>
        messages.length === 0 ? Promise.resolve([]) : enqueueMany(messages),
      );
    },
    get(id) {
      return run('getMessage', async () => {
        const row = await getRow(pool, id);
        if (!row) return undefined;
        const { rows } = await pool.query<RecipientRow>(
          `SELECT mobile, status, code, reported_at, updated_at FROM ${s}.gw_recipients
           WHERE message_id = $1 ORDER BY position`,
          [id],
        );
        return { message: messageFromRow(row), recipients: rows.map(recipientFromRow) };
      });
    },
    list(query) {
      return run('listMessages', async () => {
        const [sql, values] = numbered(messagePageSql(`${s}.`, query));
        const { rows } = await pool.query<MessageRow>(sql, [...values]);
        return rows.map(messageFromRow);
      });
    },
    claim({ account, limit, now, leaseMs }) {
      return run('claimMessages', async () => {
        const { rows } = await pool.query<ClaimedRow>({
          // Named: each connection plans it once (planning cost about as much as running it).
          name: 'gw_claim',
          text: claimMessagesSql(s),
          values: [account, now, limit, await holder.lease(), now + leaseMs],
        });
        return rows.map(claimedFromRow);
      });
    },
    release(claims, now) {
      return run('releaseMessages', async () => {
        if (claims.length === 0) return 0;
        const { rowCount } = await pool.query(
          `UPDATE ${s}.gw_messages m SET status = 'queued', lease = NULL, lease_until = NULL,
             attempts = m.attempts - 1, updated_at = $3
           FROM unnest($1::text[], $2::text[]) AS v(id, lease)
           WHERE m.id = ANY($1::text[]) AND m.id = v.id AND m.lease = v.lease
             AND m.status = 'sending'`,
          [claims.map((c) => c.id), claims.map((c) => c.lease), now],
        );
        return rowCount ?? 0;
      });
    },
    record(id, lease, outcome, now) {
      return run('recordSend', () => tx((client) => recordOne(client, id, lease, outcome, now)));
    },
    recordMany(outcomes, now) {
      return run('recordSend', () =>
        outcomes.length === 0
          ? Promise.resolve([])
          : outcomes.every((o) => o.outcome.kind === 'sent')
            ? recordSentOnly(outcomes, now)
            : tx((client) => recordMany(client, outcomes, now)),
      );
    },
    expireLeases(now, options) {
      return run('expireLeases', () =>
        tx(async (client) => {
          const { rows } = await client.query<{ id: string }>(
            `UPDATE ${s}.gw_messages SET status = 'unknown', error_code = 'UNKNOWN_OUTCOME',
               error = 'the send was under way when its sender stopped (lease over): it may have reached the platform',
               updated_at = $1
             WHERE id IN (
               SELECT id FROM ${s}.gw_messages WHERE status = 'sending'
                 AND (lease_until <= $2 OR ${holder.isGone('lease', '$3')})
               FOR UPDATE SKIP LOCKED)
             RETURNING id`,
            [now, options?.all ? Number.MAX_SAFE_INTEGER : now, holder.prefix],
          );
          for (const { id } of rows) {
            await setRecipients(client, { id, status: 'unknown', code: 'UNKNOWN_OUTCOME', now });
          }
          return rows.map((r) => r.id);
        }),
      );
    },
    sendingTo(account, mobiles) {
      return run('sendingTo', async () => {
        const { rows } = await pool.query(sendingToPostgres(s), [account, [...mobiles]]);
        return rows.length > 0;
      });
    },
    resend(id, now) {
      return run('resend', () =>
        tx(async (client) => {
          if (!(await getRow(client, id))) return undefined;
          const r = await client.query(
            `UPDATE ${s}.gw_messages SET status = 'queued', attempts = 0, next_attempt_at = $2,
               lease = NULL, lease_until = NULL, expires_at = NULL, task_id = NULL,
               error_code = NULL, error = NULL, sent_at = NULL, updated_at = $2
             WHERE id = $1 AND status IN ('unknown', 'failed', 'expired')`,
            [id, now],
          );
          if ((r.rowCount ?? 0) === 0) return false as const;
          await client.query(
            `UPDATE ${s}.gw_recipients SET status = 'queued', code = NULL, task_id = NULL,
               sent_at = NULL, reported_at = NULL, updated_at = $2 WHERE message_id = $1`,
            [id, now],
          );
          return messageFromRow((await getRow(client, id))!);
        }),
      );
    },
    fail(id, reason, now) {
      return run('fail', () =>
        tx(async (client) => {
          if (!(await getRow(client, id))) return undefined;
          const r = await client.query(
            `UPDATE ${s}.gw_messages SET status = 'failed', error_code = 'OPERATOR', error = $2,
               lease_until = NULL, updated_at = $3 WHERE id = $1 AND status IN ('queued', 'unknown')`,
            [id, reason, now],
          );
          if ((r.rowCount ?? 0) === 0) return false as const;
          await setRecipients(client, { id, status: 'failed', code: 'OPERATOR', now });
          return messageFromRow((await getRow(client, id))!);
        }),
      );
    },
    applyReports(account, reports, now) {
      return run('applyReports', async () => {
        if (reports.length === 0) return [];
        const { rows } = await pool.query<TagRow & { i: number }>(
          `WITH v AS (
             SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
               WITH ORDINALITY AS v(task_id, mobile, status, code, at, i)
           ), hit AS (
             UPDATE ${s}.gw_recipients r SET status = v.status, code = v.code, reported_at = v.at,
               updated_at = $7
             FROM v WHERE r.account = $1 AND r.task_id = v.task_id AND r.mobile = v.mobile
             RETURNING r.message_id, v.i
           )
           SELECT DISTINCT ON (hit.i) hit.i::int AS i, m.id AS message_id, m.metadata, m.callback_url
           FROM hit JOIN ${s}.gw_messages m ON m.id = hit.message_id`,
          [
            account,
            reports.map((r) => r.taskId),
            reports.map((r) => r.mobile),
            reports.map((r) => (r.delivered ? 'delivered' : 'failed')),
            reports.map((r) => r.code),
            reports.map((r) => r.at),
            now,
          ],
        );
        const tags: Array<MessageTag | undefined> = reports.map(() => undefined);
        for (const row of rows) tags[row.i - 1] = tagOf(row);
        return tags;
      });
    },
    lastSentTo(account, mobiles) {
      return run('lastSentTo', async () => {
        if (mobiles.length === 0) return [];
        const { rows } = await pool.query<TagRow & { mobile: string }>(lastSentPostgres(s), [
          account,
          [...new Set(mobiles)],
        ]);
        const byMobile = new Map(rows.map((row) => [row.mobile, tagOf(row)]));
        return mobiles.map((mobile) => byMobile.get(mobile));
      });
    },
    enqueueCallbacks(callbacks, now) {
      return run('enqueueCallbacks', async () => {
        if (callbacks.length === 0) return;
        await pool.query(
          `INSERT INTO ${s}.gw_callbacks (event_id, url, body, next_attempt_at, created_at, updated_at)
           SELECT e, u, b, $4, $4, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS v(e, u, b)
           ON CONFLICT (event_id, url) DO NOTHING`,
          [
            callbacks.map((c) => c.eventId),
            callbacks.map((c) => c.url),
            callbacks.map((c) => c.body),
            now,
          ],
        );
      });
    },
    claimCallbacks({ limit, now, leaseMs }) {
      return run('claimCallbacks', async () => {
        const lease = await holder.lease();
        const { rows } = await pool.query(
          `WITH due AS (
             SELECT event_id, url FROM ${s}.gw_callbacks
             WHERE status = 'pending'
               AND (next_attempt_at <= $1 OR (lease IS NOT NULL AND ${holder.isGone('lease', '$5')}))
             ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED
           )
           UPDATE ${s}.gw_callbacks c SET next_attempt_at = $3, lease = $4
           FROM due WHERE c.event_id = due.event_id AND c.url = due.url
           RETURNING c.event_id, c.url, c.body, c.attempts, c.lease`,
          [now, limit, now + leaseMs, lease, holder.prefix],
        );
        return rows.map((row) => ({
          eventId: row.event_id,
          url: row.url,
          body: row.body,
          attempts: row.attempts,
          lease: row.lease,
        }));
      });
    },
    completeCallbacks(results, now) {
      return run('completeCallbacks', async () => {
        if (results.length === 0) return;
        await pool.query(
          `UPDATE ${s}.gw_callbacks c SET
             status = CASE v.kind WHEN 'delivered' THEN 'delivered' WHEN 'dead' THEN 'dead' ELSE 'pending' END,
             attempts = c.attempts + CASE WHEN v.kind IN ('delivered', 'defer') THEN 0 ELSE 1 END,
             next_attempt_at = coalesce(v.next, c.next_attempt_at),
             last_status = CASE WHEN v.kind = 'defer' THEN c.last_status ELSE v.code END,
             last_error = CASE WHEN v.kind = 'defer' THEN c.last_error ELSE v.err END,
             lease = NULL, updated_at = $8
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[], $7::text[])
             AS v(event_id, url, lease, kind, next, code, err)
           WHERE c.event_id = v.event_id AND c.url = v.url AND c.lease = v.lease AND c.status = 'pending'`,
          [
            results.map((r) => r.eventId),
            results.map((r) => r.url),
            results.map((r) => r.lease),
            results.map((r) => r.outcome.kind),
            results.map((r) =>
              r.outcome.kind === 'retry' || r.outcome.kind === 'defer'
                ? r.outcome.nextAttemptAt
                : null,
            ),
            results.map((r) => r.status ?? null),
            results.map((r) => r.error ?? null),
            now,
          ],
        );
      });
    },
  };
}
