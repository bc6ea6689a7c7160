import { resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { type SqliteThreadMain, startSqliteThread } from './sqlite-thread.js';

/** SQLite's own threshold (pages of WAL), which its automatic checkpoint runs at. */
export const SQLITE_AUTOCHECKPOINT_PAGES = 1000;
/**
 * The main connection's threshold while the thread checkpoints. A WAL under constant writes
 * is only started again from its beginning after a checkpoint that reached its end, which the
 * thread cannot reach while the writer goes on (PASSIVE copies what was there when it began).
 * So the writer still checkpoints, but only what the thread has not copied yet, four times
 * less often than SQLite's default (the WAL grows to about 16 MiB instead of 4).
 */
export const WRITER_AUTOCHECKPOINT_PAGES = 4000;
const INTERVAL_MS = 100;

/**
 * Checkpoints the WAL on a thread of its own. SQLite runs its automatic checkpoint inside the
 * commit that crosses the threshold, on the connection that committed: the relay's main
 * connection copied about a thousand pages into the database file and fsynced it while the
 * event loop waited, every 16 to 40 commits under load. The thread's PASSIVE checkpoints never
 * wait for the writer nor stop it, and SQLite's WAL protocol keeps them safe beside it: the
 * WAL is synced before its pages are copied, the database file after.
 */
export interface SqliteCheckpointer {
  close(): Promise<void>;
  /** The thread, for tests (undefined where there is none: in memory, no WAL). */
  readonly thread: Worker | undefined;
}

interface WorkerData {
  path: string;
  intervalMs: number;
}

/** The checkpoint thread: PASSIVE checkpoints on a timer until the parent says `close`. */
const checkpointerMain: SqliteThreadMain<WorkerData> = (Database, data, parentPort) => {
  const db = new Database(data.path, { fileMustExist: true, timeout: 0 });
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  const timer = setInterval(() => {
    try {
      checkpoint.get();
    } catch {
      // Busy or locked for a moment: the next turn tries again, and the writer's own
      // checkpoint bounds the WAL meanwhile.
    }
  }, data.intervalMs);
  parentPort.on('message', (message: unknown) => {
    if (message !== 'close') return;
    clearInterval(timer);
    db.close();
    parentPort.close();
  });
};

const none: SqliteCheckpointer = { close: async () => {}, thread: undefined };

/** Starts checkpointing `db`'s WAL on a thread (a file in WAL mode; otherwise does nothing). */
export function sqliteCheckpointer(
  db: BetterSqlite3.Database,
  options: { path: string; journalMode: string },
): SqliteCheckpointer {
  if (options.journalMode !== 'wal' || options.path === ':memory:' || options.path === '') {
    return none;
  }
  const thread = startSqliteThread(checkpointerMain, {
    path: resolve(options.path),
    intervalMs: INTERVAL_MS,
  });
  thread.unref();
  db.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
  let closing = false;
  const exited = new Promise<void>((resolveExit) => {
    thread.once('exit', () => {
      // A thread that stopped (it failed to open the file, say): the writer checkpoints as
      // SQLite does by default, and nothing else changes.
      if (!closing && db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
      resolveExit();
    });
  });
  // An error ends the thread ('exit' follows): handled above, not thrown at the process.
  thread.on('error', () => {});
  return {
    thread,
    async close() {
      closing = true;
      thread.postMessage('close');
      // A thread stuck in a checkpoint of a huge WAL is stopped rather than waited for.
      const stuck = setTimeout(() => void thread.terminate(), 2000);
      await exited;
      clearTimeout(stuck);
    },
  };
}
