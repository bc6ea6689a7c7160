/**
 * One relay process owns a SQLite store, and can prove it: it holds an exclusive lock on a
 * small file beside the database (`relay.db-owner`) for as long as it runs. The kernel drops
 * that lock the moment the process dies, SIGKILL included, so a relay that gets the lock
 * knows that whoever claimed deliveries or sends before it is gone: their claims are free at
 * once, not when their leases run out. A live process (one still shutting down, or a second
 * relay started on the same file by mistake) keeps the lock, and its claims stay its own.
 */
import type BetterSqlite3 from 'better-sqlite3';

export interface SqliteOwnership {
  /** The pid the previous owner wrote, if any (it is gone: its lock was free). */
  previousPid: number | null;
  release(): void;
}

export class StoreOwnedError extends Error {
  override readonly name = 'StoreOwnedError';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * Takes the owner lock of the SQLite store at `path`, waiting up to `waitMs` for a previous
 * process that is still stopping. Throws `StoreOwnedError` if the lock stays held.
 */
export async function acquireSqliteOwnership(
  path: string,
  options: { waitMs: number },
): Promise<SqliteOwnership> {
  const { default: Database } = await import('better-sqlite3');
  const lockFile = `${path}-owner`;
  const db: BetterSqlite3.Database = new Database(lockFile, { timeout: 0 });
  // EXCLUSIVE locking mode: the lock taken by the first write is kept until the connection
  // closes (here: the process ends, or the store is closed).
  db.pragma('locking_mode = EXCLUSIVE');
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    try {
      const previousPid = db
        .transaction(() => {
          db.exec(
            'CREATE TABLE IF NOT EXISTS owner (pid INTEGER NOT NULL, since INTEGER NOT NULL)',
          );
          const row = db.prepare('SELECT pid FROM owner').get() as { pid: number } | undefined;
          db.exec('DELETE FROM owner');
          db.prepare('INSERT INTO owner (pid, since) VALUES (?, ?)').run(process.pid, Date.now());
          return row?.pid ?? null;
        })
        .exclusive();
      return { previousPid, release: () => db.close() };
    } catch (error) {
      if (!isBusy(error)) {
        db.close();
        throw error;
      }
      if (Date.now() >= deadline) {
        db.close();
        throw new StoreOwnedError(
          `another process runs a relay on ${path} (it holds ${lockFile}): one relay per SQLite file; use PostgreSQL for replicas`,
        );
      }
      await sleep(100);
    }
  }
}
