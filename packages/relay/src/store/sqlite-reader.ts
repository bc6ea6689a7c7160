import { resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { type SqliteThreadMain, startSqliteThread } from './sqlite-thread.js';

/** One read: a statement and its positional parameters. */
export type Read = readonly [sql: string, params: readonly unknown[]];

/**
 * Where the console's heavier reads run. On a file: a thread of its own with a read-only
 * connection (WAL lets it read while the main connection writes), so a read never holds
 * the event loop. On `:memory:` (one connection only): on the main connection.
 */
export interface SqliteReader {
  /** Runs the reads in one read transaction (one snapshot); rows of each, in order. */
  read(reads: readonly Read[]): Promise<unknown[][]>;
  close(): Promise<void>;
}

interface WorkerData {
  path: string;
  timeout: number;
}

type Answer =
  | { seq: number; rows: unknown[][] }
  | { seq: number; error: { message: string; code?: string } };

/** The reader thread: a read-only connection answering batches of reads. */
const readerMain: SqliteThreadMain<WorkerData> = (Database, data, parentPort) => {
  const db = new Database(data.path, {
    readonly: true,
    fileMustExist: true,
    timeout: data.timeout,
  });
  const statements = new Map<string, BetterSqlite3.Statement>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };
  const readAll = db.transaction((reads: Read[]) =>
    reads.map(([sql, params]) => prepared(sql).all(...params)),
  );
  parentPort.on('message', ({ seq, reads }: { seq: number; reads: Read[] }) => {
    try {
      parentPort.postMessage({ seq, rows: readAll(reads) });
    } catch (error) {
      const { message, code } = error as { message?: unknown; code?: unknown };
      parentPort.postMessage({
        seq,
        error: { message: String(message), code: typeof code === 'string' ? code : undefined },
      });
    }
  });
};

/** The reads on the main connection (`:memory:`): the same transaction, synchronously. */
function mainThreadReader(db: BetterSqlite3.Database): SqliteReader {
  const readAll = db.transaction((reads: readonly Read[]) =>
    reads.map(([sql, params]) => db.prepare(sql).all(...params)),
  );
  return {
    async read(reads) {
      return readAll(reads);
    },
    async close() {},
  };
}

class ThreadReader implements SqliteReader {
  private worker: Worker | undefined;
  private seq = 0;
  private readonly pending = new Map<
    number,
    { resolve: (rows: unknown[][]) => void; reject: (error: Error) => void }
  >();
  private closed = false;

  constructor(private readonly data: WorkerData) {}

  private spawn(): Worker {
    const worker = startSqliteThread(readerMain, this.data);
    worker.on('message', (answer: Answer) => {
      const waiting = this.pending.get(answer.seq);
      this.pending.delete(answer.seq);
      // Idle, the thread does not keep the process alive; a read waiting for it does.
      if (this.pending.size === 0) worker.unref();
      if (!waiting) return;
      if ('rows' in answer) waiting.resolve(answer.rows);
      else
        waiting.reject(Object.assign(new Error(answer.error.message), { code: answer.error.code }));
    });
    // A thread that dies fails its reads; the next read starts another.
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the SQLite reader thread stopped (exit ${code})`)));
    worker.unref();
    return worker;
  }

  read(reads: readonly Read[]): Promise<unknown[][]> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    this.worker ??= this.spawn();
    const worker = this.worker;
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      worker.ref();
      worker.postMessage({ seq, reads });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}

export function sqliteReader(
  db: BetterSqlite3.Database,
  options: { path: string; busyTimeoutMs: number },
): SqliteReader {
  if (options.path === ':memory:' || options.path === '') return mainThreadReader(db);
  return new ThreadReader({ path: resolve(options.path), timeout: options.busyTimeoutMs });
}
