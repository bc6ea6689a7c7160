import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventIdFor, newEventId, newJournalEntryId } from '../shared/ids.js';
import { waitFor } from '../test-utils/receiver.js';
import { TEST_DATABASE_URL } from '../test-utils/setup.js';
import { testStore } from '../test-utils/store-suite.js';
import { postgresStore } from './postgres.js';
import type { Store } from './types.js';

testStore('postgres', async () => {
  const schema = `relay_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  const first = await postgresStore({ connectionString: TEST_DATABASE_URL, schema, max: 4 });
  await first.init();
  await first.close();
  return {
    open: async () => {
      const store = await postgresStore({ connectionString: TEST_DATABASE_URL, schema, max: 4 });
      await store.init();
      return store;
    },
    raw: async (sql) => (await client.query(sql)).rows,
    t: (table) => `"${schema}".${table}`,
    reset: async () => {
      await client.query(
        `TRUNCATE "${schema}".attempts, "${schema}".deliveries, "${schema}".events, "${schema}".targets, "${schema}".quarantine`,
      );
    },
    dispose: async () => {
      await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      await client.end();
    },
  };
});

describe('postgres store faults', () => {
  const schema = `relay_fault_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  const stores: Store[] = [];
  const sessions: pg.Client[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  /** A store whose connections carry an application_name of their own, to find and kill them. */
  async function openStore(tag: string) {
    const app = `${schema}_${tag}`;
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('application_name', app);
    const store = await postgresStore({ connectionString: url.toString(), schema, max: 3 });
    stores.push(store);
    await store.init();
    return { store, app };
  }

  async function session() {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    client.on('error', () => {});
    await client.connect();
    sessions.push(client);
    return client;
  }

  /** The pid of the store's backend that waits for a lock, once it does. */
  async function blockedBackend(app: string): Promise<number> {
    let pid: number | undefined;
    await waitFor(
      async () => {
        const { rows } = await admin.query(
          `SELECT pid FROM pg_stat_activity
         WHERE application_name = $1 AND state = 'active' AND wait_event_type = 'Lock'`,
          [app],
        );
        pid = rows[0]?.pid;
        return pid !== undefined;
      },
      10_000,
      `a backend of ${app} waiting for a lock`,
    );
    return pid!;
  }

  const terminate = (pid: number) => admin.query('SELECT pg_terminate_backend($1)', [pid]);
  const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
  const outcome = <T>(promise: Promise<T>) =>
    promise.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error: error as Error & { code?: string } }),
    );

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    await admin.connect();
  });
  afterEach(() => {
    expect(uncaught.splice(0)).toEqual([]);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(sessions.map((c) => c.end().catch(() => {})));
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('survives a backend killed mid-insertBatch; the retry stores each event once, same ids', async () => {
    const { store, app } = await openStore('insert');
    const entry = newJournalEntryId(1000);
    const events = [0, 1, 2].map((i) => ({
      id: eventIdFor(entry, i),
      type: 'sms.report' as const,
      body: JSON.stringify({ n: i }),
    }));
    const batch = { account: 'main', events, targets: ['a', 'b'], now: 1000 };
    // Another session holds the events table: the insert waits, deterministically.
    const locker = await session();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${schema}".events IN ACCESS EXCLUSIVE MODE`);
    const insert = outcome(store.insertBatch(batch));
    await terminate(await blockedBackend(app));
    const result = await insert;
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.name).toBe('StoreError');
    expect(result.error.message).toMatch(/^\[sms\] postgres store: insertBatch failed: /);
    expect(result.error.code).toBe('57P01');
    // Retried at once: the killed connection must not be handed out again (the retry waits
    // for the lock like the first try, on a new connection).
    const retry = outcome(store.insertBatch(batch));
    await blockedBackend(app);
    await locker.query('COMMIT');
    expect(await retry).toEqual({ ok: true, value: events.map((e) => e.id) });
    await settle();
    expect(await store.insertBatch(batch)).toEqual([]);
    const { rows } = await admin.query(
      `SELECT e.id, COUNT(d.target)::int AS deliveries FROM "${schema}".events e
       JOIN "${schema}".deliveries d ON d.event_id = e.id GROUP BY e.id ORDER BY e.id`,
    );
    expect(rows).toEqual(
      events.map((e) => ({ id: e.id, deliveries: 2 })).sort((x, y) => (x.id < y.id ? -1 : 1)),
    );
  });

  it('survives a backend killed mid-transaction (complete) and mid-init', async () => {
    const { store, app } = await openStore('tx');
    const [id] = await store.insertBatch({
      account: 'main',
      events: [{ id: newEventId(), type: 'sms.report', body: '{}' }],
      targets: ['t'],
      now: 1,
    });
    const [claimed] = await store.claim({ limit: 1, now: 1, leaseMs: 60_000 });
    const locker = await session();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE "${schema}".deliveries IN ACCESS EXCLUSIVE MODE`);
    const result = {
      eventId: id!,
      target: 't',
      lease: claimed!.lease,
      outcome: { kind: 'delivered' as const },
    };
    const completing = outcome(store.complete([result], 2));
    await terminate(await blockedBackend(app));
    const failed = await completing;
    expect(failed.ok).toBe(false);
    if (!failed.ok)
      expect(failed.error.message).toMatch(/^\[sms\] postgres store: complete failed: /);
    await locker.query('COMMIT');
    await settle();
    await store.complete([result], 3);
    const { rows } = await admin.query(
      `SELECT status FROM "${schema}".deliveries WHERE event_id = $1`,
      [id],
    );
    expect(rows).toEqual([{ status: 'delivered' }]);

    // init waits for the advisory lock replicas take while creating tables.
    await locker.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [
      `sms-relay-init:${schema}`,
    ]);
    const init = outcome(store.init());
    await terminate(await blockedBackend(app));
    const initFailed = await init;
    expect(initFailed.ok).toBe(false);
    if (!initFailed.ok) expect(initFailed.error.message).toMatch(/init failed/);
    await locker.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [
      `sms-relay-init:${schema}`,
    ]);
    await settle();
    await store.init();
    expect((await store.stats()).delivered).toBeGreaterThanOrEqual(1);
  });

  it('survives its idle pooled connections being killed, and connects anew', async () => {
    const { store, app } = await openStore('idle');
    await Promise.all([store.stats(), store.stats(), store.stats()]);
    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
      [app],
    );
    expect(rows.length).toBeGreaterThan(0);
    await settle();
    expect(uncaught).toEqual([]);
    // The pool dropped the dead clients: the next calls work on new connections.
    expect((await store.stats()).events).toBeGreaterThanOrEqual(0);
    await Promise.all([store.stats(), store.stats(), store.stats()]);
  });

  it('reports a killed poll-lock session as lost, without crashing', async () => {
    const { store, app } = await openStore('lock');
    const lock = await store.lockAccount('acct');
    expect(lock).not.toBeNull();
    const { rows } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = $1 AND query LIKE '%pg_try_advisory_lock%'`,
      [app],
    );
    expect(rows).toHaveLength(1);
    await lock!.lost;
    await settle();
    const { store: other } = await openStore('lock2');
    const taken = await other.lockAccount('acct');
    expect(taken).not.toBeNull();
    await taken!.release();
    await lock!.release();
  });

  it('rejects with a clear error when PostgreSQL cannot be reached', async () => {
    const store = await postgresStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/test',
      schema,
    });
    stores.push(store);
    await expect(store.init()).rejects.toThrow(
      /^\[sms\] postgres store: init failed: .*ECONNREFUSED/,
    );
    await expect(store.stats()).rejects.toMatchObject({ name: 'StoreError', code: 'ECONNREFUSED' });
  });

  it('adds the lease column to a schema made by an earlier version', async () => {
    const old = `relay_old_${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE SCHEMA "${old}";
      CREATE TABLE "${old}".events (id text PRIMARY KEY, type text NOT NULL, account text NOT NULL,
        body text NOT NULL, created_at bigint NOT NULL);
      CREATE TABLE "${old}".deliveries (event_id text NOT NULL REFERENCES "${old}".events(id),
        target text NOT NULL, status text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0,
        next_attempt_at bigint NOT NULL, last_status integer, last_error text, updated_at bigint NOT NULL,
        delivered_at bigint, PRIMARY KEY (event_id, target));
      INSERT INTO "${old}".events VALUES ('msg_old', 'sms.report', 'main', '{}', 1);
      INSERT INTO "${old}".deliveries (event_id, target, next_attempt_at, updated_at) VALUES ('msg_old', 't', 1, 1);`);
    try {
      const store = await postgresStore({ connectionString: TEST_DATABASE_URL, schema: old });
      stores.push(store);
      await store.init();
      await store.init();
      const [claimed] = await store.claim({ limit: 10, now: 5, leaseMs: 100 });
      expect(claimed).toMatchObject({ eventId: 'msg_old', target: 't' });
      await store.complete(
        [
          {
            eventId: 'msg_old',
            target: 't',
            lease: claimed!.lease,
            outcome: { kind: 'delivered' },
          },
        ],
        6,
      );
      // Counted once, from the rows already there (opened twice), then by the triggers.
      expect(await store.stats()).toMatchObject({ pending: 0, delivered: 1, events: 1 });
    } finally {
      await admin.query(`DROP SCHEMA "${old}" CASCADE`);
    }
  });

  it('keys quarantine rows by journal entry in a schema made by an earlier version', async () => {
    const old = `relay_old_${randomBytes(6).toString('hex')}`;
    await admin.query(`CREATE SCHEMA "${old}";
      CREATE TABLE "${old}".quarantine (id bigserial PRIMARY KEY, account text NOT NULL,
        kind text NOT NULL, http_status integer NOT NULL, content_type text, body bytea NOT NULL,
        error text NOT NULL, created_at bigint NOT NULL);
      INSERT INTO "${old}".quarantine (account, kind, http_status, body, error, created_at)
        VALUES ('main', 'reports', 200, '\\x3c', 'kept from before', 1);`);
    try {
      const store = await postgresStore({ connectionString: TEST_DATABASE_URL, schema: old });
      stores.push(store);
      await store.init();
      await store.init();
      const entry = {
        account: 'main',
        kind: 'reports' as const,
        httpStatus: 200,
        contentType: undefined,
        body: Buffer.from('<returnsms>'),
        error: 'cut off',
        now: 2,
        entryId: 'jrn_01M96DQA3NE7PCX1RN5ZFYMGGH',
      };
      await store.quarantine(entry);
      await store.quarantine(entry);
      const { rows } = await admin.query(
        `SELECT error, entry_id FROM "${old}".quarantine ORDER BY id`,
      );
      expect(rows).toEqual([
        { error: 'kept from before', entry_id: null },
        { error: 'cut off', entry_id: entry.entryId },
      ]);
    } finally {
      await admin.query(`DROP SCHEMA "${old}" CASCADE`);
    }
  });
});

describe('postgres store statistics', () => {
  const schema = `relay_stats_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  let store: Store;
  beforeAll(async () => {
    await admin.connect();
    store = await postgresStore({ connectionString: TEST_DATABASE_URL, schema, max: 3 });
    await store.init();
  });
  afterAll(async () => {
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  /** Times `deliveries` was analyzed by a command (autovacuum's own analyses are counted apart). */
  async function analyses(): Promise<number> {
    const { rows } = await admin.query(
      `SELECT analyze_count::int AS n FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'deliveries'`,
      [schema],
    );
    return rows[0]?.n ?? 0;
  }

  const batch = (count: number, targets: string[]) => ({
    account: 'main',
    events: Array.from({ length: count }, () => ({
      id: newEventId(),
      type: 'sms.report' as const,
      body: '{}',
    })),
    targets,
    now: 1,
  });

  it('analyzes a fresh table once 1,000 deliveries arrived, then after a tenth of the table', async () => {
    // 450 events to two targets: 900 deliveries, below the first threshold.
    await store.insertBatch(batch(450, ['a', 'b']));
    // Statistics reach pg_stat_user_tables asynchronously; give them time to show a mistake.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await analyses()).toBe(0);
    await store.insertBatch(batch(100, ['a', 'b']));
    await waitFor(async () => (await analyses()) === 1, 10_000, 'the first analysis');
    const { rows } = await admin.query(
      'SELECT reltuples::int AS n FROM pg_class WHERE oid = $1::regclass',
      [`"${schema}".deliveries`],
    );
    expect(rows[0].n).toBe(1100);
    // The next one waits for max(1,000, a tenth of 1,100) new deliveries.
    await store.insertBatch(batch(999, ['a']));
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await analyses()).toBe(1);
    await store.insertBatch(batch(1, ['a']));
    await waitFor(async () => (await analyses()) === 2, 10_000, 'the second analysis');
  });
});
