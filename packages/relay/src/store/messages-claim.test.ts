import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, scratchSchema } from '../test-utils/setup.js';
import type { MessageStore, NewMessage } from './messages.js';
import { claimMessagesSql, recordSentSql } from './messages-postgres.js';
import { SELECT_DUE_SQLITE } from './messages-sqlite.js';
import { LIMIT as LIMIT_IN_SQL } from './sqlite-limit.js';
import { postgresStore } from './postgres.js';
import { sqliteStore } from './sqlite.js';

// A claim reads what it takes, however long the queue: the due index holds the claim's whole
// order. With only next_attempt_at indexed, every claim read and sorted all due messages that
// share the oldest one's instant (2,000 rows sorted for a claim of 8 on PostgreSQL).

const QUEUED = 2000;
const LIMIT = 8;

/** QUEUED messages of account `main` enqueued at one instant (a burst within a millisecond). */
async function fill(messages: MessageStore, now: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < QUEUED; i += 500) {
    const batch: NewMessage[] = [];
    for (let j = i; j < i + 500; j++) {
      const id = `sms_${String(j).padStart(26, '0')}`;
      ids.push(id);
      batch.push({
        id,
        idempotencyKey: null,
        requestHash: 'h',
        account: 'main',
        mobiles: [`13${String(j).padStart(9, '0')}`],
        content: '【测试】queue',
        sendAt: null,
        extNo: '',
        metadata: null,
        callbackUrl: null,
        expiresAt: null,
        now,
      });
    }
    await messages.enqueueMany(batch);
  }
  return ids;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

describe('a claim reads what it takes, however long the queue', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('postgres: a claim scans at most its limit and sorts nothing, its outcomes go through the primary key, fresh or analyzed', async () => {
    const { schema, admin, drop } = await scratchSchema('relay_claim');
    cleanups.push(drop);
    const store = await postgresStore({ connectionString: TEST_DATABASE_URL, schema, max: 2 });
    await store.init();
    cleanups.push(() => store.close());
    const now = Date.now();
    await fill(store.messages!, now);

    const plan = async () => {
      await admin.query('BEGIN');
      try {
        const { rows } = await admin.query(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${claimMessagesSql(`"${schema}"`)}`,
          ['main', now + 1, LIMIT, 'plan-test', now + 60_000],
        );
        return nodesOf((rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan);
      } finally {
        await admin.query('ROLLBACK');
      }
    };
    for (const moment of ['fresh', 'analyzed']) {
      if (moment === 'analyzed') await admin.query(`ANALYZE "${schema}".gw_messages`);
      const nodes = await plan();
      const scans = nodes.filter((n) => n['Relation Name'] === 'gw_messages');
      expect(scans.length, moment).toBeGreaterThan(0);
      const wide = scans.filter((n) => (n['Actual Rows'] ?? 0) > LIMIT);
      expect(
        wide.map((n) => `${n['Node Type']} ${n['Index Name']}: ${n['Actual Rows']} rows`),
        moment,
      ).toEqual([]);
      expect(
        nodes.filter((n) => n['Node Type'].includes('Sort')),
        moment,
      ).toEqual([]);
      expect(scans.some((n) => n['Index Name'] === 'gw_messages_due_fifo')).toBe(true);
    }
    // And the claim itself takes the oldest, in order.
    const first = await store.messages!.claim({
      account: 'main',
      limit: LIMIT,
      now: now + 1,
      leaseMs: 60_000,
    });
    expect(first).toHaveLength(LIMIT);
    const rest = await store.messages!.claim({
      account: 'main',
      limit: QUEUED,
      now: now + 1,
      leaseMs: 60_000,
    });
    expect(rest).toHaveLength(QUEUED - LIMIT);

    // Their outcomes: all but the first claim's recorded sent, so the status index holds 2,000
    // `sending` entries, stale but for 8; recording the last 8 reads those 8 messages only.
    await store.messages!.recordMany(
      rest.map((m, i) => ({
        id: m.id,
        lease: m.lease,
        outcome: { kind: 'sent', taskId: `t${i}` },
      })),
      now + 2,
    );
    const recordPlan = async () => {
      await admin.query('BEGIN');
      try {
        const { rows } = await admin.query(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${recordSentSql(`"${schema}"`)}`,
          [
            first.map((m) => m.id),
            first.map((m) => m.lease),
            first.map((m) => `t-${m.id}`),
            now + 3,
          ],
        );
        return nodesOf((rows[0]['QUERY PLAN'] as Array<{ Plan: PlanNode }>)[0]!.Plan);
      } finally {
        await admin.query('ROLLBACK');
      }
    };
    for (const moment of ['before analyze', 'analyzed']) {
      if (moment === 'analyzed') await admin.query(`ANALYZE "${schema}".gw_messages`);
      const nodes = await recordPlan();
      const updated = nodes.find(
        (n) => n['Node Type'] === 'ModifyTable' && n['Relation Name'] === 'gw_messages',
      );
      expect(updated?.['Actual Rows'], moment).toBe(LIMIT); // each of the 8 recorded
      // Found through the primary key: an index scan of the status index reads its stale
      // entries too (ANALYZE's actual rows count only the live ones).
      const read = nodes.filter(
        (n) => n['Relation Name'] === 'gw_messages' && n['Node Type'] !== 'ModifyTable',
      );
      expect(
        read.map((n) => `${n['Node Type']} ${n['Index Name']}`),
        moment,
      ).toEqual(read.map(() => 'Index Scan gw_messages_pkey'));
      expect(read.length, moment).toBeGreaterThan(0);
    }
  });

  it('postgres: a schema made by an earlier version loses the old due index', async () => {
    const { schema, admin, drop } = await scratchSchema('relay_claim');
    cleanups.push(drop);
    let store = await postgresStore({ connectionString: TEST_DATABASE_URL, schema, max: 2 });
    await store.init();
    await store.close();
    await admin.query(
      `DROP INDEX "${schema}".gw_messages_due_fifo;
       CREATE INDEX gw_messages_due ON "${schema}".gw_messages (account, next_attempt_at) WHERE status = 'queued'`,
    );
    store = await postgresStore({ connectionString: TEST_DATABASE_URL, schema, max: 2 });
    await store.init();
    await store.close();
    const { rows } = await admin.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE 'gw_messages_due%'`,
      [schema],
    );
    expect(rows.map((r) => r.indexname)).toEqual(['gw_messages_due_fifo']);
  });

  it('sqlite: the due query needs no sort, an old file loses the old due index, claims take the oldest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sms-relay-claim-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'relay.db');
    let store = await sqliteStore({ path });
    await store.init();
    await store.close();
    // The file as an earlier version left it.
    let raw = new Database(path);
    raw.exec(`DROP INDEX gw_messages_due_fifo;
      CREATE INDEX gw_messages_due ON gw_messages (account, status, next_attempt_at)`);
    raw.close();

    store = await sqliteStore({ path });
    await store.init();
    const now = Date.now();
    const ids = await fill(store.messages!, now);
    const first = await store.messages!.claim({
      account: 'main',
      limit: LIMIT,
      now: now + 1,
      leaseMs: 60_000,
    });
    expect(first.map((m) => m.id)).toEqual(ids.slice(0, LIMIT));
    await store.close();

    raw = new Database(path, { readonly: true });
    try {
      const indexes = raw
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'gw_messages_due%'`,
        )
        .all() as Array<{ name: string }>;
      expect(indexes.map((i) => i.name)).toEqual(['gw_messages_due_fifo']);
      const plan = (
        raw
          .prepare(`EXPLAIN QUERY PLAN ${SELECT_DUE_SQLITE.replace(LIMIT_IN_SQL, String(LIMIT))}`)
          .all('main', now + 1) as Array<{
          detail: string;
        }>
      ).map((row) => row.detail);
      expect(plan.join('\n')).toContain('gw_messages_due_fifo');
      expect(plan.filter((detail) => detail.includes('B-TREE'))).toEqual([]);
    } finally {
      raw.close();
    }
  });
});
