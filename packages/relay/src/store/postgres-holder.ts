/**
 * A relay process as the holder of its PostgreSQL claims. Its lease tokens start with
 * `<holder id>.`, and it holds a session advisory lock named after that id, on a connection of
 * its own, for as long as it lives. The lock goes with the connection, so when a replica dies
 * (SIGKILL, OOM, a lost host) the others see at once that its claims have no holder and take
 * them back without waiting for the leases; a replica that is alive but slow keeps its lock,
 * and its claims.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { newLeaseToken } from '../shared/ids.js';

export interface ClaimHolder {
  /** A fresh lease token of this process: `<holder id>.<128 random bits>`. */
  lease(): Promise<string>;
  /** The text a lease's holder lock is named with, before the holder id (a query parameter). */
  readonly prefix: string;
  /**
   * SQL that is true when the holder of the lease in `column` is gone; `prefixParam` is the
   * placeholder bound to `prefix`. Leases of older versions (no holder) are never gone.
   */
  isGone(column: string, prefixParam: string): string;
  close(): Promise<void>;
}

export function claimHolder(
  pgModule: typeof pg,
  connection: pg.ClientConfig,
  schema: string,
): ClaimHolder {
  const prefix = `sms-relay-holder:${schema}:`;
  let current: { id: string; client: pg.Client; alive: boolean } | undefined;
  let connecting: Promise<string> | undefined;
  let closed = false;

  async function holderId(): Promise<string> {
    if (current?.alive) return current.id;
    connecting ??= (async () => {
      // A new id after a lost connection: the old one's claims are free for anyone now.
      const id = randomBytes(9).toString('base64url');
      const client = new pgModule.Client(connection);
      const next = { id, client, alive: false };
      const die = () => {
        next.alive = false;
      };
      client.on('error', die);
      client.on('end', die);
      try {
        await client.connect();
        await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [prefix + id]);
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      if (closed) {
        await client.end().catch(() => {});
        throw new Error('[sms] [relay] store closed');
      }
      next.alive = true;
      current = next;
      return id;
    })().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  return {
    prefix,
    async lease() {
      return `${await holderId()}.${newLeaseToken()}`;
    },
    isGone: (column, prefixParam) =>
      `(position('.' in ${column}) > 0
        AND hashtextextended(${prefixParam} || split_part(${column}, '.', 1), 0) NOT IN (
          SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks
          WHERE locktype = 'advisory' AND objsubid = 1 AND granted))`,
    async close() {
      closed = true;
      await current?.client.end().catch(() => {});
    },
  };
}
