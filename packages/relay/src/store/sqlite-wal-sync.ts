import { closeSync, fdatasync, openSync } from 'node:fs';

/**
 * Makes a SQLite file's committed WAL frames durable without holding the event loop. A
 * transaction committed with `synchronous=NORMAL` is in the WAL file but not yet on disk;
 * `fdatasync` of that file (any descriptor of it) then puts it there, on a libuv thread, while
 * the relay goes on. The same guarantee as a `FULL` commit, whose fsync is of that same file,
 * but without stopping everything else for it.
 *
 * Sound while the WAL file is the one SQLite writes: it stays while the relay's connection is
 * open (SQLite removes it only when the last connection closes), a checkpoint first syncs it
 * (NORMAL syncs the WAL before every checkpoint), and a WAL restarted after a checkpoint is
 * the same file written from its start.
 */
export interface WalSync {
  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void>;
  /** Closes the WAL's descriptor once the syncs in flight are done. */
  close(): Promise<void>;
}

export function walSync(databasePath: string): WalSync {
  let fd: number | undefined;
  const inFlight = new Set<Promise<void>>();
  return {
    sync() {
      // Opened on first use: the WAL exists once a transaction was committed in WAL mode.
      // Read and write, never written: Windows flushes only a file opened for writing.
      fd ??= openSync(`${databasePath}-wal`, 'r+');
      const descriptor = fd;
      const synced = new Promise<void>((resolve, reject) =>
        fdatasync(descriptor, (error) => (error ? reject(error) : resolve())),
      );
      const settled = synced.then(
        () => {},
        () => {},
      );
      inFlight.add(settled);
      void settled.then(() => inFlight.delete(settled));
      return synced;
    },
    async close() {
      await Promise.all(inFlight);
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
