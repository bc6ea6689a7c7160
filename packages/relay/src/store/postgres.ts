import type pg from 'pg';
import { newEventId } from '../ids.js';
import type { AccountLock, DeliveryResult, Store, StoreStats } from './types.js';
import { claimedFromRow, deadFromRow } from './rows.js';

export interface PostgresStoreOptions {
  /** `postgres://user@host:5432/db`. */
  connectionString: string;
  /** Schema holding the relay's tables (created if missing). Default `sms_relay`. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function schemaSql(s: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS ${s};
CREATE TABLE IF NOT EXISTS ${s}.events (
  id text PRIMARY KEY,
  type text NOT NULL,
  account text NOT NULL,
  body text NOT NULL,
  created_at bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.deliveries (
  event_id text NOT NULL REFERENCES ${s}.events(id),
  target text NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint NOT NULL,
  last_status integer,
  last_error text,
  updated_at bigint NOT NULL,
  delivered_at bigint,
  PRIMARY KEY (event_id, target)
);
CREATE INDEX IF NOT EXISTS deliveries_due ON ${s}.deliveries (next_attempt_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS ${s}.targets (
  name text PRIMARY KEY,
  disabled_at bigint,
  reason text
);
CREATE TABLE IF NOT EXISTS ${s}.quarantine (
  id bigserial PRIMARY KEY,
  account text NOT NULL,
  kind text NOT NULL,
  http_status integer NOT NULL,
  content_type text,
  body bytea NOT NULL,
  error text NOT NULL,
  created_at bigint NOT NULL
);`;
}

/**
 * The shared store: several relay replicas on one PostgreSQL database. One replica polls
 * each account (a session-level advisory lock held on a dedicated connection: if that
 * process dies, PostgreSQL drops the lock and another replica takes over); deliveries are
 * claimed with `FOR UPDATE SKIP LOCKED` and a lease.
 */
export async function postgresStore(options: PostgresStoreOptions): Promise<Store> {
  const { default: pgModule } = await import('pg');
  const schema = options.schema ?? 'sms_relay';
  if (!IDENTIFIER.test(schema)) {
    throw new TypeError(`[sms] postgres schema must match ${IDENTIFIER}: ${schema}`);
  }
  const s = `"${schema}"`;
  const pool: pg.Pool = new pgModule.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
  });
  // An idle client that dies must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  const lockClients = new Set<pg.Client>();
  const waiting = new Map<string, { client: pg.Client; lost: Promise<void> }>();

  /** The dedicated connection an account's poll lock is (or will be) held on. */
  async function sessionFor(account: string) {
    const existing = waiting.get(account);
    if (existing) return existing;
    const client: pg.Client = new pgModule.Client({ connectionString: options.connectionString });
    let onLost: () => void = () => {};
    const lost = new Promise<void>((resolve) => {
      onLost = resolve;
    });
    const session = { client, lost };
    const die = () => {
      onLost();
      if (waiting.get(account) === session) waiting.delete(account);
    };
    client.on('error', die);
    client.on('end', die);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    waiting.set(account, session);
    return session;
  }
  let closed = false;

  async function tx<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  const store: Store = {
    kind: 'postgres',
    async init() {
      const client = await pool.connect();
      try {
        // Replicas starting together would race on CREATE ... IF NOT EXISTS.
        await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [
          `sms-relay-init:${schema}`,
        ]);
        try {
          await client.query(schemaSql(s));
        } finally {
          await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [
            `sms-relay-init:${schema}`,
          ]);
        }
      } finally {
        client.release();
      }
    },
    async insertBatch(batch) {
      const ids = batch.events.map(() => newEventId(batch.now));
      if (ids.length === 0) return ids;
      await tx(async (client) => {
        await client.query(
          `INSERT INTO ${s}.events (id, type, account, body, created_at)
           SELECT id, type, $3, body, $4 FROM unnest($1::text[], $2::text[], $5::text[]) AS x(id, type, body)`,
          [
            ids,
            batch.events.map((e) => e.type),
            batch.account,
            batch.now,
            batch.events.map((e) => e.body),
          ],
        );
        if (batch.targets.length > 0) {
          await client.query(
            `INSERT INTO ${s}.deliveries (event_id, target, next_attempt_at, updated_at)
             SELECT e.id, t.name, $3, $3 FROM unnest($1::text[]) AS e(id) CROSS JOIN unnest($2::text[]) AS t(name)`,
            [ids, batch.targets, batch.now],
          );
        }
      });
      return ids;
    },
    async quarantine(entry) {
      await pool.query(
        `INSERT INTO ${s}.quarantine (account, kind, http_status, content_type, body, error, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          entry.account,
          entry.kind,
          entry.httpStatus,
          entry.contentType ?? null,
          entry.body,
          entry.error,
          entry.now,
        ],
      );
    },
    async claim({ limit, now, leaseMs, targets }) {
      const { rows } = await pool.query(
        `WITH due AS (
           SELECT d.event_id, d.target FROM ${s}.deliveries d
           WHERE d.status = 'pending' AND d.next_attempt_at <= $1
             AND d.target NOT IN (SELECT name FROM ${s}.targets WHERE disabled_at IS NOT NULL)
             AND ($4::text[] IS NULL OR d.target = ANY($4::text[]))
           ORDER BY d.next_attempt_at LIMIT $2
           FOR UPDATE SKIP LOCKED
         ), leased AS (
           UPDATE ${s}.deliveries d SET next_attempt_at = $3
           FROM due WHERE d.event_id = due.event_id AND d.target = due.target
           RETURNING d.event_id, d.target, d.attempts
         )
         SELECT l.event_id, l.target, l.attempts, e.type, e.account, e.body, e.created_at
         FROM leased l JOIN ${s}.events e ON e.id = l.event_id`,
        [now, limit, now + leaseMs, targets === undefined ? null : [...targets]],
      );
      return rows.map(claimedFromRow);
    },
    async complete(results: readonly DeliveryResult[], now) {
      if (results.length === 0) return;
      const gone = [
        ...new Set(results.filter((r) => r.outcome.kind === 'gone').map((r) => r.target)),
      ];
      await tx(async (client) => {
        await client.query(
          `UPDATE ${s}.deliveries d SET
             status = CASE v.kind WHEN 'delivered' THEN 'delivered' WHEN 'dead' THEN 'dead' ELSE 'pending' END,
             attempts = d.attempts + CASE WHEN v.kind IN ('retry', 'dead') THEN 1 ELSE 0 END,
             next_attempt_at = CASE v.kind WHEN 'retry' THEN v.next WHEN 'gone' THEN $7 WHEN 'release' THEN $7 ELSE d.next_attempt_at END,
             last_status = v.code,
             last_error = CASE WHEN v.kind = 'delivered' THEN NULL ELSE v.err END,
             delivered_at = CASE WHEN v.kind = 'delivered' THEN $7 ELSE d.delivered_at END,
             updated_at = $7
           FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::int[], $6::text[])
             AS v(event_id, target, kind, next, code, err)
           WHERE d.event_id = v.event_id AND d.target = v.target
             AND d.status = 'pending'`,
          [
            results.map((r) => r.eventId),
            results.map((r) => r.target),
            results.map((r) => r.outcome.kind),
            results.map((r) => (r.outcome.kind === 'retry' ? r.outcome.nextAttemptAt : null)),
            results.map((r) => r.status ?? null),
            results.map((r) => r.error ?? null),
            now,
          ],
        );
        for (const target of gone) {
          await client.query(
            `INSERT INTO ${s}.targets (name, disabled_at, reason) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason`,
            [target, now, 'HTTP 410 Gone'],
          );
        }
      });
    },
    async replay({ eventId, target, now }) {
      const result = await pool.query(
        `UPDATE ${s}.deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, updated_at = $1
         WHERE status = 'dead' AND ($2::text IS NULL OR event_id = $2) AND ($3::text IS NULL OR target = $3)`,
        [now, eventId ?? null, target ?? null],
      );
      return result.rowCount ?? 0;
    },
    async listDead({ limit }) {
      const { rows } = await pool.query(
        `SELECT d.event_id, d.target, e.type, e.account, d.attempts, d.last_status, d.last_error,
                e.created_at, d.updated_at
         FROM ${s}.deliveries d JOIN ${s}.events e ON e.id = d.event_id
         WHERE d.status = 'dead' ORDER BY d.updated_at DESC LIMIT $1`,
        [limit],
      );
      return rows.map(deadFromRow);
    },
    async setTargetDisabled(target, disabled, now, reason) {
      await pool.query(
        `INSERT INTO ${s}.targets (name, disabled_at, reason) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason`,
        [target, disabled ? now : null, disabled ? (reason ?? null) : null],
      );
    },
    async stats(): Promise<StoreStats> {
      const { rows } = await pool.query(
        `SELECT
           (SELECT COUNT(*) FROM ${s}.deliveries WHERE status = 'pending')::int AS pending,
           (SELECT COUNT(*) FROM ${s}.deliveries WHERE status = 'delivered')::int AS delivered,
           (SELECT COUNT(*) FROM ${s}.deliveries WHERE status = 'dead')::int AS dead,
           (SELECT COUNT(*) FROM ${s}.events)::int AS events,
           (SELECT COUNT(*) FROM ${s}.quarantine)::int AS quarantined,
           ARRAY(SELECT name FROM ${s}.targets WHERE disabled_at IS NOT NULL ORDER BY name) AS disabled`,
      );
      const row = rows[0];
      return {
        pending: row.pending,
        delivered: row.delivered,
        dead: row.dead,
        events: row.events,
        quarantined: row.quarantined,
        disabledTargets: row.disabled,
      };
    },
    async lockAccount(account): Promise<AccountLock | null> {
      if (closed) return null;
      // A session-level advisory lock lives exactly as long as its connection: a holder that
      // dies drops it. A waiting replica keeps its session and simply tries again next time.
      const session = await sessionFor(account);
      const { rows } = await session.client.query(
        'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok',
        [`sms-relay:${schema}:${account}`],
      );
      if (!rows[0]?.ok) return null;
      waiting.delete(account);
      lockClients.add(session.client);
      return {
        lost: session.lost,
        async release() {
          if (!lockClients.delete(session.client)) return;
          await session.client.end().catch(() => {});
        },
      };
    },
    async prune({ before, limit }) {
      const result = await pool.query(
        `WITH old AS (
           SELECT e.id FROM ${s}.events e
           WHERE e.created_at < $1
             AND NOT EXISTS (SELECT 1 FROM ${s}.deliveries d WHERE d.event_id = e.id AND d.status <> 'delivered')
           LIMIT $2
         ), gone AS (
           DELETE FROM ${s}.deliveries WHERE event_id IN (SELECT id FROM old)
         )
         DELETE FROM ${s}.events WHERE id IN (SELECT id FROM old)`,
        [before, limit],
      );
      return result.rowCount ?? 0;
    },
    async close() {
      if (closed) return;
      closed = true;
      const clients = [...lockClients, ...[...waiting.values()].map((w) => w.client)];
      lockClients.clear();
      waiting.clear();
      await Promise.all(clients.map((client) => client.end().catch(() => {})));
      await pool.end();
    },
  };
  return store;
}
