/**
 * SQLite: one relay process owns the store, and a restart after a crash proves its predecessor
 * is gone (the owner lock the kernel released) and takes its claims back at once, instead of
 * waiting for their leases (2 x timeoutMs + 5 s, 35 s by default) to run out.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '@sms/emulator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RelayChild, spawnRelay } from './test-utils/child.js';
import { type Receiver, startReceiver, waitFor } from './test-utils/receiver.js';
import { PASSWORD, TEST_DATABASE_URL, emulator, secret, tempDir } from './test-utils/setup.js';

const HOLD = () => ({ status: 204, delayMs: 600_000 });

/**
 * relay.json for these tests: replies only, the default delivery timeout (so the default
 * lease, 2 x 15 s + 5 s, which no test here may wait out), written to `path`.
 */
function writeConfig(
  path: string,
  parts: { store: object; platformUrl: string; receiverUrl: string; extra?: object },
): string {
  writeFileSync(
    path,
    JSON.stringify({
      store: parts.store,
      accounts: [
        {
          name: 'main',
          baseUrl: parts.platformUrl,
          userId: '12',
          account: 'demo',
          password: PASSWORD,
          pollIntervalMs: 50,
          reports: false,
        },
      ],
      targets: [{ name: 'app', url: parts.receiverUrl, secret }],
      delivery: { timeoutMs: 15_000 },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: 'info' },
      ...parts.extra,
    }),
  );
  return path;
}

describe('SQLite store ownership', () => {
  let platform: Emulator;
  let tmp: ReturnType<typeof tempDir>;
  let rx: Receiver;
  const children: RelayChild[] = [];
  let n = 0;

  beforeAll(async () => {
    platform = await emulator();
    tmp = tempDir();
    rx = await startReceiver({ secret });
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await rx.close();
    await platform.close();
    tmp.cleanup();
  });

  function config(): string {
    n++;
    return writeConfig(join(tmp.dir, `relay-${n}.json`), {
      store: { sqlite: join(tmp.dir, `relay-${n}.db`) },
      platformUrl: platform.url,
      receiverUrl: rx.url,
      extra: { shutdownGraceMs: 300 },
    });
  }

  function spawn(path: string): RelayChild {
    const child = spawnRelay(path);
    children.push(child);
    return child;
  }

  const inject = (count: number, tag: string) => {
    for (let i = 0; i < count; i++) {
      platform.injectReply({ account: 'demo', mobile: '13800138000', content: `${tag} ${i}` });
    }
  };

  it('a relay restarted after a SIGKILL delivers what the dead one had claimed within 2 s, under the same ids', {
    timeout: 60_000,
  }, async () => {
    const path = config();
    rx.received.length = 0;
    rx.setResponder(HOLD);
    const first = spawn(path);
    await first.url;
    inject(10, 'takeover');
    // Every delivery claimed and in flight, held by the receiver: then the kill.
    await waitFor(() => rx.received.length >= 10, 20_000);
    const claimedIds = new Set(rx.received.map((r) => r.id));
    expect(claimedIds.size).toBe(10);
    await first.kill('SIGKILL');

    rx.setResponder(() => ({ status: 204 }));
    const heldBefore = rx.received.length;
    const second = spawn(path);
    await second.url;
    const startedAt = Date.now();
    await waitFor(() => new Set(rx.received.slice(heldBefore).map((r) => r.id)).size >= 10, 10_000);
    const after = rx.received.slice(heldBefore);
    const lastAt = Math.max(...after.map((r) => r.at));
    expect(lastAt - startedAt).toBeLessThan(2000);
    // The same events, under the ids they were first sent with.
    expect(new Set(after.map((r) => r.id))).toEqual(claimedIds);
    const warning = second.lines.find((l) => l.includes('its claims are free again'));
    expect(JSON.parse(warning ?? '{}')).toMatchObject({ deliveries: 10, callbacks: 0 });
    await second.kill('SIGTERM');
  });

  it('a second relay on a file whose owner is alive is refused; the owner keeps its claims and delivers', {
    timeout: 60_000,
  }, async () => {
    const path = config();
    rx.received.length = 0;
    rx.setResponder(() => ({ status: 204 }));
    const owner = spawn(path);
    await owner.url;

    const intruder = spawn(path);
    // It waits shutdownGraceMs + 5 s for an owner that might be stopping, then gives up.
    const code = await intruder.exited;
    expect(code).not.toBe(0);
    expect(intruder.lines.join('\n')).toContain('another process runs a relay on');

    inject(3, 'owner');
    await waitFor(() => rx.received.length >= 3, 10_000);
    expect(new Set(rx.received.map((r) => r.id)).size).toBe(3);
    await owner.kill('SIGTERM');
  });
});

describe('PostgreSQL replicas', () => {
  let platform: Emulator;
  let tmp: ReturnType<typeof tempDir>;
  let rx: Receiver;
  const children: RelayChild[] = [];
  const schema = `relay_takeover_${randomBytes(5).toString('hex')}`;
  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });

  beforeAll(async () => {
    platform = await emulator();
    tmp = tempDir();
    rx = await startReceiver({ secret });
    await db.connect();
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
    await rx.close();
    await platform.close();
    tmp.cleanup();
  });

  function spawn(name: string): RelayChild {
    const path = writeConfig(join(tmp.dir, `${name}.json`), {
      store: { postgres: TEST_DATABASE_URL, schema },
      platformUrl: platform.url,
      receiverUrl: rx.url,
      extra: { journal: { dir: join(tmp.dir, `${name}.pull-journal`) } },
    });
    const child = spawnRelay(path);
    children.push(child);
    return child;
  }

  it("a live replica leaves a slow replica's claims alone, and takes a dead one's within 10 s, under the same ids", {
    timeout: 90_000,
  }, async () => {
    rx.setResponder(HOLD);
    const a = spawn('a');
    await a.url;
    for (let i = 0; i < 10; i++) {
      platform.injectReply({ account: 'demo', mobile: '13800138000', content: `pg ${i}` });
    }
    await waitFor(() => rx.received.length >= 10, 20_000);
    const claimedIds = new Set(rx.received.map((r) => r.id));
    expect(claimedIds.size).toBe(10);

    // B runs beside A while A's deliveries hang: slow is not dead, B takes nothing.
    const b = spawn('b');
    await b.url;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(rx.received).toHaveLength(10);

    rx.setResponder(() => ({ status: 204 }));
    await a.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => rx.received.length >= 20, 15_000, "the dead replica's 10 deliveries");
    const after = rx.received.slice(10);
    expect(Math.max(...after.map((r) => r.at)) - killedAt).toBeLessThan(10_000);
    expect(new Set(after.map((r) => r.id))).toEqual(claimedIds);
    await b.kill('SIGTERM');
  });
});
