import type pg from 'pg';
import { checkEventIds, guard } from './errors.js';
import type { AccountLock, DeliveryResult, Store, StoreStats } from './types.js';
import { claimHolder } from './postgres-holder.js';
import { statisticsKeeper } from './postgres-statistics.js';
import { claimedFromRow, deadFromRow } from './rows.js';
import { messagesPostgresSchema, postgresMessages } from './messages-postgres.js';
import {
  type AttemptRow,
  type DeliveryStateRow,
  type EventRow,
  type OverviewRows,
  attemptFromRow,
  eventsFromRows,
  eventPageSql,
  excerpt,
  numbered,
  overviewFromRows,
  overviewSql,
  statsFromRows,
  statsSql,
  attemptsOfSql,
  eventByIdSql,
} from './console-rows.js';

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
  lease text,
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
  created_at bigint NOT NULL,
  entry_id text
);`;
}

/** Added for the console: each recorded attempt, and events listed newest first. */
function consoleSchemaSql(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.attempts (
  id bigserial PRIMARY KEY,
  event_id text NOT NULL,
  target text NOT NULL,
  at bigint NOT NULL,
  outcome text NOT NULL,
  status integer,
  latency_ms integer,
  error text,
  response text
);
DROP INDEX IF EXISTS ${s}.attempts_event;
CREATE INDEX IF NOT EXISTS attempts_event_target ON ${s}.attempts (event_id, target);
DROP INDEX IF EXISTS ${s}.attempts_at;
DROP INDEX IF EXISTS ${s}.events_created;
CREATE INDEX IF NOT EXISTS events_page ON ${s}.events (created_at, id);
CREATE INDEX IF NOT EXISTS events_account_page ON ${s}.events (account, created_at, id);
CREATE INDEX IF NOT EXISTS events_type_page ON ${s}.events (type, created_at, id);
CREATE INDEX IF NOT EXISTS attempts_target ON ${s}.attempts (target, id);
CREATE INDEX IF NOT EXISTS attempts_window ON ${s}.attempts (at) INCLUDE (target, outcome, latency_ms);
CREATE INDEX IF NOT EXISTS deliveries_unfinished ON ${s}.deliveries (status, target, event_id)
  WHERE status <> 'delivered';`;
}

/**
 * What the console counts (deliveries per target and state, \`retrying\` being pending after
 * a failed attempt; events per account), kept by statement triggers in the transaction of
 * every write. Each connection adds to rows of its own (`shard` = its backend pid), so
 * writers never wait for each other (or deadlock) on a counter; a read sums the shards.
 */
function countsSql(s: string): string {
  const deltas = (rows: string, sign: number) => `
    SELECT r.target AS name, k.state, ${sign} AS d FROM ${rows} r,
      LATERAL (VALUES (r.status), (CASE WHEN r.status = 'pending' AND r.attempts > 0 THEN 'retrying' END)) k(state)
    WHERE k.state IS NOT NULL`;
  const add = (from: string) => `
    INSERT INTO ${s}.console_counts AS c (kind, name, state, shard, n)
      SELECT kind, name, state, pg_backend_pid(), SUM(d) FROM (${from}) x GROUP BY kind, name, state
      HAVING SUM(d) <> 0
      ON CONFLICT (kind, name, state, shard) DO UPDATE SET n = c.n + excluded.n;`;
  return `
CREATE TABLE ${s}.console_counts (
  kind text NOT NULL,
  name text NOT NULL,
  state text NOT NULL,
  shard integer NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (kind, name, state, shard)
);
CREATE FUNCTION ${s}.count_deliveries() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    ${add(`SELECT 'delivery' AS kind, name, state, d FROM (${deltas('new_rows', 1)}) i`)}
  ELSIF TG_OP = 'DELETE' THEN
    ${add(`SELECT 'delivery' AS kind, name, state, d FROM (${deltas('old_rows', -1)}) o`)}
  ELSE
    ${add(`SELECT 'delivery' AS kind, name, state, d FROM (
      ${deltas(
        `(SELECT o.* FROM old_rows o JOIN new_rows n USING (event_id, target)
          WHERE o.status <> n.status OR (o.attempts > 0) <> (n.attempts > 0))`,
        -1,
      )}
      UNION ALL
      ${deltas(
        `(SELECT n.* FROM old_rows o JOIN new_rows n USING (event_id, target)
          WHERE o.status <> n.status OR (o.attempts > 0) <> (n.attempts > 0))`,
        1,
      )}) u`)}
  END IF;
  RETURN NULL;
END $fn$;
CREATE FUNCTION ${s}.count_events() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    ${add(`SELECT 'events' AS kind, account AS name, '' AS state, 1 AS d FROM new_rows`)}
  ELSE
    ${add(`SELECT 'events' AS kind, account AS name, '' AS state, -1 AS d FROM old_rows`)}
  END IF;
  RETURN NULL;
END $fn$;
CREATE TRIGGER deliveries_counted_insert AFTER INSERT ON ${s}.deliveries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_deliveries();
CREATE TRIGGER deliveries_counted_update AFTER UPDATE ON ${s}.deliveries
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_deliveries();
CREATE TRIGGER deliveries_counted_delete AFTER DELETE ON ${s}.deliveries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_deliveries();
CREATE FUNCTION ${s}.count_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  DELETE FROM ${s}.console_counts WHERE kind = TG_ARGV[0];
  RETURN NULL;
END $fn$;
CREATE TRIGGER deliveries_counted_truncate AFTER TRUNCATE ON ${s}.deliveries
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_truncate('delivery');
CREATE TRIGGER events_counted_truncate AFTER TRUNCATE ON ${s}.events
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_truncate('events');
CREATE TRIGGER events_counted_insert AFTER INSERT ON ${s}.events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_events();
CREATE TRIGGER events_counted_delete AFTER DELETE ON ${s}.events
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_events();
INSERT INTO ${s}.console_counts (kind, name, state, shard, n)
  SELECT 'delivery', target, status, 0, COUNT(*) FROM ${s}.deliveries GROUP BY target, status;
INSERT INTO ${s}.console_counts (kind, name, state, shard, n)
  SELECT 'delivery', target, 'retrying', 0, COUNT(*) FROM ${s}.deliveries
  WHERE status = 'pending' AND attempts > 0 GROUP BY target;
INSERT INTO ${s}.console_counts (kind, name, state, shard, n)
  SELECT 'events', account, '', 0, COUNT(*) FROM ${s}.events GROUP BY account;`;
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
  // `application_name` in the URL (or PGAPPNAME) wins over the fallback.
  const connection = {
    connectionString: options.connectionString,
    fallback_application_name: 'sms-relay',
  };
  // The relay's statements are short index walks, where a parallel plan's worker start-up
  // costs more than it saves (the console's events with a dead delivery, 1,000,000 events:
  // 60-120 ms parallel, 22 ms serial). An `options` in the URL wins over this one.
  const pool: pg.Pool = new pgModule.Pool({
    ...connection,
    max: options.max ?? 10,
    options: '-c max_parallel_workers_per_gather=0',
  });
  // An idle client that dies must not crash the process; the pool drops it and connects anew.
  pool.on('error', () => {});
  const lockClients = new Set<pg.Client>();
  const waiting = new Map<string, { client: pg.Client; lost: Promise<void> }>();

  const holder = claimHolder(pgModule, connection, schema);
  const statistics = statisticsKeeper(async () => {
    await pool.query(`ANALYZE ${s}.deliveries`);
    const { rows } = await pool.query<{ estimate: number }>(
      'SELECT reltuples::float8 AS estimate FROM pg_class WHERE oid = $1::regclass',
      [`${s}.deliveries`],
    );
    return rows[0]?.estimate ?? 0;
  });
  let freedAt = 0;
  /** Frees the deliveries whose holder's lock is gone (at most once a second). */
  async function freeDeadHolders(now: number): Promise<void> {
    if (now - freedAt < 1000) return;
    freedAt = now;
    await pool.query(
      `UPDATE ${s}.deliveries SET lease = NULL, next_attempt_at = $1
       WHERE status = 'pending' AND lease IS NOT NULL AND next_attempt_at > $1
         AND ${holder.isGone('lease', '$2')}`,
      [now, holder.prefix],
    );
  }

  /** The dedicated connection an account's poll lock is (or will be) held on. */
  async function sessionFor(account: string) {
    const existing = waiting.get(account);
    if (existing) return existing;
    const client: pg.Client = new pgModule.Client(connection);
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

  /**
   * Checks a client out of the pool for `work`. While it is out, the pool's own 'error'
   * listener is off: without one of ours, a backend that dies mid-transaction (terminated,
   * restarted, network cut) would emit an unhandled 'error' and crash the process. A client
   * that errored, or that `work` calls `broken` on, goes back with the error, so the pool
   * destroys it instead of handing it out again.
   */
  async function withClient<T>(
    work: (client: pg.PoolClient, broken: (error: unknown) => void) => Promise<T>,
  ): Promise<T> {
    const client = await pool.connect();
    let failure: Error | undefined;
    const broken = (error: unknown) => {
      failure ??= error instanceof Error ? error : new Error(String(error));
    };
    client.on('error', broken);
    try {
      return await work(client, broken);
    } catch (error) {
      // The backend reports its own death (terminated, shutting down) before the socket
      // closes: the client must not go back to the pool as if it were fine.
      if (connectionLost(error)) broken(error);
      throw error;
    } finally {
      client.off('error', broken);
      client.release(failure ?? false);
    }
  }

  /** One transaction; if even ROLLBACK fails, the connection is in no state to be reused. */
  function tx<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return withClient(async (client, broken) => {
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(broken);
        throw error;
      }
    });
  }

  const run = <T>(operation: string, work: () => Promise<T>) => guard('postgres', operation, work);

  /** Brings a schema made by an earlier version up to date (under the init lock). */
  async function migrate(client: pg.PoolClient): Promise<void> {
    // Checked first: ALTER TABLE takes an exclusive lock even when there is nothing to add.
    const { rows } = await client.query(
      `SELECT 1 FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = 'deliveries' AND column_name = 'lease'`,
      [schema],
    );
    if (rows.length === 0) {
      await client.query(`ALTER TABLE ${s}.deliveries ADD COLUMN IF NOT EXISTS lease text`);
    }
    const { rows: entryIndex } = await client.query(
      `SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = 'quarantine_entry'`,
      [schema],
    );
    if (entryIndex.length === 0) {
      await client.query(`ALTER TABLE ${s}.quarantine ADD COLUMN IF NOT EXISTS entry_id text`);
      // Rows without an entry (NULL) are all distinct.
      await client.query(
        `CREATE UNIQUE INDEX IF NOT EXISTS quarantine_entry ON ${s}.quarantine (entry_id)`,
      );
    }
  }

  /**
   * Adds the console's counters to a schema made before them: writers wait (SHARE ROW
   * EXCLUSIVE) while the triggers are added and the rows there are counted, so each row is
   * counted once. Then folds the counters of connections that are gone into shard 0.
   */
  async function addConsoleCounts(client: pg.PoolClient): Promise<void> {
    const { rows } = await client.query(
      `SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'console_counts'`,
      [schema],
    );
    if (rows.length === 0) {
      await client.query('BEGIN');
      try {
        await client.query(`LOCK TABLE ${s}.events, ${s}.deliveries IN SHARE ROW EXCLUSIVE MODE`);
        await client.query(countsSql(s));
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    }
    // Best effort: a fold that loses a race with a writer is simply done at the next start.
    await client
      .query(
        `WITH gone AS (
           DELETE FROM ${s}.console_counts
           WHERE shard <> 0 AND shard NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
           RETURNING kind, name, state, n)
         INSERT INTO ${s}.console_counts AS c (kind, name, state, shard, n)
           SELECT kind, name, state, 0, SUM(n) FROM gone GROUP BY kind, name, state
           ON CONFLICT (kind, name, state, shard) DO UPDATE SET n = c.n + excluded.n`,
      )
      .catch(() => {});
  }

  /** The events with their deliveries, read in one more query. */
  async function withDeliveries(rows: EventRow[]) {
    if (rows.length === 0) return [];
    const { rows: deliveries } = await pool.query<DeliveryStateRow>(
      `SELECT d.event_id, d.target, d.status, d.attempts, d.last_status, d.last_error,
              d.next_attempt_at, d.updated_at, d.delivered_at,
              (SELECT COUNT(*) FROM ${s}.attempts a
                WHERE a.event_id = d.event_id AND a.target = d.target) AS tries
       FROM ${s}.deliveries d WHERE d.event_id = ANY($1::text[]) ORDER BY d.target`,
      [rows.map((r) => r.id)],
    );
    return eventsFromRows(rows, deliveries);
  }

  const store: Store = {
    kind: 'postgres',
    messages: postgresMessages({ pool, s, tx, holder }),
    init() {
      return run('init', () =>
        withClient(async (client, broken) => {
          // Replicas starting together would race on CREATE ... IF NOT EXISTS.
          await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [
            `sms-relay-init:${schema}`,
          ]);
          try {
            await client.query(schemaSql(s));
            await client.query(consoleSchemaSql(s));
            await migrate(client);
            await addConsoleCounts(client);
            await client.query(messagesPostgresSchema(s));
            // The claims in flight, for finding those of a replica that died.
            await client.query(
              `CREATE INDEX IF NOT EXISTS deliveries_leased ON ${s}.deliveries (next_attempt_at)
               WHERE lease IS NOT NULL AND status = 'pending'`,
            );
          } finally {
            // A session lock left on a pooled connection would block every later init:
            // if it cannot be unlocked, the connection goes (and the lock with it).
            await client
              .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [
                `sms-relay-init:${schema}`,
              ])
              .catch(broken);
          }
        }),
      );
    },
    insertBatch(batch) {
      return run('insertBatch', async () => {
        checkEventIds(batch.events);
        if (batch.events.length === 0) return [];
        // One statement, so one transaction: events whose id is already stored are skipped,
        // and only the events inserted now get deliveries.
        const { rows } = await withClient((client) =>
          client.query<{ id: string }>(
            `WITH fresh AS (
               INSERT INTO ${s}.events (id, type, account, body, created_at)
               SELECT id, type, $3, body, $4
               FROM unnest($1::text[], $2::text[], $5::text[]) AS x(id, type, body)
               ON CONFLICT (id) DO NOTHING
               RETURNING id
             ), deliveries AS (
               INSERT INTO ${s}.deliveries (event_id, target, next_attempt_at, updated_at)
               SELECT fresh.id, t.name, $4, $4 FROM fresh CROSS JOIN unnest($6::text[]) AS t(name)
               ON CONFLICT (event_id, target) DO NOTHING
             )
             SELECT id FROM fresh`,
            [
              batch.events.map((e) => e.id),
              batch.events.map((e) => e.type),
              batch.account,
              batch.now,
              batch.events.map((e) => e.body),
              [...batch.targets],
            ],
          ),
        );
        statistics.added(rows.length * batch.targets.length);
        const fresh = new Set(rows.map((row) => row.id));
        return batch.events.map((e) => e.id).filter((id) => fresh.delete(id));
      });
    },
    quarantine(entry) {
      return run('quarantine', async () => {
        // One row per journal entry: a commit repeated after a crash finds it there.
        await pool.query(
          `INSERT INTO ${s}.quarantine (account, kind, http_status, content_type, body, error, created_at, entry_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (entry_id) DO NOTHING`,
          [
            entry.account,
            entry.kind,
            entry.httpStatus,
            entry.contentType ?? null,
            entry.body,
            entry.error,
            entry.now,
            entry.entryId ?? null,
          ],
        );
      });
    },
    claim({ limit, now, leaseMs, targets }) {
      return run('claim', async () => {
        const lease = await holder.lease();
        await freeDeadHolders(now);
        // The leased rows are found by their event ids (the primary key's first column): joined
        // to `due` directly, the planner hashed the whole table for every claim (a sequential
        // scan of all deliveries: 30-45 against 12 ms for 256 of 20,000, bench/README.md).
        const { rows } = await pool.query(
          `WITH due AS (
             SELECT d.event_id, d.target FROM ${s}.deliveries d
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1
               AND d.target NOT IN (SELECT name FROM ${s}.targets WHERE disabled_at IS NOT NULL)
               AND ($4::text[] IS NULL OR d.target = ANY($4::text[]))
             ORDER BY d.next_attempt_at LIMIT $2
             FOR UPDATE SKIP LOCKED
           ), leased AS (
             UPDATE ${s}.deliveries d SET next_attempt_at = $3, lease = $5
             WHERE d.event_id = ANY(ARRAY(SELECT event_id FROM due))
               AND (d.event_id, d.target) IN (SELECT event_id, target FROM due)
             RETURNING d.event_id, d.target, d.attempts, d.lease
           )
           SELECT l.event_id, l.target, l.attempts, l.lease, e.type, e.account, e.body, e.created_at
           FROM leased l JOIN ${s}.events e ON e.id = l.event_id`,
          [now, limit, now + leaseMs, targets === undefined ? null : [...targets], lease],
        );
        return rows.map(claimedFromRow);
      });
    },
    complete(results: readonly DeliveryResult[], now) {
      return run('complete', async () => {
        if (results.length === 0) return;
        const gone = [
          ...new Set(results.filter((r) => r.outcome.kind === 'gone').map((r) => r.target)),
        ];
        // One statement (atomic on its own, one round trip) unless a target must be disabled too.
        const within = <T>(work: (client: Pick<pg.PoolClient, 'query'>) => Promise<T>) =>
          gone.length === 0 ? work(pool) : tx(work);
        await within(async (client) => {
          // A result counts only under the lease it was claimed with, and spends it; each
          // one that counts (but a release, which was not attempted) is kept as an attempt.
          await client.query(
            `WITH done AS (UPDATE ${s}.deliveries d SET
               status = CASE v.kind WHEN 'delivered' THEN 'delivered' WHEN 'dead' THEN 'dead' ELSE 'pending' END,
               attempts = d.attempts + CASE WHEN v.kind IN ('retry', 'dead') THEN 1 ELSE 0 END,
               next_attempt_at = CASE v.kind WHEN 'retry' THEN v.next WHEN 'gone' THEN $7 WHEN 'release' THEN $7 ELSE d.next_attempt_at END,
               last_status = v.code,
               last_error = CASE WHEN v.kind = 'delivered' THEN NULL ELSE v.err END,
               delivered_at = CASE WHEN v.kind = 'delivered' THEN $7 ELSE d.delivered_at END,
               updated_at = $7,
               lease = NULL
             FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::int[], $6::text[], $8::text[], $9::int[], $10::text[])
               AS v(event_id, target, kind, next, code, err, lease, latency, response)
             WHERE d.event_id = v.event_id AND d.target = v.target
               AND d.status = 'pending' AND d.lease = v.lease
             RETURNING d.event_id, d.target, v.kind, v.code, v.latency, v.err, v.response)
             INSERT INTO ${s}.attempts (event_id, target, at, outcome, status, latency_ms, error, response)
             SELECT event_id, target, $7, kind, code, latency, err, response FROM done
             WHERE kind <> 'release'`,
            [
              results.map((r) => r.eventId),
              results.map((r) => r.target),
              results.map((r) => r.outcome.kind),
              results.map((r) => (r.outcome.kind === 'retry' ? r.outcome.nextAttemptAt : null)),
              results.map((r) => r.status ?? null),
              results.map((r) => r.error ?? null),
              now,
              results.map((r) => r.lease ?? null),
              results.map((r) => (r.latencyMs === undefined ? null : Math.round(r.latencyMs))),
              results.map((r) => excerpt(r.response)),
            ],
          );
          // The target answered 410 whoever holds the lease now: it is disabled either way.
          for (const target of gone) {
            await client.query(
              `INSERT INTO ${s}.targets (name, disabled_at, reason) VALUES ($1, $2, $3)
               ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason`,
              [target, now, 'HTTP 410 Gone'],
            );
          }
        });
      });
    },
    replay({ eventId, target, now }) {
      return run('replay', async () => {
        const result = await pool.query(
          `UPDATE ${s}.deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1,
             updated_at = $1, lease = NULL
           WHERE status = 'dead' AND ($2::text IS NULL OR event_id = $2) AND ($3::text IS NULL OR target = $3)`,
          [now, eventId ?? null, target ?? null],
        );
        return result.rowCount ?? 0;
      });
    },
    listDead({ limit }) {
      return run('listDead', async () => {
        const { rows } = await pool.query(
          `SELECT d.event_id, d.target, e.type, e.account, d.attempts, d.last_status, d.last_error,
                  e.created_at, d.updated_at
           FROM ${s}.deliveries d JOIN ${s}.events e ON e.id = d.event_id
           WHERE d.status = 'dead' ORDER BY d.updated_at DESC LIMIT $1`,
          [limit],
        );
        return rows.map(deadFromRow);
      });
    },
    setTargetDisabled(target, disabled, now, reason) {
      return run('setTargetDisabled', async () => {
        await pool.query(
          `INSERT INTO ${s}.targets (name, disabled_at, reason) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason`,
          [target, disabled ? now : null, disabled ? (reason ?? null) : null],
        );
      });
    },
    stats(): Promise<StoreStats> {
      return run('stats', async () => {
        const totals = statsSql(`${s}.`);
        const [counts, quarantined, disabled] = await Promise.all(
          [totals.counts, totals.quarantined, totals.disabled].map(
            async ([sql, values]) => (await pool.query(sql, [...values])).rows,
          ),
        );
        return statsFromRows(
          counts as Array<{ kind: string; state: string; n: string }>,
          (quarantined?.[0] as { n: string } | undefined)?.n ?? 0,
          disabled as Array<{ name: string }>,
        );
      });
    },
    lockAccount(account) {
      return run('lockAccount', async (): Promise<AccountLock | null> => {
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
      });
    },
    listEvents(query) {
      return run('listEvents', async () => {
        const [sql, values] = numbered(eventPageSql(`${s}.`, query));
        const { rows } = await pool.query<EventRow>(sql, [...values]);
        return withDeliveries(rows);
      });
    },
    getEvent(id) {
      return run('getEvent', async () => {
        const [sql, values] = numbered(eventByIdSql(`${s}.`, id));
        const { rows } = await pool.query<EventRow>(sql, [...values]);
        return rows.length === 0 ? null : ((await withDeliveries(rows))[0] ?? null);
      });
    },
    listAttempts(eventId) {
      return run('listAttempts', async () => {
        const [sql, values] = numbered(attemptsOfSql(`${s}.`, eventId));
        const { rows } = await pool.query<AttemptRow>(sql, [...values]);
        return rows.map(attemptFromRow);
      });
    },
    overview({ since, bucketMs }) {
      return run('overview', async () => {
        const bucket = Math.max(1, Math.floor(bucketMs));
        const from = Math.floor(since);
        const shared = overviewSql(`${s}.`);
        // One snapshot for every part (REPEATABLE READ), in one round trip: a simple query of
        // several statements (the window's bounds are integers, written in; nothing else varies).
        const statements = [
          'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
          shared.counts[0],
          shared.disabled[0],
          shared.last[0],
          shared.accounts[0],
          `SELECT target, ${from}::bigint + ((at - ${from}::bigint) / ${bucket}::bigint) * ${bucket}::bigint AS bucket,
             COUNT(*) FILTER (WHERE outcome = 'delivered') AS delivered,
             COUNT(*) FILTER (WHERE outcome <> 'delivered') AS failed,
             SUM(latency_ms) AS latency_sum, COUNT(latency_ms) AS latency_n
           FROM ${s}.attempts WHERE at >= ${from}::bigint GROUP BY 1, 2 ORDER BY 2`,
          'COMMIT',
        ];
        if (!Number.isSafeInteger(from) || !Number.isSafeInteger(bucket)) {
          throw new TypeError('[sms] overview: since and bucketMs must be numbers');
        }
        const results = await withClient(async (client) => {
          try {
            return (await client.query(statements.join(';\n'))) as unknown as pg.QueryResult[];
          } catch (error) {
            // A statement that failed left the transaction open and aborted: end it here.
            await client.query('ROLLBACK').catch(() => {});
            throw error;
          }
        });
        const rows = (i: number) => results[i]?.rows ?? [];
        return overviewFromRows({
          counts: rows(1) as OverviewRows['counts'],
          disabled: rows(2) as OverviewRows['disabled'],
          last: rows(3) as OverviewRows['last'],
          accounts: rows(4) as OverviewRows['accounts'],
          activity: rows(5) as OverviewRows['activity'],
        });
      });
    },
    prune({ before, limit }) {
      return run('prune', async () => {
        const result = await pool.query(
          `WITH old AS (
             SELECT e.id FROM ${s}.events e
             WHERE e.created_at < $1
               AND NOT EXISTS (SELECT 1 FROM ${s}.deliveries d WHERE d.event_id = e.id AND d.status <> 'delivered')
             LIMIT $2
           ), gone AS (
             DELETE FROM ${s}.deliveries WHERE event_id IN (SELECT id FROM old)
           ), tried AS (
             DELETE FROM ${s}.attempts WHERE event_id IN (SELECT id FROM old)
           )
           DELETE FROM ${s}.events WHERE id IN (SELECT id FROM old)`,
          [before, limit],
        );
        return result.rowCount ?? 0;
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      const clients = [...lockClients, ...[...waiting.values()].map((w) => w.client)];
      lockClients.clear();
      waiting.clear();
      await Promise.all(clients.map((client) => client.end().catch(() => {})));
      await holder.close();
      await statistics.settle();
      await pool.end();
    },
  };
  return store;
}

/** FATAL errors, and the SQLSTATE classes of lost connections (08) and operator intervention (57P). */
function connectionLost(error: unknown): boolean {
  const { severity, code } = (error ?? {}) as { severity?: unknown; code?: unknown };
  if (severity === 'FATAL' || severity === 'PANIC') return true;
  return typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'));
}
