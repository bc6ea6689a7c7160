// Should the store's queries go through Kysely (issue 21: one query text for SQLite,
// PostgreSQL and MySQL)? This times the store's hottest statements written by hand (as the
// stores have them: better-sqlite3 prepared statements, pg parameterised text) against the
// same statements through Kysely, on the same database in the same run.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BATCH = 500;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);

const SCHEMA = `
  CREATE TABLE events (id TEXT PRIMARY KEY, type TEXT NOT NULL, account TEXT NOT NULL,
    body TEXT NOT NULL, created_at BIGINT NOT NULL);
  CREATE TABLE deliveries (event_id TEXT NOT NULL, target TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, lease TEXT,
    PRIMARY KEY (event_id, target));
  CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);`;

const body = JSON.stringify({
  type: 'sms.report',
  data: { mobile: '13800000000', status: 'DELIVRD' },
});
let serial = 0;
const batchOf = () =>
  Array.from({ length: BATCH }, () => ({
    id: `evt_${(serial++).toString(36)}_${randomBytes(4).toString('hex')}`,
    type: 'sms.report',
    body,
  }));

async function median(fn) {
  for (let i = 0; i < 3; i++) await fn();
  const samples = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/** The same 1,000 lookups through Kysely, whatever the dialect. */
async function kyselyLookups(k, ids) {
  for (let n = 0; n < 1000; n++) {
    await k
      .selectFrom('events')
      .select(['id', 'type', 'account', 'body', 'created_at'])
      .where('id', '=', ids[n % ids.length])
      .executeTakeFirst();
  }
}

async function sqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'sms-qb-'));
  const db = new Database(join(dir, 'bench.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  const k = new Kysely({ dialect: new SqliteDialect({ database: db }) });
  const insertEvent = db.prepare(
    'INSERT INTO events (id, type, account, body, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
  );
  const insertDelivery = db.prepare(
    'INSERT INTO deliveries (event_id, target, next_attempt_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (event_id, target) DO NOTHING',
  );
  const insertHand = db.transaction((events, now) => {
    for (const e of events) {
      if (insertEvent.run(e.id, e.type, 'main', e.body, now).changes === 0) continue;
      insertDelivery.run(e.id, 'hooks', now, now);
    }
  });
  const byId = db.prepare('SELECT id, type, account, body, created_at FROM events WHERE id = ?');
  const ids = [];
  const rows = {};
  rows['insert 500 events + deliveries (one transaction)'] = [
    await median(() => {
      const events = batchOf();
      ids.push(events[0].id);
      insertHand(events, Date.now());
    }),
    await median(async () => {
      const events = batchOf();
      const now = Date.now();
      await k.transaction().execute(async (trx) => {
        for (const e of events) {
          const r = await trx
            .insertInto('events')
            .values({ id: e.id, type: e.type, account: 'main', body: e.body, created_at: now })
            .onConflict((oc) => oc.column('id').doNothing())
            .executeTakeFirst();
          if (Number(r.numInsertedOrUpdatedRows) === 0) continue;
          await trx
            .insertInto('deliveries')
            .values({ event_id: e.id, target: 'hooks', next_attempt_at: now, updated_at: now })
            .onConflict((oc) => oc.columns(['event_id', 'target']).doNothing())
            .execute();
        }
      });
    }),
  ];
  let i = 0;
  rows['1,000 event lookups by id'] = [
    await median(() => {
      for (let n = 0; n < 1000; n++) byId.get(ids[i++ % ids.length]);
    }),
    await median(() => kyselyLookups(k, ids)),
  ];
  await k.destroy();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

async function postgres() {
  const schema = `sms_bench_qb_${process.pid}`;
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  await pool.query(`SET search_path TO ${schema}; ${SCHEMA}`);
  const kpool = new pg.Pool({
    connectionString: DATABASE_URL,
    max: 4,
    options: `-c search_path=${schema}`,
  });
  const k = new Kysely({ dialect: new PostgresDialect({ pool: kpool }) });
  const s = schema;
  const insertSql = `WITH fresh AS (
      INSERT INTO ${s}.events (id, type, account, body, created_at)
      SELECT id, type, $3, body, $4 FROM unnest($1::text[], $2::text[], $5::text[]) AS x(id, type, body)
      ON CONFLICT (id) DO NOTHING RETURNING id
    ), deliveries AS (
      INSERT INTO ${s}.deliveries (event_id, target, next_attempt_at, updated_at)
      SELECT fresh.id, 'hooks', $4, $4 FROM fresh ON CONFLICT (event_id, target) DO NOTHING
    ) SELECT id FROM fresh`;
  const ids = [];
  const rows = {};
  rows['insert 500 events + deliveries (one transaction)'] = [
    await median(async () => {
      const events = batchOf();
      ids.push(events[0].id);
      await pool.query(insertSql, [
        events.map((e) => e.id),
        events.map((e) => e.type),
        'main',
        Date.now(),
        events.map((e) => e.body),
      ]);
    }),
    await median(async () => {
      const events = batchOf();
      const now = Date.now();
      // Kysely has no unnest() builder: the statement is the same text through its sql tag.
      await sql`WITH fresh AS (
          INSERT INTO events (id, type, account, body, created_at)
          SELECT id, type, ${'main'}, body, ${now}
          FROM unnest(${events.map((e) => e.id)}::text[], ${events.map((e) => e.type)}::text[], ${events.map((e) => e.body)}::text[]) AS x(id, type, body)
          ON CONFLICT (id) DO NOTHING RETURNING id
        ), deliveries AS (
          INSERT INTO deliveries (event_id, target, next_attempt_at, updated_at)
          SELECT fresh.id, 'hooks', ${now}, ${now} FROM fresh ON CONFLICT (event_id, target) DO NOTHING
        ) SELECT id FROM fresh`.execute(k);
    }),
  ];
  let i = 0;
  rows['1,000 event lookups by id'] = [
    await median(async () => {
      for (let n = 0; n < 1000; n++)
        await pool.query(
          `SELECT id, type, account, body, created_at FROM ${s}.events WHERE id = $1`,
          [ids[i++ % ids.length]],
        );
    }),
    await median(() => kyselyLookups(k, ids)),
  ];
  await k.destroy();
  await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await pool.end();
  return rows;
}

const table = [];
for (const [store, rows] of [
  ['SQLite', await sqlite()],
  ['PostgreSQL', await postgres()],
]) {
  for (const [what, [hand, kysely]] of Object.entries(rows)) {
    table.push({
      store,
      what,
      'by hand ms': hand.toFixed(2),
      'Kysely ms': kysely.toFixed(2),
      'Kysely / by hand': `${(kysely / hand).toFixed(2)}x`,
    });
  }
}
console.log(`\nThe store's statements by hand vs through Kysely (median of ${ROUNDS})`);
console.table(table);
