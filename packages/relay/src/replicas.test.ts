import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';

import { type RelayChild, spawnRelay } from './test-utils/child.js';
import { startPullGate } from './test-utils/pull-gate.js';
import { startReceiver, waitFor } from './test-utils/receiver.js';
import {
  PASSWORD,
  TEST_DATABASE_URL,
  emulator,
  report,
  secret,
  tempDir,
} from './test-utils/setup.js';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('two replicas on PostgreSQL: one polls each account; none lost when it dies', {
  timeout: 90_000,
}, async () => {
  const platform = await emulator();
  cleanups.push(() => platform.close());
  const gate = await startPullGate(platform.url);
  cleanups.push(() => gate.close());
  const rx = await startReceiver({ secret });
  cleanups.push(() => rx.close());
  const tmp = tempDir();
  cleanups.push(() => tmp.cleanup());
  const schema = `relay_replicas_${randomBytes(5).toString('hex')}`;
  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  cleanups.push(async () => {
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
  });

  const configPath = join(tmp.dir, 'relay.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      store: { postgres: TEST_DATABASE_URL, schema },
      accounts: [
        {
          name: 'main',
          baseUrl: gate.url,
          userId: '12',
          account: 'demo',
          password: PASSWORD,
          pollIntervalMs: 100,
        },
      ],
      targets: [{ name: 'app', url: rx.url, secret }],
      delivery: {
        timeoutMs: 1000,
        leaseMs: 1500,
        idleMs: 20,
        retrySchedule: [100, 200, 400, 800, 1000],
      },
      http: { port: 0, host: '127.0.0.1' },
    }),
  );
  const a: RelayChild = spawnRelay(configPath);
  const b: RelayChild = spawnRelay(configPath);
  cleanups.push(
    () => a.kill('SIGKILL'),
    () => b.kill('SIGKILL'),
  );
  await Promise.all([a.url, b.url]);

  const pollers = async () => [await a.polling('main'), await b.polling('main')];
  await waitFor(async () => (await pollers()).includes(true), 10_000, 'a poller');
  const expected = new Set<string>();
  const inject = (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = report();
      platform.injectReport(r);
      expected.add(`${r.mobile}:${r.taskId}`);
    }
  };
  for (let round = 0; round < 10; round++) {
    inject(20);
    expect((await pollers()).filter(Boolean)).toHaveLength(1);
    await sleep(50);
  }
  const [aPolls] = await pollers();
  const [holder, survivor] = aPolls ? [a, b] : [b, a];

  // Let both replicas deliver for a while, then kill the poller outside the pull-once window.
  inject(200);
  await sleep(150);
  const stored = async () =>
    Number((await db.query(`SELECT COUNT(*) AS n FROM "${schema}".events`)).rows[0].n);
  gate.hold();
  await waitFor(
    async () => gate.inFlight === 0 && (await stored()) >= gate.forwardedRecords,
    10_000,
    'commit',
  );
  await holder.kill('SIGKILL');
  await sleep(30);
  gate.release();

  await waitFor(() => survivor.polling('main'), 10_000, 'takeover');
  inject(200);
  const keys = () =>
    new Set(
      rx
        .verified()
        .map((r) => `${String(r.event!.data['mobile'])}:${String(r.event!.data['taskId'])}`),
    );
  await waitFor(() => keys().size >= expected.size, 30_000, 'every report');
  expect([...expected].filter((k) => !keys().has(k))).toEqual([]);
  const deliveredBy = await db.query(
    `SELECT COUNT(*)::int AS n FROM "${schema}".deliveries WHERE status = 'delivered'`,
  );
  await waitFor(
    async () => {
      const r = await db.query(
        `SELECT COUNT(*)::int AS n FROM "${schema}".deliveries WHERE status <> 'delivered'`,
      );
      return r.rows[0].n === 0;
    },
    10_000,
    'all acknowledged',
  );
  expect(deliveredBy.rows[0].n).toBeGreaterThan(0);
  expect(await survivor.kill('SIGTERM')).toBe(0);
});
