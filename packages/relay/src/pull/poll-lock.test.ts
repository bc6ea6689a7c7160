/**
 * The PostgreSQL poll lock as an operator sees it in the log: giving it up on SIGTERM is
 * quiet; losing it (its session's backend terminated) warns.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RelayChild, spawnRelay } from '../test-utils/child.js';
import { waitFor } from '../test-utils/receiver.js';
import { PASSWORD, TEST_DATABASE_URL, emulator, secret, tempDir } from '../test-utils/setup.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

let admin: pg.Client;
let configPath: string;
let schema: string;

beforeAll(async () => {
  const platform = await emulator();
  cleanups.push(() => platform.close());
  const tmp = tempDir();
  cleanups.push(() => tmp.cleanup());
  schema = `relay_lock_${randomBytes(5).toString('hex')}`;
  admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  cleanups.push(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });
  configPath = join(tmp.dir, 'relay.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      store: { postgres: TEST_DATABASE_URL, schema },
      accounts: [
        {
          name: 'main',
          baseUrl: platform.url,
          userId: '12',
          account: 'demo',
          password: PASSWORD,
          pollIntervalMs: 100,
        },
      ],
      targets: [{ name: 'app', url: 'http://127.0.0.1:9/hook', secret }],
      http: { port: 0, host: '127.0.0.1' },
      journal: { dir: join(tmp.dir, 'journal'), fsync: false },
    }),
  );
});

async function polling(): Promise<RelayChild> {
  const relay = spawnRelay(configPath);
  cleanups.push(() => relay.kill('SIGKILL'));
  await relay.url;
  await waitFor(() => relay.polling('main'), 10_000, 'the relay holding the poll lock');
  return relay;
}

const warned = (relay: RelayChild) => relay.lines.filter((l) => l.includes('lost the poll lock'));

it('a clean SIGTERM releases the lock without "lost the poll lock"', {
  timeout: 30_000,
}, async () => {
  const relay = await polling();
  expect(await relay.kill('SIGTERM')).toBe(0);
  expect(relay.lines.some((l) => l.includes('"relay stopped"'))).toBe(true);
  expect(warned(relay)).toEqual([]);
});

it('a lock really lost (its backend terminated) still warns', { timeout: 30_000 }, async () => {
  const relay = await polling();
  // The backend holding the account's advisory lock (the relay's dedicated lock session).
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
       AND l.objid::bigint = (hashtextextended($1, 0) & 4294967295)`,
    [`sms-relay:${schema}:main`],
  );
  expect(rows).toHaveLength(1);
  await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
  await waitFor(async () => warned(relay).length > 0, 10_000, 'the warning');
  expect(JSON.parse(warned(relay)[0]!)).toMatchObject({ level: 'warn', account: 'main' });
  // It takes the lock again, and a SIGTERM after that is quiet again.
  await waitFor(() => relay.polling('main'), 10_000, 'the lock taken again');
  expect(await relay.kill('SIGTERM')).toBe(0);
  expect(warned(relay)).toHaveLength(1);
});
