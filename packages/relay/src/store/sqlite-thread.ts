import { createRequire } from 'node:module';
import { type MessagePort, Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/**
 * What a SQLite thread runs. It is eval'd code (no bundler rewrites its names), so it uses
 * only what it is given: better-sqlite3's class, its data, and its port to the parent.
 */
export type SqliteThreadMain<Data> = (
  Database: typeof BetterSqlite3,
  data: Data,
  parentPort: MessagePort,
) => void;

/**
 * Starts `main` on a thread of its own with better-sqlite3 as this process resolved it (the
 * thread has no module resolution of ours: built-ins come through `process.getBuiltinModule`).
 */
export function startSqliteThread<Data>(main: SqliteThreadMain<Data>, data: Data): Worker {
  const here = typeof __filename === 'string' ? __filename : import.meta.url;
  const driver = createRequire(here).resolve('better-sqlite3');
  const bootstrap = `
    const threads = process.getBuiltinModule('node:worker_threads');
    const { driver, data } = threads.workerData;
    const Database = process.getBuiltinModule('node:module').createRequire(driver)(driver);
    (${main.toString()})(Database, data, threads.parentPort);`;
  return new Worker(bootstrap, {
    eval: true,
    // Not the test runner's `--conditions` and loaders: the thread runs plain JavaScript.
    execArgv: [],
    workerData: { driver, data },
  });
}
