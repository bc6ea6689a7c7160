import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '@sms/emulator';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Relay, createRelay } from '../relay.js';
import { messageUntil, relayApi } from '../test-utils/gateway-api.js';
import { type Receiver, startReceiver, waitFor } from '../test-utils/receiver.js';
import { TEST_DATABASE_URL, memoryLogger, secret, tempDir } from '../test-utils/setup.js';

// The gateway's route over two emulated resellers, on both stores: a message sent without an
// account moves to the next account only when its send surely did not go out, keeps its id,
// and its reports (from whichever account sent it) carry that id. The emulators' own records
// say where each message went.

const TOKEN = 'gateway-failover-token-0123456789';
const A = { userId: '21', account: 'alpha', password: 'alpha-secret' };
const B = { userId: '', account: 'beta', password: 'beta-secret' };

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.each(['sqlite', 'postgres'] as const)('gateway route on %s', (kind) => {
  let resellerA: Emulator;
  let resellerB: Emulator;
  let tmp: ReturnType<typeof tempDir>;
  let rx: Receiver;
  const relays: Relay[] = [];
  const schemas: string[] = [];
  let n = 0;

  beforeAll(async () => {
    resellerA = await startEmulator({ accounts: [{ ...A, balance: 1000 }] });
    resellerB = await startEmulator({ accounts: [{ ...B, balance: 1000 }] });
    tmp = tempDir();
    rx = await startReceiver({ secret });
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    resellerA.reset();
    resellerB.reset();
    rx.received.length = 0;
  });
  afterAll(async () => {
    await resellerA.close();
    await resellerB.close();
    await rx.close();
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    for (const schema of schemas) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
    tmp.cleanup();
  });

  async function start(
    aUrl: string = resellerA.url,
    gateway: Record<string, unknown> = {},
  ): Promise<Relay> {
    n++;
    let store: Record<string, string>;
    if (kind === 'sqlite') store = { sqlite: join(tmp.dir, `route-${n}.db`) };
    else {
      const schema = `relay_rt_${randomBytes(5).toString('hex')}`;
      schemas.push(schema);
      store = { postgres: TEST_DATABASE_URL, schema };
    }
    const relay = createRelay(
      {
        store,
        journal: { dir: join(tmp.dir, `journal-${n}`) },
        accounts: [
          { name: 'a', baseUrl: aUrl, ...A, pollIntervalMs: 50, timeoutMs: 2000 },
          { name: 'b', baseUrl: resellerB.url, ...B, pollIntervalMs: 50, timeoutMs: 2000 },
        ],
        targets: [{ name: 'app', url: rx.url, secret }],
        delivery: { retrySchedule: [50, 100, 200], jitter: 0, idleMs: 20, timeoutMs: 2000 },
        gateway: { idleMs: 20, retryDelayMs: 50, maxAttempts: 3, ...gateway },
        http: { port: 0, host: '127.0.0.1', token: TOKEN },
      },
      { logger: memoryLogger() },
    );
    relays.push(relay);
    await relay.start();
    return relay;
  }

  const api = relayApi(TOKEN);

  const settled = messageUntil(TOKEN);

  it('a refused connection on a: the message keeps its id, is sent once on b, and its reports carry the id', async () => {
    const relay = await start(`http://127.0.0.1:${await closedPort()}`);
    const posted = await api(relay, 'POST', '/v1/messages', {
      to: '13800138000',
      content: '【测试】route',
      metadata: { order: 'R-1' },
    });
    expect(posted.status).toBe(202);
    const id = posted.body['id'] as string;
    const sent = await settled(relay, id, (m) => m['recipients']?.[0]?.status === 'delivered');
    expect(sent).toMatchObject({
      id,
      status: 'sent',
      account: 'b',
      failovers: [{ account: 'a', code: 'NETWORK' }],
      taskId: resellerB.sent()[0]!.taskId,
    });
    expect(resellerB.sent()).toHaveLength(1);
    await waitFor(() => rx.verified().length >= 1, 10_000, 'the report webhook');
    expect(rx.verified()[0]!.event!.data).toMatchObject({
      account: 'b',
      messageId: id,
      metadata: { order: 'R-1' },
      taskId: sent['taskId'],
    });
  });

  // The sender's last claims found the queue empty: only the failover itself can bring the
  // claim on b before the idle poll (a minute here).
  it('a failover is claimed on b at once, not at the next idle poll', async () => {
    const relay = await start(`http://127.0.0.1:${await closedPort()}`, { idleMs: 60_000 });
    const posted = await api(relay, 'POST', '/v1/messages', {
      to: '13800138001',
      content: '【测试】route at once',
    });
    expect(posted.status).toBe(202);
    const sent = await settled(relay, posted.body['id'], (m) => m['status'] === 'sent');
    expect(sent).toMatchObject({ account: 'b', failovers: [{ account: 'a', code: 'NETWORK' }] });
    expect(resellerB.sent()).toHaveLength(1);
  });

  it('a reset after the request was written on a: unknown, on a, never tried on b', async () => {
    resellerA.setFault({ type: 'reset', action: 'send', times: 1 });
    const relay = await start();
    const { body } = await api(relay, 'POST', '/v1/messages', {
      to: '13800138000',
      content: '【测试】unknown',
    });
    const message = await settled(relay, body['id'] as string, (m) => m['status'] === 'unknown');
    expect(message).toMatchObject({ account: 'a', failovers: [] });
    expect(resellerA.sent()).toHaveLength(1); // it went out on a
    // Give the sender time to do what it must not: try b.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resellerB.requests().filter((r) => r.action === 'send')).toHaveLength(0);
  });

  it('a message naming its account is never moved to another', async () => {
    const relay = await start(`http://127.0.0.1:${await closedPort()}`);
    const { body } = await api(relay, 'POST', '/v1/messages', {
      to: '13800138000',
      content: '【测试】pinned',
      account: 'a',
    });
    const message = await settled(relay, body['id'] as string, (m) => m['status'] === 'failed');
    expect(message).toMatchObject({ account: 'a', failovers: [], error: { code: 'NETWORK' } });
    expect(resellerB.requests().filter((r) => r.action === 'send')).toHaveLength(0);
  });

  it('round-robin: messages without an account start at the next account of the route in turn', async () => {
    const relay = await start(resellerA.url, { strategy: 'round-robin', route: ['b', 'a'] });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { body } = await api(relay, 'POST', '/v1/messages', {
        to: `1380013800${i}`,
        content: `【测试】turn ${i}`,
      });
      ids.push(body['id'] as string);
    }
    const accounts: string[] = [];
    for (const id of ids) {
      const message = await settled(relay, id, (m) => m['status'] === 'sent');
      expect(message['failovers']).toEqual([]);
      accounts.push(message['account'] as string);
    }
    expect(accounts).toEqual(['b', 'a', 'b', 'a']);
    expect(
      resellerA
        .sent()
        .map((m) => m.content)
        .sort(),
    ).toEqual(['【测试】turn 1', '【测试】turn 3']);
    expect(
      resellerB
        .sent()
        .map((m) => m.content)
        .sort(),
    ).toEqual(['【测试】turn 0', '【测试】turn 2']);
  });
});
