import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL, scratchSchema, tempDir } from '../test-utils/setup.js';
import { newMessage } from '../test-utils/store-suite.js';
import { messagePageSql, numbered } from './console-rows.js';
import type { MessageStore } from './messages.js';
import {
  LAST_SENT_SQLITE,
  MARK_SENDING_SQLITE,
  PRUNABLE_SQLITE,
  REPORT_TARGET_SQLITE,
  SENDING_TO_SQLITE,
  STALE_SENDING_SQLITE,
} from './messages-sqlite.js';
import { lastSentPostgres, sendingToPostgres } from './messages-postgres.js';
import { postgresStore } from './postgres.js';
import { sqliteStore } from './sqlite.js';

// Indexes that hold only the rows they are read for: the leases of messages being sent (the
// sweep for a dead sender's), the task ids and the numbers of sent recipients (reports,
// replies), the console's pages by status without the messages being sent (those pages read
// the leases' index). Each queued message and unsent recipient had an entry in them, written at every POST and rewritten at
// every change of status: on SQLite that is work and a page of the WAL per message and per index.

const message = (i: number, now: number) =>
  newMessage({
    id: `sms_${String(i).padStart(26, '0')}`,
    account: 'main',
    mobiles: [`13${String(i).padStart(9, '0')}`],
    content: '【测试】index',
    now,
  });

/**
 * Five messages: three stay queued, one is being sent, one was sent (task `t1`). Then the
 * lookups both indexes serve: the report of the sent one finds its message, and the sweep
 * finds the one being sent once its lease is over.
 */
async function exercise(messages: MessageStore): Promise<void> {
  const now = Date.now();
  await messages.enqueueMany([0, 1, 2, 3, 4].map((i) => message(i, now)));
  const [sent, sending] = await messages.claim({
    account: 'main',
    limit: 2,
    now: now + 1,
    leaseMs: 60_000,
  });
  await messages.record(sent!.id, sent!.lease, { kind: 'sent', taskId: 't1' }, now + 2);
  const tags = await messages.applyReports(
    'main',
    [
      { taskId: 't1', mobile: sent!.mobiles[0]!, delivered: true, code: 'DELIVRD', at: now + 3 },
      { taskId: 't2', mobile: sending!.mobiles[0]!, delivered: true, code: 'DELIVRD', at: now + 3 },
    ],
    now + 3,
  );
  expect(tags.map((t) => t?.messageId)).toEqual([sent!.id, undefined]);
  expect(await messages.sendingTo('main', [sending!.mobiles[0]!])).toBe(true);
  expect(await messages.sendingTo('main', [sent!.mobiles[0]!, '13900000000'])).toBe(false);
  const [last, none] = await messages.lastSentTo('main', [sent!.mobiles[0]!, sending!.mobiles[0]!]);
  expect([last?.messageId, none]).toEqual([sent!.id, undefined]);
  const page = async (status: 'queued' | 'sending' | 'sent' | 'failed') =>
    (await messages.list({ status, limit: 10 })).map((m) => m.id);
  expect(await page('sent')).toEqual([sent!.id]);
  expect(await page('sending')).toEqual([sending!.id]);
  expect(await page('queued')).toEqual([
    message(4, now).id,
    message(3, now).id,
    message(2, now).id,
  ]);
  expect(await page('failed')).toEqual([]);
  expect(await messages.expireLeases(now + 30_000)).toEqual([]);
  expect(await messages.expireLeases(now + 61_000)).toEqual([sending!.id]);
}

describe('the gateway indexes hold only what they are read for', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('sqlite: a file of an earlier version gets them; queued messages and unsent recipients have no entries; the lookups read them', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, 'relay.db');
    let store = await sqliteStore({ path });
    await store.init();
    await store.close();
    // The file as an earlier version left it: both indexes whole.
    let raw = new Database(path);
    raw.exec(`DROP INDEX gw_messages_leased;
      DROP INDEX gw_recipients_sent_task;
      DROP INDEX gw_recipients_sent_mobile;
      CREATE INDEX gw_messages_sending ON gw_messages (status, lease_until);
      CREATE INDEX gw_recipients_task ON gw_recipients (account, task_id, mobile);
      CREATE INDEX gw_recipients_mobile ON gw_recipients (account, mobile, sent_at);
      DROP INDEX gw_messages_status_page_not_sending;
      CREATE INDEX gw_messages_status_page ON gw_messages (status, id);`);
    raw.close();

    store = await sqliteStore({ path });
    await store.init();
    // Before the sweep: one message being sent (its lease), one sent recipient (its task).
    const now = Date.now();
    await store.messages!.enqueueMany([0, 1, 2, 3, 4].map((i) => message(i, now)));
    const [sent] = await store.messages!.claim({
      account: 'main',
      limit: 2,
      now: now + 1,
      leaseMs: 60_000,
    });
    await store.messages!.record(sent!.id, sent!.lease, { kind: 'sent', taskId: 't1' }, now + 2);

    await store.close();
    raw = new Database(path, { readonly: true });
    try {
      const names = (
        raw
          .prepare(
            `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('gw_messages', 'gw_recipients') ORDER BY name`,
          )
          .all() as Array<{ name: string }>
      ).map((r) => r.name);
      expect(names).toEqual(
        expect.arrayContaining([
          'gw_messages_leased',
          'gw_recipients_sent_task',
          'gw_recipients_sent_mobile',
          'gw_messages_status_page_not_sending',
        ]),
      );
      for (const old of [
        'gw_messages_sending',
        'gw_recipients_task',
        'gw_recipients_mobile',
        'gw_messages_status_page',
      ]) {
        expect(names).not.toContain(old);
      }
      // Entries, read from the b-trees themselves: five messages and five recipients stored.
      const entries = (index: string) =>
        (
          raw
            .prepare(
              `SELECT coalesce(sum(ncell), 0) AS n FROM dbstat WHERE name = ? AND pagetype = 'leaf'`,
            )
            .get(index) as { n: number }
        ).n;
      expect(entries('gw_messages_leased')).toBe(1);
      expect(entries('gw_recipients_sent_task')).toBe(1);
      expect(entries('gw_recipients_sent_mobile')).toBe(1);
      // Three queued and one sent: the one being sent has no entry.
      expect(entries('gw_messages_status_page_not_sending')).toBe(4);
      const plan = (sql: string, ...params: unknown[]) =>
        (raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>)
          .map((r) => r.detail)
          .join('\n');
      expect(plan(REPORT_TARGET_SQLITE, 'main', 't1', '13000000000')).toContain(
        'gw_recipients_sent_task',
      );
      expect(plan(STALE_SENDING_SQLITE, now)).toContain('gw_messages_leased');
      // A claim marks its messages by rowid, never by reading the table.
      expect(plan(MARK_SENDING_SQLITE, 'l', now, now, '[1,2]')).toMatch(
        /SEARCH gw_messages USING INTEGER PRIMARY KEY \(rowid=\?\)/,
      );
      expect(plan(MARK_SENDING_SQLITE, 'l', now, now, '[1,2]')).not.toMatch(/SCAN gw_messages/);
      expect(plan(SENDING_TO_SQLITE, 'main', '["13000000001"]')).toContain('gw_messages_leased');
      expect(plan(LAST_SENT_SQLITE, 'main', '13000000000')).toContain('gw_recipients_sent_mobile');
      // The console's pages: by the status index, or for messages being sent by the leases'.
      const page = (query: Parameters<typeof messagePageSql>[1]) => {
        const [sql, params] = messagePageSql('', query, 'INDEXED BY gw_messages_leased');
        return plan(sql, ...params);
      };
      for (const status of ['queued', 'sent', 'unknown'] as const) {
        expect(page({ status, limit: 50 })).toMatch(
          /USING (COVERING )?INDEX gw_messages_status_page_not_sending \(status=\?\)/,
        );
        expect(page({ status, limit: 50 })).not.toContain('TEMP B-TREE');
      }
      expect(page({ status: 'sending', limit: 50 })).toContain('USING INDEX gw_messages_leased');
      expect(page({ status: 'sending', account: 'main', limit: 50 })).toContain(
        'USING INDEX gw_messages_leased',
      );
      expect(plan(PRUNABLE_SQLITE, now, 100)).toContain('gw_messages_status_page_not_sending');
    } finally {
      raw.close();
    }

    // And on a fresh file, what the indexes serve still works.
    const fresh = await sqliteStore({ path: join(dir, 'fresh.db') });
    cleanups.push(() => fresh.close());
    await fresh.init();
    await exercise(fresh.messages!);
  });

  it('postgres: a schema of an earlier version gets them, and the lookups work', async () => {
    const { schema, admin, drop } = await scratchSchema('relay_indexes');
    cleanups.push(drop);
    const first = await postgresStore({ connectionString: TEST_DATABASE_URL, schema, max: 2 });
    await first.init();
    await first.close();
    await admin.query(`DROP INDEX "${schema}".gw_recipients_sent_task;
      CREATE INDEX gw_recipients_task ON "${schema}".gw_recipients (account, task_id, mobile);
      DROP INDEX "${schema}".gw_messages_status_page_not_sending;
      CREATE INDEX gw_messages_status_page ON "${schema}".gw_messages (status, id);
      DROP INDEX "${schema}".gw_recipients_sent_mobile;
      CREATE INDEX gw_recipients_mobile ON "${schema}".gw_recipients (account, mobile, sent_at)`);

    const store = await postgresStore({ connectionString: TEST_DATABASE_URL, schema, max: 2 });
    cleanups.push(() => store.close());
    await store.init();
    const { rows } = await admin.query(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename IN ('gw_messages', 'gw_recipients')`,
      [schema],
    );
    const definition = new Map(rows.map((r) => [r.indexname as string, r.indexdef as string]));
    expect(definition.has('gw_recipients_task')).toBe(false);
    expect(definition.get('gw_recipients_sent_task')).toMatch(/WHERE \(task_id IS NOT NULL\)/);
    expect(definition.get('gw_messages_sending')).toMatch(/WHERE \(status = 'sending'::text\)/);
    expect(definition.has('gw_messages_status_page')).toBe(false);
    expect(definition.has('gw_recipients_mobile')).toBe(false);
    expect(definition.get('gw_recipients_sent_mobile')).toMatch(/WHERE \(sent_at IS NOT NULL\)/);
    expect(definition.get('gw_messages_status_page_not_sending')).toMatch(
      /\(status, id\) WHERE \(status <> 'sending'::text\)/,
    );
    await exercise(store.messages!);
    // The pages can be read through the status index (sequential scans off: five rows would
    // be read whole otherwise): the query states the index's predicate.
    const plan = async (sql: string, params: readonly unknown[]) =>
      (await admin.query(`EXPLAIN ${sql}`, [...params])).rows
        .map((r) => r['QUERY PLAN'] as string)
        .join('\n');
    const page = (query: Parameters<typeof messagePageSql>[1]) =>
      plan(...numbered(messagePageSql(`"${schema}".`, query)));
    const numbers = ['13000000000', '13000000001'];
    try {
      await admin.query('BEGIN');
      await admin.query('SET LOCAL enable_seqscan = off');
      expect(await page({ status: 'queued', limit: 50 })).toContain(
        'gw_messages_status_page_not_sending',
      );
      expect(await page({ status: 'sending', limit: 50 })).toContain('gw_messages_sending');
      expect(await plan(sendingToPostgres(`"${schema}"`), ['main', numbers])).toContain(
        'gw_messages_sending',
      );
      expect(await plan(lastSentPostgres(`"${schema}"`), ['main', numbers])).toContain(
        'gw_recipients_sent_mobile',
      );
    } finally {
      await admin.query('ROLLBACK');
    }
  });
});
