import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '@sms/emulator';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Relay, createRelay } from '../relay.js';
import { type Json, messageUntil, relayApi } from '../test-utils/gateway-api.js';
import { type Receiver, startReceiver, waitFor } from '../test-utils/receiver.js';
import { TEST_DATABASE_URL, memoryLogger, secret, tempDir } from '../test-utils/setup.js';
import type { ConsoleAccounts } from './api-types.js';

// GET /api/console/accounts over two emulated resellers, on both stores: reseller a stops
// taking the relay's password, its breaker opens after `failures` refusals and later messages
// skip it (CIRCUIT_OPEN) for b; once a takes the password again and the cool-down is over, a
// probe send goes to a and closes the breaker. The emulators' records say where each went.

const TOKEN = 'console-accounts-token-0123456789';
const A = { userId: '21', account: 'alpha', password: 'alpha-secret' };
const B = { userId: '', account: 'beta', password: 'beta-secret' };
const COOL_DOWN_MS = 2000;
const FAILURES = 2;

describe.each(['sqlite', 'postgres'] as const)('console accounts on %s', (kind) => {
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
    resellerA.setAccount({ account: A.account, password: A.password });
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

  function storeConfig(): Record<string, string> {
    n++;
    if (kind === 'sqlite') return { sqlite: join(tmp.dir, `accounts-${n}.db`) };
    const schema = `relay_acc_${randomBytes(5).toString('hex')}`;
    schemas.push(schema);
    return { postgres: TEST_DATABASE_URL, schema };
  }

  async function start(store: Record<string, string>, breaker: unknown): Promise<Relay> {
    const relay = createRelay(
      {
        store,
        journal: { dir: join(tmp.dir, `journal-${n}`) },
        accounts: [
          { name: 'a', baseUrl: resellerA.url, ...A, pollIntervalMs: 100, timeoutMs: 2000 },
          { name: 'b', baseUrl: resellerB.url, ...B, pollIntervalMs: 100, timeoutMs: 2000 },
        ],
        targets: [{ name: 'app', url: rx.url, secret }],
        // One send at a time: each refusal is counted before the next message is tried.
        gateway: { idleMs: 20, retryDelayMs: 50, maxAttempts: 3, concurrency: 1, breaker },
        http: { port: 0, host: '127.0.0.1', token: TOKEN },
      },
      { logger: memoryLogger() },
    );
    relays.push(relay);
    await relay.start();
    return relay;
  }

  const api = relayApi(TOKEN);
  const sent = messageUntil(TOKEN);

  const accounts = async (relay: Relay) =>
    (await api(relay, 'GET', '/api/console/accounts')).body as ConsoleAccounts;

  async function sendAll(relay: Relay, count: number, tag: string): Promise<Json[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const { body } = await api(relay, 'POST', '/v1/messages', {
        to: `1380013${String(i).padStart(4, '0')}`,
        content: `【测试】${tag} ${i}`,
      });
      ids.push(body['id'] as string);
    }
    const done: Json[] = [];
    for (const id of ids) done.push(await sent(relay, id, (m) => m['status'] === 'sent'));
    return done;
  }

  it('shows the breaker open after refusals, the failovers away from a and to b, and closed again after a probe', async () => {
    const relay = await start(storeConfig(), {
      failures: FAILURES,
      windowMs: 60_000,
      coolDownMs: COOL_DOWN_MS,
    });
    expect((await fetch(`${relay.url}/api/console/accounts`)).status).toBe(401);
    const before = await accounts(relay);
    expect(before.breaker).toEqual({
      failures: FAILURES,
      windowMs: 60_000,
      coolDownMs: COOL_DOWN_MS,
    });
    expect(before.accounts.map((a) => [a.name, a.breaker?.state, a.failovers])).toEqual([
      ['a', 'closed', { away: 0, to: 0, awayByCode: {} }],
      ['b', 'closed', { away: 0, to: 0, awayByCode: {} }],
    ]);

    // Reseller a no longer takes the relay's password.
    resellerA.setAccount({ account: A.account, password: 'rotated-elsewhere' });
    const sent = await sendAll(relay, 6, 'down');
    expect(sent.map((m) => m['account'])).toEqual(['b', 'b', 'b', 'b', 'b', 'b']);
    const codes = sent.map((m) => m['failovers'][0].code as string);
    // Refused twice, then skipped. A machine slow enough to pass the cool-down meanwhile sends
    // one probe there, refused again: it counts as one more refusal, never as a send.
    expect(codes.slice(0, 3)).toEqual(['AUTH_FAILED', 'AUTH_FAILED', 'CIRCUIT_OPEN']);
    expect(codes.filter((c) => c !== 'AUTH_FAILED' && c !== 'CIRCUIT_OPEN')).toEqual([]);
    const refused = codes.filter((c) => c === 'AUTH_FAILED').length;
    // The oracle: a was asked to send only the refused ones, b sent each message once.
    expect(resellerA.requests().filter((r) => r.action === 'send')).toHaveLength(refused);
    expect(resellerA.sent()).toHaveLength(0);
    expect(
      resellerB
        .sent()
        .map((m) => m.content)
        .sort(),
    ).toEqual(sent.map((_, i) => `【测试】down ${i}`).sort());

    const open = await accounts(relay);
    const [a, b] = open.accounts;
    expect(a).toMatchObject({
      name: 'a',
      breaker: { failures: refused },
      failovers: {
        away: 6,
        to: 0,
        awayByCode: { AUTH_FAILED: refused, CIRCUIT_OPEN: 6 - refused },
      },
    });
    if (a!.breaker!.state === 'open') {
      expect(a!.breaker!.probeAt).toBe(a!.breaker!.since + COOL_DOWN_MS);
    } else {
      expect(a!.breaker).toMatchObject({ state: 'half-open', probeAt: null }); // cool-down over
    }
    expect(a!.breaker!.since).toBeLessThanOrEqual(open.now);
    expect(b).toMatchObject({
      name: 'b',
      breaker: { state: 'closed', failures: 0, probeAt: null },
      failovers: { away: 0, to: 6, awayByCode: {} },
    });
    // The metric counts a's refused sends as failovers, and its skips (never sent) apart.
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    const sends = (account: string, outcome: string) =>
      metrics.match(
        new RegExp(
          `sms_relay_gateway_sends_total\\{account="${account}",outcome="${outcome}"\\} (\\d+)`,
        ),
      )?.[1];
    expect(sends('a', 'failover')).toBe(String(refused));
    expect(sends('a', 'skipped')).toBe(String(6 - refused));
    expect(sends('b', 'sent')).toBe('6');

    // a takes the password again; after the cool-down the next message is a's probe.
    resellerA.setAccount({ account: A.account, password: A.password });
    await waitFor(
      async () => (await accounts(relay)).accounts[0]!.breaker!.state === 'half-open',
      COOL_DOWN_MS + 5000,
      'the breaker half-open',
    );
    const [probe] = await sendAll(relay, 1, 'probe');
    expect(probe).toMatchObject({ account: 'a', failovers: [] });
    expect(resellerA.sent().map((m) => m.content)).toEqual(['【测试】probe 0']);
    const closed = await accounts(relay);
    expect(closed.accounts[0]).toMatchObject({
      breaker: { state: 'closed', failures: 0, probeAt: null },
      failovers: { away: 6, to: 0 },
    });
    expect(closed.accounts[0]!.breaker!.since).toBeGreaterThanOrEqual(a!.breaker!.since);
    expect(closed.accounts[0]!.breaker!.since).toBeLessThanOrEqual(closed.now);
  });

  it('failover counts come from the stored messages: a restart keeps them, its breakers start closed', async () => {
    const store = storeConfig();
    const breaker = { failures: 1, windowMs: 60_000, coolDownMs: 60_000 };
    const first = await start(store, breaker);
    resellerA.setAccount({ account: A.account, password: 'rotated-elsewhere' });
    await sendAll(first, 3, 'restart');
    expect((await accounts(first)).accounts[0]).toMatchObject({
      breaker: { state: 'open' },
      failovers: { away: 3, awayByCode: { AUTH_FAILED: 1, CIRCUIT_OPEN: 2 } },
    });
    await first.stop();
    relays.splice(relays.indexOf(first), 1);
    const second = await start(store, breaker);
    const after = await accounts(second);
    expect(
      after.accounts.map((a) => [a.name, a.breaker?.state, a.failovers.away, a.failovers.to]),
    ).toEqual([
      ['a', 'closed', 3, 0],
      ['b', 'closed', 0, 3],
    ]);
  });

  it('a probe whose answer is lost stays unknown on a, is never tried on b, and opens the breaker again', async () => {
    // A cool-down long enough that a loaded machine cannot pass it between a transition and
    // the reads below (500 ms was: the breaker read half-open where it had just opened).
    const coolDownMs = 3000;
    const relay = await start(storeConfig(), { failures: 1, windowMs: 60_000, coolDownMs });
    resellerA.setAccount({ account: A.account, password: 'rotated-elsewhere' });
    await sendAll(relay, 1, 'opens');
    expect((await accounts(relay)).accounts[0]!.breaker!.state).toBe('open');
    resellerA.setAccount({ account: A.account, password: A.password });
    // a records the send, then resets the connection: the probe's outcome is unknown.
    resellerA.setFault({ type: 'reset', action: 'send', times: 1 });
    await waitFor(
      async () => (await accounts(relay)).accounts[0]!.breaker!.state === 'half-open',
      coolDownMs + 5000,
      'the breaker half-open',
    );
    const { body } = await api(relay, 'POST', '/v1/messages', {
      to: '13900139000',
      content: '【测试】lost probe',
    });
    let message: Json = {};
    await waitFor(
      async () => {
        message = (await api(relay, 'GET', `/v1/messages/${body['id']}`)).body;
        return message['status'] === 'unknown';
      },
      10_000,
      'the probe unknown',
    );
    expect(message).toMatchObject({ account: 'a', failovers: [] });
    expect(resellerA.sent().map((m) => m.content)).toEqual(['【测试】lost probe']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(resellerB.sent().map((m) => m.content)).toEqual(['【测试】opens 0']);
    expect((await accounts(relay)).accounts[0]!.breaker).toMatchObject({ state: 'open' });
  });

  it('gateway.breaker false: no breaker, every message tries a first', async () => {
    const relay = await start(storeConfig(), false);
    resellerA.setAccount({ account: A.account, password: 'rotated-elsewhere' });
    const sent = await sendAll(relay, 3, 'no breaker');
    expect(sent.map((m) => m['failovers'][0].code)).toEqual([
      'AUTH_FAILED',
      'AUTH_FAILED',
      'AUTH_FAILED',
    ]);
    expect(resellerA.requests().filter((r) => r.action === 'send')).toHaveLength(3);
    const answer = await accounts(relay);
    expect(answer.breaker).toBeNull();
    expect(answer.accounts.map((a) => a.breaker)).toEqual([null, null]);
  });
});
