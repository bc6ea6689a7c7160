import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { newEventId } from '../ids.js';
import { testStore } from '../test-utils/store-suite.js';
import { sqliteStore } from './sqlite.js';

testStore('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-relay-store-'));
  const path = join(dir, 'relay.db');
  const store = await sqliteStore({ path });
  await store.close();
  const raw = new Database(path);
  return {
    open: () => sqliteStore({ path }),
    raw: async (sql) => raw.prepare(sql).all() as Array<Record<string, unknown>>,
    t: (table) => table,
    reset: async () => {
      raw.exec(
        'DELETE FROM deliveries; DELETE FROM events; DELETE FROM targets; DELETE FROM quarantine;',
      );
    },
    dispose: async () => {
      // WAL is a property of the file, so an independent connection sees it.
      const mode = raw.pragma('journal_mode', { simple: true });
      raw.close();
      rmSync(dir, { recursive: true, force: true });
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, expected wal`);
    },
  };
});

describe('sqlite store faults', () => {
  const dirs: string[] = [];
  const closers: Array<() => unknown> = [];
  const file = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sms-relay-store-'));
    dirs.push(dir);
    return join(dir, 'relay.db');
  };
  afterAll(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('rejects with SQLITE_BUSY while another connection holds the write lock, then succeeds', async () => {
    const path = file();
    const store = await sqliteStore({ path, busyTimeoutMs: 150 });
    closers.push(() => store.close());
    const other = new Database(path);
    closers.push(() => other.close());
    const batch = {
      account: 'main',
      events: [{ id: newEventId(), type: 'sms.report' as const, body: '{"n":1}' }],
      targets: ['t'],
      now: 1,
    };
    other.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    const busy = store.insertBatch(batch);
    await expect(busy).rejects.toMatchObject({
      name: 'StoreError',
      code: 'SQLITE_BUSY',
      message: expect.stringMatching(/^\[sms\] sqlite store: insertBatch failed: .*SQLITE_BUSY/),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await expect(store.claim({ limit: 10, now: 1, leaseMs: 10 })).rejects.toMatchObject({
      code: 'SQLITE_BUSY',
    });
    other.exec('COMMIT');
    expect(await store.insertBatch(batch)).toEqual([batch.events[0]!.id]);
    expect(await store.insertBatch(batch)).toEqual([]);
    const [claimed] = await store.claim({ limit: 10, now: 1, leaseMs: 10 });
    expect(claimed?.eventId).toBe(batch.events[0]!.id);
    // Completing waits for the lock too, fails the same way, and works once it is free.
    const result = {
      eventId: claimed!.eventId,
      target: 't',
      lease: claimed!.lease,
      outcome: { kind: 'delivered' as const },
    };
    other.exec('BEGIN IMMEDIATE');
    await expect(store.complete([result], 2)).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
    other.exec('COMMIT');
    await store.complete([result], 3);
    expect(other.prepare('SELECT status FROM deliveries').all()).toEqual([{ status: 'delivered' }]);
  });

  it('rejects once closed instead of throwing', async () => {
    const store = await sqliteStore({ path: file() });
    await store.close();
    await expect(store.stats()).rejects.toMatchObject({ name: 'StoreError' });
  });

  it('adds the lease column to a file made by an earlier version', async () => {
    const path = file();
    const old = new Database(path);
    old.exec(`
      CREATE TABLE events (id TEXT PRIMARY KEY, type TEXT NOT NULL, account TEXT NOT NULL,
        body TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE deliveries (event_id TEXT NOT NULL REFERENCES events(id), target TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL, last_status INTEGER, last_error TEXT,
        updated_at INTEGER NOT NULL, delivered_at INTEGER, PRIMARY KEY (event_id, target));
      INSERT INTO events VALUES ('msg_old', 'sms.report', 'main', '{}', 1);
      INSERT INTO deliveries (event_id, target, next_attempt_at, updated_at) VALUES ('msg_old', 't', 1, 1);`);
    old.close();
    const store = await sqliteStore({ path });
    closers.push(() => store.close());
    const again = await sqliteStore({ path });
    await again.close();
    const [claimed] = await store.claim({ limit: 10, now: 5, leaseMs: 100 });
    expect(claimed).toMatchObject({ eventId: 'msg_old', target: 't' });
    await store.complete(
      [{ eventId: 'msg_old', target: 't', lease: claimed!.lease, outcome: { kind: 'delivered' } }],
      6,
    );
    expect((await store.stats()).delivered).toBe(1);
  });
});
