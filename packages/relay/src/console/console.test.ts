import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { generateWebhookSecret, secretVariants } from '@sms/core';
import type { Emulator } from '@sms/emulator';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { RelayContext } from '../http/context.js';
import { createRouter } from '../http/router.js';
import { type Relay, createRelay } from '../relay.js';
import { type Responder, startReceiver, waitFor } from '../test-utils/receiver.js';
import {
  PASSWORD,
  TEST_DATABASE_URL,
  emulator,
  memoryLogger,
  report,
  secret,
  tempDir,
} from '../test-utils/setup.js';
import type {
  ConsoleEventDetail,
  ConsoleEvents,
  ConsoleMessageDetail,
  ConsoleMessages,
  ConsoleOverview,
  ConsoleTarget,
} from './api-types.js';
import { consoleRoutes } from './routes.js';

const FAST = { retrySchedule: [30, 60], jitter: 0, idleMs: 20, timeoutMs: 2000 };
const TOKEN = `tok_${randomBytes(12).toString('hex')}`;
const URL_TOKEN = `ut_${randomBytes(10).toString('hex')}`;
const PG_PASSWORD = 'C0nsole-pg-secret';

/** A port nothing listens on: deliveries to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Answer {
  status: number;
  text: string;
  headers: Headers;
}

/** One running relay with its receivers, on SQLite or PostgreSQL. */
function harness(kind: 'sqlite' | 'postgres') {
  let platform: Emulator;
  let tmp: ReturnType<typeof tempDir>;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  beforeAll(async () => {
    platform = await emulator();
    tmp = tempDir();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    platform.reset();
  });
  afterAll(async () => {
    await platform.close();
    tmp.cleanup();
  });

  let n = 0;
  async function store() {
    if (kind === 'sqlite') {
      const path = join(tmp.dir, `console-${++n}.db`);
      const db = () => new Database(path, { readonly: true });
      return {
        config: { sqlite: path },
        raw: async (sql: string) => {
          const conn = db();
          try {
            return conn.prepare(sql.replaceAll('$s.', '')).all() as Array<Record<string, unknown>>;
          } finally {
            conn.close();
          }
        },
      };
    }
    const schema = `relay_console_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    cleanups.unshift(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    });
    // Trust auth takes any password: the relay connects, and the URL still carries one.
    const url = new URL(TEST_DATABASE_URL);
    url.username ||= 'postgres';
    url.password = PG_PASSWORD;
    return {
      config: { postgres: url.toString(), schema },
      raw: async (sql: string) => (await admin.query(sql.replaceAll('$s.', `"${schema}".`))).rows,
    };
  }

  async function receiver(respond?: Responder, signing = secret) {
    const rx = await startReceiver({ secret: signing, ...(respond ? { respond } : {}) });
    cleanups.push(() => rx.close());
    return rx;
  }

  async function start(
    targets: Array<Record<string, unknown>>,
    http: Record<string, unknown> = { token: TOKEN },
    password = PASSWORD,
    delivery: Record<string, unknown> = FAST,
  ) {
    const s = await store();
    const input = {
      store: s.config,
      journal: { dir: join(tmp.dir, `journal-${++n}`) },
      accounts: [
        {
          name: 'main',
          baseUrl: platform.url,
          userId: '12',
          account: 'demo',
          password,
          pollIntervalMs: 50,
        },
      ],
      targets,
      delivery,
      // The test's receivers are on 127.0.0.1: trusted for callbacks, as a local setup would.
      gateway: { callbackAllow: ['127.0.0.1'] },
      http: { port: 0, host: '127.0.0.1', ...http },
    };
    const relay: Relay = createRelay(input, { logger: memoryLogger() });
    cleanups.push(() => relay.stop());
    await relay.start();
    const call = async (
      method: 'GET' | 'POST',
      path: string,
      token: string | null = TOKEN,
    ): Promise<Answer> => {
      const response = await fetch(`${relay.url}${path}`, {
        method,
        headers: token === null ? {} : { authorization: `Bearer ${token}` },
      });
      return { status: response.status, text: await response.text(), headers: response.headers };
    };
    const get = <T>(path: string) =>
      call('GET', `/api/console/${path}`).then((a) => {
        expect(a.status, `${path}: ${a.text}`).toBe(200);
        return JSON.parse(a.text) as T;
      });
    const post = <T>(path: string) =>
      call('POST', `/api/console/${path}`).then((a) => {
        expect(a.status, `${path}: ${a.text}`).toBe(200);
        return JSON.parse(a.text) as T;
      });
    return { relay, call, get, post, raw: s.raw, platform };
  }

  return { start, receiver, platform: () => platform };
}

describe('console page and access (SQLite)', () => {
  const h = harness('sqlite');

  it('asks for the token on every API route (401), serves the page shell and health openly', async () => {
    const rx = await h.receiver();
    const { call } = await h.start([{ name: 'app', url: rx.url, secret }]);
    const api: Array<['GET' | 'POST', string]> = [
      ['GET', '/api/console/overview'],
      ['GET', '/api/console/accounts'],
      ['GET', '/api/console/events'],
      ['GET', '/api/console/events/msg_00000000000000000000000000'],
      ['POST', '/api/console/events/msg_00000000000000000000000000/replay'],
      ['POST', '/api/console/targets/app/replay'],
      ['POST', '/api/console/targets/app/enable'],
      ['GET', '/api/console/messages'],
      ['GET', '/api/console/messages/sms_00000000000000000000000000'],
      ['POST', '/api/console/messages/sms_00000000000000000000000000/resend'],
      ['POST', '/api/console/messages/sms_00000000000000000000000000/fail'],
    ];
    for (const [method, path] of api) {
      for (const token of [null, 'wrong-token-of-some-length', `${TOKEN}x`]) {
        const answer = await call(method, path, token);
        expect(answer.status, `${method} ${path} with ${token}`).toBe(401);
        expect(answer.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
      expect((await call(method, path)).status, `${method} ${path}`).not.toBe(401);
    }
    const page = await call('GET', '/', null);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.text).toContain('console/app.js');
    for (const [file, type] of [
      ['app.js', /javascript/],
      ['app.css', /text\/css/],
    ] as const) {
      const asset = await call('GET', `/console/${file}`, null);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(type);
    }
    expect((await call('GET', '/console/../package.json', null)).status).toBe(404);
    expect((await call('GET', '/healthz', null)).status).toBe(200);
    expect((await call('GET', '/readyz', null)).status).toBe(200);
    expect((await call('GET', '/metrics', null)).status).toBe(200);
  });

  it('http.protectMetrics puts /metrics behind the token; without a token the API is off (404)', async () => {
    const rx = await h.receiver();
    const guarded = await h.start([{ name: 'app', url: rx.url, secret }], {
      token: TOKEN,
      protectMetrics: true,
    });
    expect((await guarded.call('GET', '/metrics', null)).status).toBe(401);
    const scraped = await guarded.call('GET', '/metrics');
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('sms_relay_queue_depth');
    const open = await h.start([{ name: 'app', url: rx.url, secret }], {});
    expect((await open.call('GET', '/api/console/overview', null)).status).toBe(404);
    expect((await open.call('GET', '/api/console/overview', 'anything-at-all-here')).status).toBe(
      404,
    );
    expect((await open.call('GET', '/metrics', null)).status).toBe(200);
    // Without a token the console is off, page included (docs/relay.md): only health and
    // metrics answer, and the OpenAPI document.
    for (const path of ['/', '/console/app.js', '/console/app.css', '/api/console/events']) {
      expect((await open.call('GET', path, null)).status, path).toBe(404);
    }
    for (const path of ['/healthz', '/readyz', '/v1/openapi.json']) {
      expect((await open.call('GET', path, null)).status, path).toBe(200);
    }
  });

  it('answers 503 at / while the page is not built, and serves it once it is', async () => {
    const tmp = tempDir();
    try {
      const context = {
        config: parseConfig({
          store: { sqlite: join(tmp.dir, 'x.db') },
          accounts: [{ name: 'main', baseUrl: 'http://127.0.0.1:1', account: 'a', password: 'p' }],
          targets: [{ name: 'app', url: 'http://127.0.0.1:2/', secret }],
        }),
      } as unknown as RelayContext;
      const dir = join(tmp.dir, 'console');
      const router = createRouter({
        routes: consoleRoutes(context, { assetDirs: [dir] }),
        token: TOKEN,
        protectMetrics: false,
        onError: (_path, error) => {
          throw error;
        },
      });
      const server = (await import('node:http')).createServer((req, res) => void router(req, res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      try {
        const missing = await fetch(`${base}/`);
        expect(missing.status).toBe(503);
        expect(await missing.text()).toMatch(/pnpm build/);
        expect((await fetch(`${base}/console/app.js`)).status).toBe(404);
        mkdirSync(dir);
        writeFileSync(join(dir, 'app.js'), 'console.log("built")');
        const page = await fetch(`${base}/`);
        expect(page.status).toBe(200);
        expect(await (await fetch(`${base}/console/app.js`)).text()).toBe('console.log("built")');
      } finally {
        server.close();
      }
    } finally {
      tmp.cleanup();
    }
  });
});

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`console API (${kind})`, () => {
    const h = harness(kind);

    it('lists events with filters, each with the attempts the store recorded', async () => {
      const app = await h.receiver(() => ({ status: 200, body: 'ok, stored' }));
      const down = `http://127.0.0.1:${await closedPort()}/hooks`;
      const { get, call, raw, platform } = await h.start([
        { name: 'app', url: app.url, secret },
        { name: 'down', url: down, secret, events: ['sms.report'] },
      ]);
      const input = report();
      platform.injectReport(input);
      platform.injectReply({ account: 'demo', mobile: '13900139000', content: '收到 thanks' });
      await waitFor(() => app.verified().length === 2, 10_000, 'both delivered to app');
      await waitFor(
        async () => (await get<ConsoleEvents>('events?state=dead')).events.length === 1,
        10_000,
        'the report dead at down',
      );

      const all = await get<ConsoleEvents>('events');
      expect(all.events).toHaveLength(2);
      expect(all.more).toBe(false);
      const rep = all.events.find((e) => e.type === 'sms.report')!;
      const reply = all.events.find((e) => e.type === 'sms.reply')!;
      expect(rep).toMatchObject({ account: 'main', mobile: input.mobile });
      expect(rep.summary).toContain(input.taskId);
      expect(reply).toMatchObject({ account: 'main', mobile: '13900139000' });
      expect(reply.summary).toBe('收到 thanks');
      expect(Math.abs(rep.createdAt - Date.now())).toBeLessThan(60_000);
      // The ids are the ones the receiver saw as webhook-id.
      expect(
        app
          .verified()
          .map((r) => r.id)
          .sort(),
      ).toEqual([rep.id, reply.id].sort());

      const ids = async (query: string) =>
        (await get<ConsoleEvents>(`events?${query}`)).events.map((e) => e.id);
      expect(await ids('type=sms.reply')).toEqual([reply.id]);
      expect(await ids('type=sms.report')).toEqual([rep.id]);
      expect(await ids('target=down')).toEqual([rep.id]);
      expect(await ids('state=dead')).toEqual([rep.id]);
      expect(await ids('target=down&state=dead')).toEqual([rep.id]);
      expect((await ids('target=app&state=delivered')).sort()).toEqual([rep.id, reply.id].sort());
      expect(await ids('state=pending')).toEqual([]);
      expect(await ids('account=other')).toEqual([]);
      const page = await get<ConsoleEvents>('events?limit=1');
      expect(page.events).toHaveLength(1);
      expect(page.more).toBe(true);
      // The page's "older" link: the next page by its cursor, then the end (no cursor).
      expect(page.next).toEqual(expect.any(String));
      const older = await get<ConsoleEvents>(`events?limit=1&before=${page.next}`);
      expect([...page.events, ...older.events].map((e) => e.id)).toEqual(
        all.events.map((e) => e.id),
      );
      expect(older).toMatchObject({ more: false, next: null });
      // A cursor keeps the filters it is combined with.
      const dead = await get<ConsoleEvents>(`events?state=dead&limit=1&before=${page.next}`);
      expect(dead.events.map((e) => e.id)).toEqual(older.events[0]!.id === rep.id ? [rep.id] : []);
      for (const bad of ['%00', 'AA%00', '!!', Buffer.from('x:y').toString('base64url')]) {
        expect((await call('GET', `/api/console/events?before=${bad}`)).status).toBe(400);
      }
      expect((await call('GET', '/api/console/events?type=sms.nope')).status).toBe(400);
      expect((await call('GET', '/api/console/events?state=gone')).status).toBe(400);
      expect((await call('GET', '/api/console/events?limit=-1')).status).toBe(400);

      const detail = await get<ConsoleEventDetail>(`events/${rep.id}`);
      expect(detail.data).toMatchObject({ mobile: input.mobile, taskId: input.taskId });
      const toApp = detail.attempts.filter((a) => a.target === 'app');
      expect(toApp).toEqual([
        {
          target: 'app',
          at: expect.any(Number),
          outcome: 'delivered',
          status: 200,
          latencyMs: expect.any(Number),
          error: null,
          response: 'ok, stored',
        },
      ]);
      const toDown = detail.attempts.filter((a) => a.target === 'down');
      expect(toDown.map((a) => a.outcome)).toEqual(['retry', 'retry', 'dead']);
      for (const a of toDown) {
        expect(a).toMatchObject({ status: null, response: null });
        expect(a.error).toMatch(/ECONNREFUSED/);
        expect(a.latencyMs).toBeGreaterThanOrEqual(0);
      }
      // The list counts what the detail lists (it said 0 for the one delivered attempt).
      for (const event of (await get<ConsoleEvents>('events')).events) {
        const tried = (await get<ConsoleEventDetail>(`events/${event.id}`)).attempts;
        for (const d of event.deliveries)
          expect(d.attempts, `${event.type} to ${d.target}`).toBe(
            tried.filter((a) => a.target === d.target).length,
          );
      }
      expect(detail.deliveries.find((d) => d.target === 'down')).toMatchObject({
        state: 'dead',
        attempts: 3,
        failedAttempts: 3,
      });
      expect(rep.deliveries.find((d) => d.target === 'app')).toMatchObject({
        state: 'delivered',
        attempts: 1,
        failedAttempts: 0,
      });
      expect((await call('GET', '/api/console/events/msg_00000000000000000000000000')).status).toBe(
        404,
      );

      // Independent read: the attempts table holds what the API showed.
      const rows = await raw(
        `SELECT target, outcome, status, latency_ms, response FROM $s.attempts WHERE event_id = '${rep.id}' ORDER BY id`,
      );
      expect(rows.map((r) => [r['target'], r['outcome'], r['status'], r['response']])).toEqual(
        detail.attempts.map((a) => [a.target, a.outcome, a.status, a.response]),
      );
      expect(rows.every((r) => r['latency_ms'] !== null)).toBe(true);

      const overview = await get<ConsoleOverview>('overview');
      expect(overview.relay.store).toBe(kind);
      const target = (name: string) => overview.targets.find((t) => t.name === name)!;
      expect(target('app')).toMatchObject({ delivered: 2, dead: 0, pending: 0, disabled: null });
      expect(target('app').lastAttempt).toMatchObject({ status: 200 });
      expect(target('app').meanLatencyMs).toEqual(expect.any(Number));
      expect(target('down')).toMatchObject({ delivered: 0, dead: 1, origin: new URL(down).origin });
      const attempts = (t: ConsoleTarget) =>
        t.activity.reduce((sum, b) => sum + b.delivered + b.failed, 0);
      expect(target('app').activity).toHaveLength(60);
      expect(attempts(target('app'))).toBe(2);
      expect(attempts(target('down'))).toBe(3);
      const [account] = overview.accounts;
      expect(account).toMatchObject({
        name: 'main',
        polling: true,
        fetched: { reports: 1, replies: 1 },
        stored: 2,
        errors: {},
      });
      expect(account!.lastPoll).toMatchObject({ error: null });
      expect(overview.totals).toMatchObject({ events: 2, dead: 1 });
    });

    it('replays a dead event, then all dead ones of a target, and enables a disabled target', async () => {
      const flaky = await h.receiver(() => ({ status: 500 }));
      const { get, post, call, platform } = await h.start([
        { name: 'flaky', url: flaky.url, secret },
      ]);
      platform.injectReport(report());
      platform.injectReport(report());
      await waitFor(
        async () => (await get<ConsoleEvents>('events?state=dead')).events.length === 2,
        10_000,
        'both dead',
      );
      const [first, second] = (await get<ConsoleEvents>('events')).events;
      flaky.setResponder(() => ({ status: 204 }));
      const delivered = (id: string) => flaky.verified().some((r) => r.id === id && r.at > 0);
      const before = flaky.received.length;

      expect(await post(`events/${first!.id}/replay`)).toEqual({ replayed: 1 });
      await waitFor(
        async () =>
          (await get<ConsoleEventDetail>(`events/${first!.id}`)).deliveries[0]?.state ===
          'delivered',
        10_000,
        'the replayed event delivered',
      );
      expect(flaky.received.slice(before).map((r) => r.id)).toEqual([first!.id]);
      expect(delivered(first!.id)).toBe(true);
      expect((await get<ConsoleEvents>('events?state=dead')).events.map((e) => e.id)).toEqual([
        second!.id,
      ]);
      // Nothing dead left for that event: a second replay queues nothing.
      expect(await post(`events/${first!.id}/replay`)).toEqual({ replayed: 0 });

      expect(await post('targets/flaky/replay')).toEqual({ replayed: 1 });
      await waitFor(
        async () => (await get<ConsoleEvents>('events?state=delivered')).events.length === 2,
        10_000,
        'all delivered',
      );
      expect(flaky.verified().filter((r) => r.id === second!.id).length).toBeGreaterThan(0);

      // 410 disables the target; Enable brings it back and the waiting delivery goes out.
      flaky.setResponder(() => ({ status: 410 }));
      platform.injectReport(report());
      const flakyTarget = async () =>
        (await get<ConsoleOverview>('overview')).targets.find((t) => t.name === 'flaky')!;
      await waitFor(async () => (await flakyTarget()).disabled !== null, 10_000, 'disabled');
      expect((await flakyTarget()).disabled?.reason).toMatch(/410/);
      flaky.setResponder(() => ({ status: 204 }));
      expect(await post('targets/flaky/enable')).toEqual({ enabled: 'flaky' });
      await waitFor(
        async () => (await get<ConsoleEvents>('events?state=delivered')).events.length === 3,
        10_000,
        'delivered after enable',
      );
      expect((await flakyTarget()).disabled).toBeNull();
      expect((await call('POST', '/api/console/targets/nope/enable')).status).toBe(404);
      expect((await call('POST', '/api/console/targets/nope/replay')).status).toBe(404);
    });

    it("lists gateway messages with each number's status, and resends or fails an unknown one", async () => {
      const rx = await h.receiver();
      const { call, post, raw, platform, relay } = await h.start([
        { name: 'app', url: rx.url, secret },
      ]);
      const texts: string[] = [];
      const read = async <T>(path: string) => {
        const answer = await call('GET', `/api/console/${path}`);
        texts.push(answer.text);
        expect(answer.status, `${path}: ${answer.text}`).toBe(200);
        return JSON.parse(answer.text) as T;
      };
      for (const [method, path] of [
        ['GET', 'messages'],
        ['GET', 'messages/sms_00000000000000000000000000'],
        ['POST', 'messages/sms_00000000000000000000000000/resend'],
        ['POST', 'messages/sms_00000000000000000000000000/fail'],
      ] as const) {
        expect((await call(method, `/api/console/${path}`, null)).status).toBe(401);
      }
      // The gateway not used yet: nothing to list.
      expect(await read<ConsoleMessages>('messages')).toEqual({
        messages: [],
        more: false,
        next: null,
      });

      const send = async (body: Record<string, unknown>) => {
        const response = await fetch(`${relay.url}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(response.status).toBe(202);
        return ((await response.json()) as { id: string }).id;
      };
      const detail = (id: string) => read<ConsoleMessageDetail>(`messages/${id}`);
      const settled = async (id: string, check: (m: ConsoleMessageDetail) => boolean) => {
        await waitFor(async () => check(await detail(id)), 10_000, `message ${id}`);
        return detail(id);
      };

      const sent = await send({
        to: ['13800138101', '13800138102'],
        content: '【测试】console',
        metadata: { order: 'A-1' },
        callbackUrl: `${rx.url}?token=${URL_TOKEN}`,
      });
      const shown = await settled(sent, (m) => m.recipients.every((r) => r.status === 'delivered'));
      expect(shown).toMatchObject({
        id: sent,
        account: 'main',
        status: 'sent',
        to: ['13800138101', '13800138102'],
        taskId: platform.sent()[0]!.taskId,
        content: '【测试】console',
        metadata: { order: 'A-1' },
        callbackOrigin: new URL(rx.url).origin,
        error: null,
      });
      for (const r of shown.recipients) {
        expect(r).toMatchObject({ status: 'delivered', code: 'DELIVRD' });
        expect(r.reportedAt).toEqual(expect.any(Number));
      }
      // Independent read: the store's rows hold what the API showed.
      const rows = await raw(
        `SELECT mobile, status, code FROM $s.gw_recipients WHERE message_id = '${sent}' ORDER BY mobile`,
      );
      expect(rows.map((r) => [r['mobile'], r['status'], r['code']])).toEqual(
        shown.recipients.map((r) => [r.mobile, r.status, r.code]),
      );

      // Two sends whose answers are lost: unknown, for the operator.
      const lost: string[] = [];
      for (const mobile of ['13800138103', '13800138104']) {
        platform.setFault({ type: 'reset', action: 'send', times: 1 });
        const id = await send({ to: mobile, content: '【测试】lost answer' });
        await settled(id, (m) => m.status === 'unknown');
        lost.push(id);
      }
      const [resent, failed] = lost as [string, string];
      const ids = async (query: string) =>
        (await read<ConsoleMessages>(`messages?${query}`)).messages.map((m) => m.id);
      expect(await ids('')).toEqual([failed, resent, sent]);
      expect(await ids('status=unknown')).toEqual([failed, resent]);
      expect(await ids('status=sent')).toEqual([sent]);
      expect(await ids('status=queued')).toEqual([]);
      expect(await ids('account=main&status=sent')).toEqual([sent]);
      expect(await ids('account=other')).toEqual([]);
      const page = await read<ConsoleMessages>('messages?limit=2&offset=1');
      expect(page.messages.map((m) => m.id)).toEqual([resent, sent]);
      expect(page.more).toBe(false);
      expect((await read<ConsoleMessages>('messages?limit=1')).more).toBe(true);
      // The page's "older" links: cursor after cursor, every message once, newest first.
      const walked: string[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const step: ConsoleMessages = await read<ConsoleMessages>(
          `messages?limit=1${cursor ? `&before=${cursor}` : ''}`,
        );
        walked.push(...step.messages.map((m) => m.id));
        cursor = step.next;
      }
      expect(walked).toEqual([failed, resent, sent]);
      const unknownPage = await read<ConsoleMessages>('messages?status=unknown&limit=1');
      expect(
        (
          await read<ConsoleMessages>(`messages?status=unknown&before=${unknownPage.next}`)
        ).messages.map((m) => m.id),
      ).toEqual([resent]);
      expect((await call('GET', '/api/console/messages?before=%00')).status).toBe(400);
      expect((await call('GET', '/api/console/messages?status=lost')).status).toBe(400);
      expect(
        (await call('GET', '/api/console/messages/sms_00000000000000000000000000')).status,
      ).toBe(404);

      // Resend: sent once more (the platform's record is the oracle), and then no more.
      const sentTo = (mobile: string) =>
        platform.sent().filter((m) => m.mobiles.includes(mobile)).length;
      expect(sentTo('13800138103')).toBe(1);
      expect(await post(`messages/${resent}/resend`)).toEqual({ id: resent, status: 'queued' });
      const after = await settled(resent, (m) => m.status === 'sent');
      expect(after.taskId).toBe(platform.sent().at(-1)!.taskId);
      expect(after.recipients[0]).toMatchObject({ mobile: '13800138103' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(sentTo('13800138103')).toBe(2);
      const again = await call('POST', `/api/console/messages/${resent}/resend`);
      expect(again.status).toBe(409);
      expect(JSON.parse(again.text)).toEqual({
        error: 'a sent message cannot be resent (only unknown, failed or expired)',
      });

      // Mark failed: the relay will not send it.
      expect(await post(`messages/${failed}/fail`)).toEqual({ id: failed, status: 'failed' });
      const gaveUp = await detail(failed);
      expect(gaveUp.error).toMatchObject({ code: 'OPERATOR' });
      expect(gaveUp.recipients[0]).toMatchObject({ status: 'failed', code: 'OPERATOR' });
      expect(
        (await raw(`SELECT status FROM $s.gw_messages WHERE id = '${failed}'`))[0]?.['status'],
      ).toBe('failed');
      expect((await call('POST', `/api/console/messages/${failed}/fail`)).status).toBe(409);
      expect(
        (await call('POST', '/api/console/messages/sms_00000000000000000000000000/resend')).status,
      ).toBe(404);
      expect(sentTo('13800138104')).toBe(1);

      const everything = texts.join('\n');
      for (const value of [URL_TOKEN, TOKEN, PASSWORD, secret]) {
        expect(everything.includes(value), value).toBe(false);
      }
    });

    it('a target that trickles its answer is cut at one deadline per attempt, and the other target is served meanwhile', async () => {
      // Answers 200 at once, then a byte every 200 ms, never ending: undici's body timeout
      // restarts with every byte, so only an overall deadline ends the attempt.
      const tarpit = createHttpServer((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'text/plain' });
        const drip = setInterval(() => res.write('.'), 200);
        res.on('close', () => clearInterval(drip));
      });
      await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
      try {
        const port = (tarpit.address() as { port: number }).port;
        const app = await h.receiver();
        const { raw, platform } = await h.start([
          { name: 'slow', url: `http://127.0.0.1:${port}/hooks`, secret, timeoutMs: 1000 },
          { name: 'app', url: app.url, secret },
        ]);
        const started = Date.now();
        platform.injectReport(report());
        await waitFor(() => app.verified().length === 1, 10_000, 'the other target served');
        expect(Date.now() - started).toBeLessThan(3000);
        await waitFor(
          async () => (await raw("SELECT error FROM $s.attempts WHERE target = 'slow'")).length > 0,
          10_000,
          'an attempt at the tarpit recorded',
        );
        const [attempt] = await raw(
          "SELECT outcome, error, latency_ms FROM $s.attempts WHERE target = 'slow' ORDER BY at",
        );
        expect(attempt).toMatchObject({ outcome: 'retry', error: 'timeout after 1000 ms' });
        expect(Number(attempt!['latency_ms'])).toBeGreaterThanOrEqual(950);
        expect(Number(attempt!['latency_ms'])).toBeLessThan(2500);
      } finally {
        tarpit.closeAllConnections();
        await new Promise((resolve) => tarpit.close(resolve));
      }
    });

    it('a slow target holds at most half the delivery slots: the other target is served meanwhile', {
      timeout: 30_000,
    }, async () => {
      // A receiver that answers after 8 s: without a share per target it ends up holding
      // every slot, and the other target waits its turn behind it.
      let open = 0;
      let most = 0;
      const slow = createHttpServer((req, res) => {
        open++;
        most = Math.max(most, open);
        req.resume();
        const timer = setTimeout(() => res.end('late'), 8000);
        res.on('close', () => {
          open--;
          clearTimeout(timer);
        });
      });
      await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
      try {
        const port = (slow.address() as { port: number }).port;
        const app = await h.receiver();
        const { platform } = await h.start(
          [
            { name: 'slow', url: `http://127.0.0.1:${port}/hooks`, secret, timeoutMs: 10_000 },
            { name: 'app', url: app.url, secret },
          ],
          { token: TOKEN },
          PASSWORD,
          { ...FAST, timeoutMs: 10_000, concurrency: 4 },
        );
        const started = Date.now();
        for (let i = 0; i < 12; i++) platform.injectReport(report());
        await waitFor(() => app.verified().length === 12, 15_000, 'every event at app');
        const took = Date.now() - started;
        console.log(`12 events at app in ${took} ms; the slow target held at most ${most}`);
        expect(took).toBeLessThan(5000);
        expect(most).toBeLessThanOrEqual(2);
      } finally {
        slow.closeAllConnections();
        await new Promise((resolve) => slow.close(resolve));
      }
    });

    it('masks values, not substrings: with a password of any length every answer is valid JSON', async () => {
      const NOW = '1796533045033';
      for (const password of ['17', 'p', 'secret', '123456']) {
        h.platform().setAccount({ account: 'demo', password });
        // A receiver that echoes the form back, next to a number and words the password is in.
        const echo = await h.receiver(() => ({
          status: 500,
          body: `denied password=${password}&at=${NOW} sms.report`,
        }));
        const { call, relay } = await h.start(
          [{ name: 'app', url: echo.url, secret }],
          { token: TOKEN },
          password,
        );
        const input = report();
        h.platform().injectReport(input);
        const parsed = async <T>(path: string): Promise<T> => {
          const answer = await call('GET', `/api/console/${path}`);
          expect(answer.status, `${password}: ${path}`).toBe(200);
          let body: T;
          expect(
            () => {
              body = JSON.parse(answer.text) as T;
            },
            `${password}: ${path} is JSON: ${answer.text.slice(0, 200)}`,
          ).not.toThrow();
          return body!;
        };
        await waitFor(
          async () => (await parsed<ConsoleEvents>('events?state=dead')).events.length === 1,
          10_000,
          `${password}: dead after echoed refusals`,
        );
        for (const window of ['15m', '1h', '6h', '24h']) {
          const overview = await parsed<ConsoleOverview>(`overview?window=${window}`);
          expect(typeof overview.relay.now).toBe('number');
          expect(overview.accounts[0]!.name).toBe('main');
        }
        const events = (await parsed<ConsoleEvents>('events?account=main&type=sms.report')).events;
        expect(events.map((e) => e.type)).toEqual(['sms.report']);
        expect(events[0]!.summary).toContain(input.taskId);
        const detail = await parsed<ConsoleEventDetail>(`events/${events[0]!.id}`);
        expect(detail.data).toMatchObject({ mobile: input.mobile, taskId: input.taskId });
        for (const a of detail.attempts) {
          // Long enough to be found in free text: masked where it stands alone, never in a number.
          if (password.length >= 6)
            expect(a.response).toBe(`denied password=***&at=${NOW} sms.report`);
          else expect(a.response).toContain(`&at=${NOW} sms.report`);
        }
        await parsed<ConsoleMessages>('messages');
        await relay.stop();
      }
      // Four relays, one per password, started and stopped in turn: 10-14 s alone, more when busy.
    }, 60_000);

    it('puts no secret in the page or in any answer, even one a receiver echoed', async () => {
      const rotated = generateWebhookSecret();
      const keys = [secret, rotated].map((s) => s.slice('whsec_'.length));
      const secrets = [PASSWORD, secret, rotated, ...keys, TOKEN, URL_TOKEN];
      if (kind === 'postgres') secrets.push(PG_PASSWORD);
      // A careless receiver repeats everything it knows in its error page.
      const echo = await h.receiver(() => ({
        status: 500,
        body: `denied: ${secrets.join(' ')}`,
      }));
      const { call, get, platform } = await h.start([
        { name: 'app', url: `${echo.url}?token=${URL_TOKEN}`, secret: [secret, rotated] },
      ]);
      platform.injectReport(report());
      platform.injectReply({ account: 'demo', mobile: '13900139001', content: 'hi' });
      await waitFor(
        async () => (await get<ConsoleEvents>('events?state=dead')).events.length === 2,
        10_000,
        'dead after echoed refusals',
      );
      const texts: string[] = [];
      const keep = (answer: Answer) => {
        texts.push(answer.text, JSON.stringify([...answer.headers]));
        return answer;
      };
      for (const path of ['/', '/console/app.js', '/console/app.css']) {
        expect(keep(await call('GET', path, null)).status).toBe(200);
      }
      for (const window of ['15m', '1h', '6h', '24h']) {
        keep(await call('GET', `/api/console/overview?window=${window}`));
      }
      keep(await call('GET', '/api/console/overview', null));
      const list = keep(await call('GET', '/api/console/events'));
      keep(await call('GET', '/api/console/events?target=app&state=dead'));
      const events = (JSON.parse(list.text) as ConsoleEvents).events;
      expect(events).toHaveLength(2);
      let shownExcerpt = false;
      for (const event of events) {
        const detail = keep(await call('GET', `/api/console/events/${event.id}`));
        const parsed = JSON.parse(detail.text) as ConsoleEventDetail;
        expect(parsed.attempts.length).toBeGreaterThan(0);
        for (const a of parsed.attempts) {
          expect(a.response).toMatch(/^denied: \*\*\*/);
          shownExcerpt = true;
        }
      }
      expect(shownExcerpt).toBe(true);
      keep(await call('POST', `/api/console/events/${events[0]!.id}/replay`));
      keep(await call('POST', '/api/console/targets/app/replay'));
      keep(await call('POST', '/api/console/targets/app/enable'));
      keep(await call('GET', '/metrics'));
      const everything = texts.join('\n');
      expect(everything).toContain('sms_relay_events_fetched_total');
      for (const value of secrets) {
        for (const spelling of new Set([value, ...secretVariants(value)])) {
          expect(everything.includes(spelling), `a spelling of a secret: ${spelling}`).toBe(false);
        }
      }
    });
  });
}
