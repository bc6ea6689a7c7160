import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir as makeTempDir } from '../test-utils/setup.js';
import { newMessage } from '../test-utils/store-suite.js';
import {
  SQLITE_AUTOCHECKPOINT_PAGES,
  WRITER_AUTOCHECKPOINT_PAGES,
  sqliteCheckpointer,
} from './sqlite-checkpointer.js';
import { sqliteStore } from './sqlite.js';

const cleanups: Array<() => void> = [];
const tempDir = () => {
  const { dir, cleanup } = makeTempDir();
  cleanups.push(cleanup);
  return dir;
};
afterAll(() => {
  for (const cleanup of cleanups) cleanup();
});

const message = (i: number, now: number) =>
  newMessage({
    id: `sms_${String(i).padStart(26, '0')}`,
    idempotencyKey: `key-${i}`,
    account: 'main',
    mobiles: [`13${String(i).padStart(9, '0')}`],
    content: `【测试】checkpoint ${i}`,
    now,
  });

/**
 * Rows in the database file alone, read from a copy of it without its WAL; -1 when the copy
 * caught a checkpoint halfway (a torn file SQLite refuses): read again.
 */
function rowsInDatabaseFile(path: string, dir: string): number {
  const copy = join(dir, `copy-${Date.now()}-${Math.random()}.db`);
  copyFileSync(path, copy);
  let db: Database.Database;
  try {
    db = new Database(copy, { readonly: true });
  } catch {
    return -1;
  }
  try {
    const table = db
      .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gw_messages'`)
      .get();
    if (!table) return 0;
    return (db.prepare('SELECT count(*) AS n FROM gw_messages').get() as { n: number }).n;
  } catch {
    return -1;
  } finally {
    db.close();
  }
}

describe('the WAL is checkpointed on a thread, not in the commits of the event loop', () => {
  it('committed messages reach the database file well below the writer’s threshold, and the WAL is gone at close', async () => {
    const dir = tempDir();
    const path = join(dir, 'relay.db');
    const store = await sqliteStore({ path });
    await store.init();
    const now = Date.now();
    // 500 messages in 10 commits: a few hundred pages of WAL, below either threshold, so
    // SQLite's own checkpoint (in a commit) does not run; only the thread copies them.
    for (let i = 0; i < 500; i += 50) {
      await store.messages!.enqueueMany(Array.from({ length: 50 }, (_, j) => message(i + j, now)));
    }
    const deadline = Date.now() + 5000;
    let rows = rowsInDatabaseFile(path, dir);
    while (rows < 500 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      rows = rowsInDatabaseFile(path, dir);
    }
    expect(rows).toBe(500);
    await store.close();
    // The thread's connection closed first: the main one was the last, and removed the WAL.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('SIGKILL while the thread is copying pages into the database file: every committed message is there, the file intact', {
    timeout: 60_000,
  }, async () => {
    // A store writing messages in a process of its own (from dist, as the relay runs it),
    // under strace, which kills it on the thread's 20th write into the database file: in WAL
    // mode only a checkpoint writes there, and below 4,000 pages only the thread's.
    const dir = tempDir();
    const path = join(dir, 'relay.db');
    const log = join(dir, 'strace.log');
    const dist = new URL('../../dist/index.js', import.meta.url).href;
    const writer = `
      const { sqliteStore } = await import(${JSON.stringify(dist)});
      process.stdout.write('pid ' + process.pid + '\\n');
      const store = await sqliteStore({ path: ${JSON.stringify(path)} });
      await store.init();
      for (let i = 0; i < 20000; i += 50) {
        const now = Date.now();
        await store.messages.enqueueMany(Array.from({ length: 50 }, (_, j) => ({
          id: 'sms_' + String(i + j).padStart(26, '0'), idempotencyKey: null, requestHash: 'h',
          account: 'main', mobiles: ['13800138000'], content: 'checkpoint ' + (i + j), sendAt: null,
          extNo: '', metadata: null, callbackUrl: null, expiresAt: null, now,
        })));
        process.stdout.write('committed ' + (i + 50) + '\\n');
      }
      process.stdout.write('done\\n');
    `;
    const child = spawn(
      'strace',
      [
        '-f',
        '-qq',
        '-o',
        log,
        '-P',
        path,
        '-e',
        'trace=pwrite64',
        '-e',
        'inject=pwrite64:signal=SIGKILL:when=20',
        process.execPath,
        '--input-type=module',
        '-e',
        writer,
      ],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    await new Promise((resolve) => child.once('exit', resolve));
    expect(out, err).not.toContain('done');
    const committed = Math.max(
      0,
      ...[...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1])),
    );
    expect(committed, err).toBeGreaterThan(0);
    // Killed on a write into the database file, by a thread that is not the process's main one.
    const writes = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => /pwrite64\(/.test(l));
    const [writerPid, ...rest] = (writes.at(-1) ?? '').split(' ');
    expect(rest.join(' ')).toMatch(/pwrite64\(/);
    const mainPid = /pid (\d+)/.exec(out)?.[1];
    expect(mainPid).toBeDefined();
    expect(writerPid).not.toBe(mainPid);

    const db = new Database(path);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const stored = (db.prepare('SELECT count(*) AS n FROM gw_messages').get() as { n: number }).n;
      expect(stored).toBeGreaterThanOrEqual(committed);
      const last = db
        .prepare('SELECT content FROM gw_messages WHERE id = ?')
        .get(`sms_${String(committed - 1).padStart(26, '0')}`) as { content: string } | undefined;
      expect(last?.content).toBe(`checkpoint ${committed - 1}`);
    } finally {
      db.close();
    }
  });

  it('the writer checkpoints at a larger size while the thread runs, and as SQLite does once it stopped', async () => {
    const path = join(tempDir(), 'raw.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x)');
    const checkpointer = sqliteCheckpointer(db, { path, journalMode: 'wal' });
    expect(checkpointer.thread).toBeDefined();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(WRITER_AUTOCHECKPOINT_PAGES);
    const exited = new Promise((resolve) => checkpointer.thread!.once('exit', resolve));
    await checkpointer.thread!.terminate();
    await exited;
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(SQLITE_AUTOCHECKPOINT_PAGES);
    await checkpointer.close();
    db.close();
  });

  it('an in-memory database has no thread', async () => {
    const db = new Database(':memory:');
    const checkpointer = sqliteCheckpointer(db, { path: ':memory:', journalMode: 'memory' });
    expect(checkpointer.thread).toBeUndefined();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(SQLITE_AUTOCHECKPOINT_PAGES);
    await checkpointer.close();
    db.close();
  });
});
