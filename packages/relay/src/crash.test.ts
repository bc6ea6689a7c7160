import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '@sms/emulator';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { type RelayChild, spawnRelay } from './test-utils/child.js';
import { startPullGate } from './test-utils/pull-gate.js';
import { startReceiver, waitFor } from './test-utils/receiver.js';
import { PASSWORD, emulator, secret, tempDir } from './test-utils/setup.js';

const REPORTS = 2000;
const REPLIES = 200;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

it('survives SIGKILL at random moments: every report and reply arrives, signed', {
  timeout: 120_000,
}, async () => {
  const platform: Emulator = await emulator();
  cleanups.push(() => platform.close());
  const gate = await startPullGate(platform.url);
  cleanups.push(() => gate.close());
  const rx = await startReceiver({ secret });
  cleanups.push(() => rx.close());
  const tmp = tempDir();
  cleanups.push(() => tmp.cleanup());
  const dbPath = join(tmp.dir, 'relay.db');
  const configPath = join(tmp.dir, 'relay.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      store: { sqlite: dbPath },
      accounts: [
        {
          name: 'main',
          baseUrl: gate.url,
          userId: '12',
          account: 'demo',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${ENV} syntax
          password: '${SMS_PASSWORD}',
          pollIntervalMs: 100,
          statusNum: 300,
          timeoutMs: 2000,
        },
      ],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${ENV} syntax
      targets: [{ name: 'app', url: rx.url, secret: '${WEBHOOK_SECRET}' }],
      delivery: {
        timeoutMs: 1000,
        leaseMs: 1500,
        idleMs: 20,
        retrySchedule: [100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000, 1000],
      },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: 'info' },
    }),
  );
  const env = { SMS_PASSWORD: PASSWORD, WEBHOOK_SECRET: secret };
  let child: RelayChild = spawnRelay(configPath, env);
  cleanups.push(() => void child.kill('SIGKILL'));
  await child.url;

  const expected = new Set<string>();
  let injecting = true;
  const injector = (async () => {
    for (let i = 0; i < REPORTS || expected.size < REPORTS + REPLIES; ) {
      for (let k = 0; k < 40 && i < REPORTS; k++, i++) {
        const mobile = `139${String(i).padStart(8, '0')}`;
        const taskId = String(7_000_000_000_000_000n + BigInt(i));
        platform.injectReport({ account: 'demo', mobile, taskId, status: i % 7 === 0 ? 20 : 10 });
        expected.add(`report:${mobile}:${taskId}`);
      }
      if (i % 400 === 0 || i >= REPORTS) {
        for (let k = 0; k < 40 && expected.size < REPORTS + REPLIES; k++) {
          const content = `回复 ${expected.size}`;
          platform.injectReply({ account: 'demo', mobile: '13800138000', content });
          expected.add(`reply:${content}`);
        }
      }
      await sleep(80);
    }
    injecting = false;
  })();

  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  cleanups.push(() => void db.close());
  const stored = () => (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;

  let kills = 0;
  while (injecting || kills < 8) {
    await sleep(150 + Math.random() * 900);
    // Kill anywhere except inside the platform's pull-once window (see startPullGate).
    gate.hold();
    await waitFor(
      () => gate.inFlight === 0 && stored() >= gate.forwardedRecords,
      10_000,
      'pulled records committed',
    );
    expect(await child.kill('SIGKILL')).toBe(null);
    kills++;
    await sleep(30);
    gate.release();
    child = spawnRelay(configPath, env);
    await child.url;
  }
  await injector;

  const keyOf = (event: { type: string; data: Record<string, unknown> }) =>
    event.type === 'sms.report'
      ? `report:${String(event.data['mobile'])}:${String(event.data['taskId'])}`
      : `reply:${String(event.data['content'])}`;
  const arrived = () => new Set(rx.verified().map((r) => keyOf(r.event!)));
  await waitFor(() => arrived().size >= expected.size, 60_000, 'every record at the receiver');

  const got = arrived();
  const missing = [...expected].filter((key) => !got.has(key));
  expect(missing).toEqual([]);
  expect(rx.received.filter((r) => r.event === null)).toEqual([]);
  const ids = new Set(rx.received.map((r) => r.id));
  expect(ids.size).toBe(expected.size);
  const duplicates = rx.received.length - ids.size;
  console.log(
    `crash test: ${kills} SIGKILLs, ${expected.size} events (${REPORTS} reports, ${REPLIES} replies), ` +
      `${rx.received.length} deliveries, ${duplicates} duplicates`,
  );

  // A clean SIGTERM exits 0 after finishing in-flight work.
  expect(await child.kill('SIGTERM')).toBe(0);
});
