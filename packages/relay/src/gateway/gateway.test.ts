import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import { generateWebhookSecret } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { type Relay, createRelay } from '../relay.js';
import { secretsOf } from '../config/secrets.js';
import { runCli } from '../test-utils/cli.js';
import { type Json, messageUntil, relayApi } from '../test-utils/gateway-api.js';
import { type Receiver, startReceiver, waitFor } from '../test-utils/receiver.js';
import { PASSWORD, TEST_DATABASE_URL, memoryLogger, secret, tempDir } from '../test-utils/setup.js';

// The gateway end to end, on both stores: curl-like HTTP calls to a real relay, a real
// emulator as the platform, real webhook receivers; what was sent is read from the emulator's
// record and what was queued from the store's own rows, not from the relay's answers.

const TOKEN = 'gateway-test-token-0123456789';
const FAST = { retrySchedule: [50, 100, 200], jitter: 0, idleMs: 20, timeoutMs: 2000 };
const callbackSecret = generateWebhookSecret();
const FAIL_MOBILE = '13900000009';

type StoreKind = 'sqlite' | 'postgres';

describe.each<StoreKind>(['sqlite', 'postgres'])('gateway on %s', (kind) => {
  let platform: Emulator;
  let tmp: ReturnType<typeof tempDir>;
  let rx: Receiver;
  let callbacks: Receiver;
  const relays: Relay[] = [];
  const schemas: string[] = [];
  let storeConfig: Record<string, string>;

  beforeAll(async () => {
    platform = await startEmulator({
      accounts: [
        { userId: '12', account: 'demo', password: PASSWORD, balance: 100_000 },
        { userId: '', account: 'gbk', password: 'gbk-pass', balance: 1000 },
      ],
      report: { failMobiles: [FAIL_MOBILE], failErrorCode: 'MK:0011' },
    });
    tmp = tempDir();
    rx = await startReceiver({ secret });
    callbacks = await startReceiver({ secret: callbackSecret });
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    platform.reset();
    rx.received.length = 0;
    callbacks.received.length = 0;
  });
  afterAll(async () => {
    await platform.close();
    await rx.close();
    await callbacks.close();
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    for (const schema of schemas) await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await db.end();
    tmp.cleanup();
  });

  let n = 0;
  function config(extra: Record<string, unknown> = {}) {
    n++;
    if (kind === 'sqlite') storeConfig = { sqlite: join(tmp.dir, `gateway-${n}.db`) };
    else {
      const schema = `relay_gw_${randomBytes(5).toString('hex')}`;
      schemas.push(schema);
      storeConfig = { postgres: TEST_DATABASE_URL, schema };
    }
    return {
      store: storeConfig,
      journal: { dir: join(tmp.dir, `journal-${n}`) },
      accounts: [
        {
          name: 'main',
          baseUrl: platform.url,
          userId: '12',
          account: 'demo',
          password: PASSWORD,
          pollIntervalMs: 50,
          timeoutMs: 2000,
        },
        {
          name: 'gbk',
          baseUrl: platform.url,
          account: 'gbk',
          password: 'gbk-pass',
          charset: 'gbk',
          pollIntervalMs: 50,
          timeoutMs: 2000,
        },
      ],
      targets: [{ name: 'app', url: rx.url, secret }],
      delivery: FAST,
      gateway: { idleMs: 20, retryDelayMs: 50, callbackSecret },
      http: { port: 0, host: '127.0.0.1', token: TOKEN },
      ...extra,
    };
  }

  async function start(input: unknown = config(), logger = memoryLogger()) {
    const relay = createRelay(input, { logger });
    relays.push(relay);
    await relay.start();
    return relay;
  }

  const api = relayApi(TOKEN);

  /** Rows of gw_messages, read straight from the store (not through the relay). */
  async function queuedRows(): Promise<Array<{ id: string; status: string }>> {
    if ('sqlite' in storeConfig) {
      const db = new Database(storeConfig['sqlite']!, { readonly: true });
      try {
        return db.prepare('SELECT id, status FROM gw_messages ORDER BY id').all() as Array<{
          id: string;
          status: string;
        }>;
      } finally {
        db.close();
      }
    }
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query(
        `SELECT id, status FROM "${storeConfig['schema']}".gw_messages ORDER BY id`,
      );
      return rows;
    } finally {
      await db.end();
    }
  }

  /** Rows of gw_callbacks, read straight from the store. */
  async function callbackRows(): Promise<
    Array<{ url: string; status: string; attempts: number; last_error: string | null }>
  > {
    const sql = 'SELECT url, status, attempts, last_error FROM gw_callbacks ORDER BY url';
    if ('sqlite' in storeConfig) {
      const db = new Database(storeConfig['sqlite']!, { readonly: true });
      try {
        return db.prepare(sql).all() as Awaited<ReturnType<typeof callbackRows>>;
      } finally {
        db.close();
      }
    }
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      await db.query(`SET search_path TO "${storeConfig['schema']}"`);
      return (await db.query(sql)).rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
    } finally {
      await db.end();
    }
  }

  /** Report event bodies as stored (the bytes every delivery and replay signs). */
  async function storedReportBodies(): Promise<string[]> {
    const sql = "SELECT body FROM events WHERE type = 'sms.report' ORDER BY id";
    if ('sqlite' in storeConfig) {
      const db = new Database(storeConfig['sqlite']!, { readonly: true });
      try {
        return (db.prepare(sql).all() as Array<{ body: string }>).map((r) => r.body);
      } finally {
        db.close();
      }
    }
    const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      await db.query(`SET search_path TO "${storeConfig['schema']}"`);
      return (await db.query(sql)).rows.map((r: { body: string }) => r.body);
    } finally {
      await db.end();
    }
  }

  const until = messageUntil(TOKEN);

  it('needs the token; without http.token the API is off; the OpenAPI document is open', async () => {
    const relay = await start();
    const anonymous = await fetch(`${relay.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: '13800138000', content: '【测试】hi' }),
    });
    expect(anonymous.status).toBe(401);
    const wrong = await api(
      relay,
      'POST',
      '/v1/messages',
      { to: '13800138000', content: 'x' },
      {
        authorization: 'Bearer not-the-token-at-all',
      },
    );
    expect(wrong.status).toBe(401);
    const doc = await fetch(`${relay.url}/v1/openapi.json`);
    expect(doc.status).toBe(200);
    const openapi = (await doc.json()) as Json;
    expect(openapi['openapi']).toBe('3.1.0');
    expect(Object.keys(openapi['paths'])).toContain('/v1/messages/{id}');
    expect(await queuedRows()).toEqual([]);
    await relay.stop();

    const off = await start(config({ http: { port: 0, host: '127.0.0.1' } }));
    const response = await fetch(`${off.url}/v1/messages`, {
      method: 'POST',
      body: JSON.stringify({ to: '13800138000', content: 'x' }),
    });
    expect(response.status).toBe(404);
    expect(platform.sent()).toEqual([]);
  });

  it('refuses invalid requests with the SmsError code and field, and queues nothing', async () => {
    const relay = await start();
    const cases: Array<[unknown, string, string]> = [
      [{ to: '12345', content: '【测试】hi' }, 'VALIDATION', 'to'],
      [{ to: [], content: '【测试】hi' }, 'VALIDATION', 'to'],
      [
        {
          to: Array.from({ length: 1001 }, (_, i) => `135${String(i).padStart(8, '0')}`),
          content: '【测试】hi',
        },
        'VALIDATION',
        'to',
      ],
      [{ to: '13800138000', content: '' }, 'VALIDATION', 'content'],
      [{ to: '13800138000', content: '   ' }, 'VALIDATION', 'content'],
      [{ to: '13800138000' }, 'VALIDATION', 'content'],
      [{ to: '13800138000', content: '【测试】emoji 😀', account: 'gbk' }, 'VALIDATION', 'content'],
      [{ to: '13800138000', content: '【测试】\ud800 lone' }, 'VALIDATION', 'content'],
      [{ to: '13800138000', content: '【测试】hi', account: 'nope' }, 'VALIDATION', 'account'],
      [{ to: '13800138000', content: '【测试】hi', extNo: 'abc' }, 'VALIDATION', 'extNo'],
      [{ to: '13800138000', content: '【测试】hi', sendAt: 'tomorrow' }, 'VALIDATION', 'sendAt'],
      [
        { to: '13800138000', content: '【测试】hi', sendAt: '2001-01-01T00:00:00Z' },
        'VALIDATION',
        'sendAt',
      ],
      [{ to: '13800138000', content: '【测试】hi', metadata: [1] }, 'VALIDATION', 'metadata'],
      [
        { to: '13800138000', content: '【测试】hi', callbackUrl: 'ftp://x' },
        'VALIDATION',
        'callbackUrl',
      ],
      [{ to: '13800138000', content: '【测试】hi', ttl: -1 }, 'VALIDATION', 'ttl'],
      // An expiry beyond what a Date holds answered 202, then 500 on every GET (and on PostgreSQL's bigint).
      [{ to: '13800138000', content: '【测试】hi', ttl: '99999999999999d' }, 'VALIDATION', 'ttl'],
      [{ to: '13800138000', content: '【测试】hi', ttl: 1e300 }, 'VALIDATION', 'ttl'],
      // 100,000 characters were queued: 1,500 billed segments per number.
      [{ to: '13800138000', content: `【测试】${'长'.repeat(997)}` }, 'VALIDATION', 'content'],
      [{ to: '13800138000', content: '【测试】hi', colour: 'red' }, 'VALIDATION', 'colour'],
      [[1, 2], 'VALIDATION', 'body'],
    ];
    for (const [body, code, field] of cases) {
      const answer = await api(relay, 'POST', '/v1/messages', body, {
        'idempotency-key': `k-${field}`,
      });
      expect({
        body,
        status: answer.status,
        code: answer.body['error']?.code,
        field: answer.body['error']?.field,
      }).toEqual({ body, status: 422, code, field });
    }
    // Metadata 50,000 levels deep (100 kB) overflowed the stack: a 500.
    const deep = await fetch(`${relay.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: `{"to":"13800138000","content":"【测试】hi","metadata":{"a":${'['.repeat(50_000)}${']'.repeat(50_000)}}}`,
    });
    expect(deep.status).toBe(422);
    expect(((await deep.json()) as Json)['error']).toMatchObject({ field: 'metadata' });
    const notJson = await fetch(`${relay.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '{',
    });
    expect(notJson.status).toBe(400);
    // The same emoji is fine on a UTF-8 account: the rule is the encoder's, per account.
    const utf8 = await api(relay, 'POST', '/v1/messages', {
      to: '13800138000',
      content: '【测试】emoji 😀',
    });
    expect(utf8.status).toBe(202);
    // At the limits: 1,000 characters, and a ttl in fractions of a millisecond (stored whole).
    const longest = await api(relay, 'POST', '/v1/messages', {
      to: '13800138000',
      content: `【测试】${'长'.repeat(996)}`,
      ttl: 0.0001,
    });
    expect(longest.status).toBe(202);
    const shown = await api(relay, 'GET', `/v1/messages/${longest.body['id']}`);
    expect(shown.status).toBe(200);
    expect(Date.parse(shown.body['expiresAt']) - Date.parse(shown.body['createdAt'])).toBe(1);
    const rows = await queuedRows();
    expect(rows.map((r) => r.id)).toEqual([utf8.body['id'], longest.body['id']]);
  });

  it('a NUL byte or another invalid id or filter is a 400 or 404 on every route, never a 500 or a logged error', async () => {
    const logger = memoryLogger();
    const relay = await start(config(), logger);
    const queued = await api(relay, 'POST', '/v1/messages', {
      to: '13800138000',
      content: '【测试】hi',
    });
    expect(queued.status).toBe(202);
    const id = queued.body['id'] as string;
    const call = async (method: string, path: string, body?: string) => {
      const response = await fetch(`${relay.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body }),
      });
      await response.arrayBuffer();
      return response.status;
    };
    const badIds = [
      '%00',
      `${id}%00`,
      `%00${id}`,
      'sms_%00',
      '%C0%80',
      '%ED%A0%80',
      'x'.repeat(5000),
    ];
    const routes: Array<[string, string]> = [];
    for (const bad of badIds) {
      routes.push(
        ['GET', `/v1/messages/${bad}`],
        ['POST', `/v1/messages/${bad}/resend`],
        ['POST', `/v1/messages/${bad}/fail`],
        ['GET', `/api/console/events/${bad}`],
        ['POST', `/api/console/events/${bad}/replay`],
        ['GET', `/api/console/messages/${bad}`],
        ['POST', `/api/console/messages/${bad}/resend`],
        ['POST', `/api/console/messages/${bad}/fail`],
        ['POST', `/api/console/targets/${bad}/replay`],
        ['POST', `/api/console/targets/${bad}/enable`],
      );
    }
    for (const filter of [
      'account',
      'target',
      'type',
      'state',
      'status',
      'limit',
      'offset',
      'window',
    ]) {
      for (const value of ['%00', 'main%00', '%1F']) {
        routes.push(
          ['GET', `/api/console/events?${filter}=${value}`],
          ['GET', `/api/console/messages?${filter}=${value}`],
          ['GET', `/api/console/overview?${filter}=${value}`],
          ['POST', `/api/console/events/${id}/replay?${filter}=${value}`],
        );
      }
    }
    for (const [method, path] of routes) {
      expect([400, 404], `${method} ${path.slice(0, 80)}`).toContain(await call(method, path));
    }
    // NUL bytes in a body: the fields are named, nothing is queued with them.
    const posted: Array<[unknown, string]> = [
      [{ to: '13800138000', content: '【测试】h\u0000i' }, 'content'],
      [{ to: '13800138000', content: '【测试】hi', metadata: { a: 'x\u0000' } }, 'metadata'],
      [{ to: '13800138000', content: '【测试】hi', metadata: { 'a\u0000': 1 } }, 'metadata'],
      [{ to: '13800138000', content: '【测试】hi', account: 'main\u0000' }, 'account'],
      [{ to: '13800138000', content: '【测试】hi', extNo: '1\u0000' }, 'extNo'],
      [{ to: '1380013800\u00000', content: '【测试】hi' }, 'to'],
    ];
    for (const [body, field] of posted) {
      const answer = await api(relay, 'POST', '/v1/messages', body);
      expect(
        { status: answer.status, field: answer.body['error']?.field },
        JSON.stringify(body),
      ).toEqual({
        status: 422,
        field,
      });
    }
    const reason = await call('POST', `/v1/messages/${id}/fail`, '{"reason":"no\\u0000pe"}');
    expect([200, 400, 409, 422]).toContain(reason);
    expect((await queuedRows()).map((r) => r.id)).toEqual([id]);
    const errors = logger.lines.filter((line) => JSON.parse(line).level === 'error');
    expect(errors).toEqual([]);
  });

  it('two Idempotency-Key headers are a 400, not one joined key; a chunked body over 1 MB is a 413, not a reset', async () => {
    const relay = await start();
    const { port } = new URL(relay.url!);
    const body = JSON.stringify({ to: '13800138000', content: '【测试】hi' });
    /** One raw HTTP/1.1 exchange, so headers can repeat and the body can be chunked. */
    const raw = (head: string, chunks: Buffer[]) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1');
        let text = '';
        socket.on('data', (d) => {
          text += d.toString('latin1');
        });
        socket.on('error', (error) => reject(error));
        socket.on('end', () => resolve(text));
        socket.on('close', () => resolve(text));
        socket.write(head);
        // Written as the socket drains, as a client streaming a large body would.
        (async () => {
          for (const chunk of chunks) {
            if (socket.destroyed) return;
            const ok = socket.write(`${chunk.length.toString(16)}\r\n`);
            socket.write(chunk);
            if (!socket.write('\r\n') || !ok) await new Promise((r) => socket.once('drain', r));
          }
          // Not end(): a half-closed request may lose its answer; the server closes after it.
          if (!socket.destroyed) socket.write('0\r\n\r\n');
        })().catch(reject);
      });
    const head = (extra: string) =>
      `POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TOKEN}\r\n` +
      `content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n${extra}\r\n`;
    const twice = await raw(head('idempotency-key: k2\r\nidempotency-key: k3\r\n'), [
      Buffer.from(body),
    ]);
    expect(twice).toMatch(/^HTTP\/1\.1 400 /);
    expect(twice).toContain('Idempotency-Key');
    const once = await raw(head('idempotency-key: k2\r\n'), [Buffer.from(body)]);
    expect(once).toMatch(/^HTTP\/1\.1 202 /);
    // 2 MB in 64 kB chunks, no content-length: the answer is a 413 the client can read.
    const big = Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, 0x20));
    const tooLarge = await raw(head(''), big);
    expect(tooLarge).toMatch(/^HTTP\/1\.1 413 /);
    expect(tooLarge).toContain('body too large');
    expect((await queuedRows()).map((r) => r.id)).toEqual([once.match(/"id":"([^"]+)"/)![1]]);
    // The relay still answers.
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  });

  it('an Idempotency-Key answers the same id and sends once; another body under it is a 409', async () => {
    const relay = await start();
    const body = {
      to: ['+86 138-0013-8000', '13900139000'],
      content: '【测试】验证码 1234',
      metadata: { order: 42, user: 'u1' },
    };
    const first = await api(relay, 'POST', '/v1/messages', body, { 'idempotency-key': 'order-42' });
    expect(first.status).toBe(202);
    expect(first.body['id']).toMatch(/^sms_[0-9A-Z]{26}$/);
    // The same request, its keys in another order and the numbers written otherwise.
    const again = await api(
      relay,
      'POST',
      '/v1/messages',
      { metadata: { user: 'u1', order: 42 }, content: body.content, to: '13800138000,13900139000' },
      { 'idempotency-key': 'order-42' },
    );
    expect(again.status).toBe(202);
    expect(again.body['id']).toBe(first.body['id']);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const conflict = await api(
      relay,
      'POST',
      '/v1/messages',
      { ...body, content: '【测试】验证码 9999' },
      {
        'idempotency-key': 'order-42',
      },
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body['error'].code).toBe('IDEMPOTENCY_CONFLICT');
    // Keys are one namespace per store: the same key and body on another account is a conflict.
    const otherAccount = await api(
      relay,
      'POST',
      '/v1/messages',
      { ...body, account: 'gbk' },
      { 'idempotency-key': 'order-42' },
    );
    expect(otherAccount.status).toBe(409);
    const sent = await until(relay, first.body['id'], (m) => m['status'] === 'sent');
    // A repeat after the send answers the same id again and still sends nothing.
    const late = await api(relay, 'POST', '/v1/messages', body, { 'idempotency-key': 'order-42' });
    expect(late.body).toEqual({ id: first.body['id'], status: 'sent' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(platform.sent()).toHaveLength(1);
    expect(platform.sent()[0]!.mobiles).toEqual(['13800138000', '13900139000']);
    expect(sent['taskId']).toBe(platform.sent()[0]!.taskId);
    expect((await queuedRows()).length).toBe(1);
  });

  it('a retry with the same key and body answers the same id after a restart with another default ttl', async () => {
    const first = config({ gateway: { idleMs: 20, retryDelayMs: 50, callbackSecret, ttl: '1h' } });
    const before = await start(first);
    const body = { to: '13800138000', content: '【测试】ttl default' };
    const a = await api(before, 'POST', '/v1/messages', body, { 'idempotency-key': 'ttl-1' });
    await before.stop();
    const after = await start({ ...first, gateway: { ...first.gateway, ttl: '2h' } });
    const b = await api(after, 'POST', '/v1/messages', body, { 'idempotency-key': 'ttl-1' });
    expect({ status: b.status, id: b.body['id'] }).toEqual({ status: 202, id: a.body['id'] });
    // An explicit ttl is part of the request: another one is a conflict.
    const c = await api(
      after,
      'POST',
      '/v1/messages',
      { ...body, ttl: '5m' },
      { 'idempotency-key': 'ttl-1' },
    );
    expect(c.status).toBe(409);
  });

  it('redacts gateway.callbackSecret from the logs like every other secret', () => {
    // It was missing from the redaction list: a line quoting it went out as typed.
    const secrets = secretsOf(parseConfig(config()));
    expect(secrets).toContain(callbackSecret);
    expect(secrets).toContain(callbackSecret.slice('whsec_'.length));
  });

  it('20 identical POSTs racing with one Idempotency-Key get one id and queue one message', async () => {
    const relay = await start();
    const body = { to: '13800138000', content: '【测试】race', metadata: { n: 1 } };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        api(relay, 'POST', '/v1/messages', body, { 'idempotency-key': 'race-1' }),
      ),
    );
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([202]));
    const ids = new Set(answers.map((a) => a.body['id']));
    expect(ids.size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    expect((await queuedRows()).map((r) => r.id)).toEqual([...ids]);
    await until(relay, [...ids][0], (m) => m['status'] === 'sent');
    expect(platform.sent()).toHaveLength(1);
  });

  it('ratePerSecond holds at the platform: at most that many sends in any second', async () => {
    const relay = await start(
      config({ gateway: { idleMs: 20, retryDelayMs: 50, callbackSecret, ratePerSecond: 5 } }),
    );
    const ids: string[] = [];
    for (let i = 0; i < 14; i++) {
      const answer = await api(relay, 'POST', '/v1/messages', {
        to: `1370000${String(i).padStart(4, '0')}`,
        content: '【测试】rate',
      });
      ids.push(answer.body['id']);
    }
    await waitFor(() => platform.sent().length === 14, 10_000, '14 sends');
    // The platform's own clock: when each send arrived.
    const at = platform.sent().map((m) => m.deliverAt.getTime());
    // 800 ms, not 1000: a send delayed on its way (a loaded machine) may arrive up to 200 ms
    // after the limiter let it start. Unlimited, all 14 arrive within ~100 ms; a limiter that
    // lets a second's allowance and its refill through together puts 9 in 800 ms.
    const busiest = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 800).length));
    expect(busiest).toBeLessThanOrEqual(5);
    expect(Math.max(...at) - Math.min(...at)).toBeGreaterThanOrEqual(1800);
  });

  it('a stop gives the messages claimed ahead back to the queue: the next relay sends each once, none unknown', {
    timeout: 30_000,
  }, async () => {
    // Two slots and slow sends: two messages on the wire, two more claimed ahead, when it stops.
    const input = config({
      gateway: { idleMs: 20, retryDelayMs: 50, callbackSecret, concurrency: 2 },
    });
    platform.setFault({ type: 'latency', ms: 400, action: 'send' });
    const relay = await start(input);
    const ids: string[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        const { body } = await api(relay, 'POST', '/v1/messages', {
          to: `1350000${String(i).padStart(4, '0')}`,
          content: `【测试】ahead ${i}`,
        });
        ids.push(body['id'] as string);
      }
      await waitFor(
        async () => (await queuedRows()).filter((r) => r.status === 'sending').length === 4,
        10_000,
        'two messages sending and two claimed ahead',
      );
      await relay.stop();
    } finally {
      platform.setFault(null);
    }
    // The two on the wire finished (a loaded machine may have finished one before: three);
    // the two claimed ahead are queued again, not `sending`.
    const stopped = (await queuedRows()).map((r) => r.status);
    const sentAtStop = platform.sent().length;
    expect(sentAtStop).toBeGreaterThanOrEqual(2);
    expect(stopped.sort()).toEqual([
      ...Array<string>(6 - sentAtStop).fill('queued'),
      ...Array<string>(sentAtStop).fill('sent'),
    ]);
    const after = await start(input);
    for (const id of ids) await until(after, id, (m) => m['status'] === 'sent');
    const contents = platform.sent().map((m) => m.content);
    expect(contents.sort()).toEqual(Array.from({ length: 6 }, (_, i) => `【测试】ahead ${i}`));
  });

  it('shares the send slots between accounts: a backlog on one does not hold the other back', {
    timeout: 60_000,
  }, async () => {
    // One slot, so the platform records sends in the order they were claimed, and every free
    // slot is a decision between the two accounts: the turn must pass to the other account
    // each time one is served. A turn that moved with every claiming pass (ea9e463) handed
    // each slot to whichever account the pass count favoured: right by chance half the time,
    // so the strict alternation below holds by chance once in 2^11 runs.
    const relay = await start(
      config({ gateway: { idleMs: 20, retryDelayMs: 50, callbackSecret, concurrency: 1 } }),
    );
    // A slow platform while the queues fill (1.5 s a send, under the accounts' 2 s timeout):
    // the first account's backlog is there when the other's arrive, however slow the POSTs.
    platform.setFault({ type: 'latency', ms: 1500, action: 'send' });
    const BACKLOG = 14;
    const OTHER = 6;
    let sentBefore = 0;
    try {
      for (let i = 0; i < BACKLOG; i++) {
        await api(relay, 'POST', '/v1/messages', {
          to: `1370000${String(i).padStart(4, '0')}`,
          content: '【测试】backlog',
        });
      }
      for (let i = 0; i < OTHER; i++) {
        await api(relay, 'POST', '/v1/messages', {
          to: `1360000${String(i).padStart(4, '0')}`,
          content: '【测试】other account',
          account: 'gbk',
        });
      }
      sentBefore = platform.sent().length;
      platform.setFault({ type: 'latency', ms: 100, action: 'send' });
      await waitFor(() => platform.sent().length === BACKLOG + OTHER, 40_000, 'every send');
    } finally {
      platform.setFault(null);
    }
    const order = platform.sent().map((m) => (m.account === 'gbk' ? 'g' : 'm'));
    // The scenario holds: when the other account's messages were queued, the first account
    // still had more waiting than the alternation below needs (one in flight, one claimed
    // ahead, one recorded at most while the last POSTs ran).
    expect(BACKLOG - sentBefore - 2).toBeGreaterThanOrEqual(OTHER);
    // The send in flight when they were queued and the one claimed ahead of it (one window:
    // one slot) finish, then the slot alternates: g m g m …
    const first = order.indexOf('g');
    expect(first, order.join('')).toBeLessThanOrEqual(sentBefore + 2);
    const expected = [...'gm'.repeat(OTHER - 1), 'g'].join('');
    expect(order.slice(first, first + 2 * OTHER - 1).join(''), order.join('')).toBe(expected);
  });

  it('tags each report webhook with the message id and metadata, and tracks each number', async () => {
    const relay = await start();
    const { body } = await api(relay, 'POST', '/v1/messages', {
      to: ['13800138001', FAIL_MOBILE],
      content: '【测试】您的订单已发货',
      metadata: { order: 'A-1' },
    });
    const id = body['id'] as string;
    const done = await until(relay, id, (m) =>
      m['recipients'].every(
        (r: { status: string }) => r.status === 'delivered' || r.status === 'failed',
      ),
    );
    expect(done['status']).toBe('sent');
    expect(done['taskId']).toBe(platform.sent()[0]!.taskId);
    expect(done['recipients']).toEqual([
      expect.objectContaining({ mobile: '13800138001', status: 'delivered', code: 'DELIVRD' }),
      expect.objectContaining({ mobile: FAIL_MOBILE, status: 'failed', code: 'MK:0011' }),
    ]);
    await waitFor(() => rx.verified().length >= 2, 10_000, 'two report webhooks');
    const reports = rx.verified().map((r) => r.event!.data);
    expect(reports).toHaveLength(2);
    for (const data of reports) {
      expect(data['messageId']).toBe(id);
      expect(data['metadata']).toEqual({ order: 'A-1' });
      expect(data['taskId']).toBe(done['taskId']);
    }
    // The stored bodies carry them: a retry or a replay signs the same bytes.
    const stored = (await storedReportBodies()).map((body) => JSON.parse(body).data);
    expect(stored.map((data) => [data.mobile, data.messageId, data.metadata])).toEqual(
      expect.arrayContaining([
        ['13800138001', id, { order: 'A-1' }],
        [FAIL_MOBILE, id, { order: 'A-1' }],
      ]),
    );
    // A reply carries the last message sent to its number.
    platform.injectReply({ account: 'demo', mobile: '13800138001', content: '收到' });
    await waitFor(() => rx.verified().length >= 3, 10_000, 'the reply webhook');
    const reply = rx.verified()[2]!.event!;
    expect(reply.type).toBe('sms.reply');
    expect(reply.data['messageId']).toBe(id);
    expect(reply.data['metadata']).toEqual({ order: 'A-1' });
    // A report of a message sent outside the gateway carries no message id.
    platform.injectReport({ account: 'demo', mobile: '13800138002', taskId: '777', status: 10 });
    await waitFor(() => rx.verified().length >= 4, 10_000, 'the foreign report');
    expect(rx.verified()[3]!.event!.data['messageId']).toBeUndefined();
  });

  it('sends the events of a message with a callbackUrl there too, signed with the callback secret', async () => {
    // The receiver is on 127.0.0.1: the operator trusts it (callbacks are public-only by default).
    const relay = await start(
      config({
        gateway: { idleMs: 20, retryDelayMs: 50, callbackSecret, callbackAllow: ['127.0.0.1'] },
      }),
    );
    const { body } = await api(relay, 'POST', '/v1/messages', {
      to: '13800138003',
      content: '【测试】callback',
      metadata: { n: 1 },
      callbackUrl: callbacks.url,
    });
    const other = await api(relay, 'POST', '/v1/messages', {
      to: '13800138004',
      content: '【测试】no callback',
    });
    await waitFor(() => rx.verified().length >= 2, 10_000, 'both reports at the target');
    await waitFor(() => callbacks.verified().length >= 1, 10_000, 'the callback');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(callbacks.received).toHaveLength(1);
    const event = callbacks.verified()[0]!;
    expect(event.event!.data['messageId']).toBe(body['id']);
    expect(event.event!.data['metadata']).toEqual({ n: 1 });
    // The same event (id and bytes) as the configured target got.
    const twin = rx.verified().find((r) => r.id === event.id)!;
    expect(twin.body).toBe(event.body);
    expect(rx.verified().some((r) => r.event!.data['messageId'] === other.body['id'])).toBe(true);
  });

  it('refuses a callbackUrl that reaches loopback by default: a 422 naming callbackUrl in every spelling', async () => {
    const relay = await start();
    const port = new URL(callbacks.url).port;
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]', '2130706433']) {
      const callbackUrl = `http://${host}:${port}/admin?x=1`;
      const answer = await api(relay, 'POST', '/v1/messages', {
        to: '13800138000',
        content: '【测试】ssrf',
        callbackUrl,
      });
      expect({ status: answer.status, field: answer.body['error']?.field }, callbackUrl).toEqual({
        status: 422,
        field: 'callbackUrl',
      });
      expect(answer.body['error'].message).toMatch(/loopback/);
    }
    expect(await queuedRows()).toEqual([]);
    expect(callbacks.received).toEqual([]);
    // Allowed by the operator, the same address is accepted (and 2130706433 is 127.0.0.1).
    await relay.stop();
    const open = await start(
      config({ gateway: { idleMs: 20, callbackSecret, callbackAllow: ['127.0.0.0/8'] } }),
    );
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '2130706433']) {
      const answer = await api(open, 'POST', '/v1/messages', {
        to: '13800138000',
        content: '【测试】allowed',
        callbackUrl: `http://${host}:${port}/cb`,
      });
      expect(answer.status, host).toBe(202);
    }
  });

  it('a name that resolves to 127.0.0.1 is refused when connecting: recorded as a dead callback with the reason, nothing sent', async () => {
    const port = new URL(callbacks.url).port;
    // No DNS here: a resolver that answers what a hostile name would.
    const lookups: string[] = [];
    const relay = createRelay(config(), {
      logger: memoryLogger(),
      lookup: async (hostname) => {
        lookups.push(hostname);
        return hostname === 'hooks.example.test' ? [{ address: '127.0.0.1', family: 4 }] : [];
      },
    });
    relays.push(relay);
    await relay.start();
    const answer = await api(relay, 'POST', '/v1/messages', {
      to: '13800138006',
      content: '【测试】rebinding',
      callbackUrl: `http://hooks.example.test:${port}/cb`,
    });
    expect(answer.status).toBe(202);
    await waitFor(
      async () => (await callbackRows()).some((r) => r.status === 'dead'),
      10_000,
      'the callback dead',
    );
    const [row] = await callbackRows();
    expect(row).toMatchObject({ status: 'dead', attempts: 1 });
    expect(row!.last_error).toMatch(
      /^CALLBACK_REFUSED: hooks\.example\.test resolves to 127\.0\.0\.1 is loopback/,
    );
    expect(lookups).toContain('hooks.example.test');
    expect(callbacks.received).toEqual([]);
  });

  it('a callback endpoint that trickles its answer holds only its own callbacks, each attempt cut at one deadline', {
    timeout: 60_000,
  }, async () => {
    // A tarpit: answers 200 at once, then one byte every 200 ms, never ending. undici's body
    // timeout restarts with every byte, so only an overall deadline ends such an attempt.
    const hits: number[] = [];
    const tarpit = createServer((req, res) => {
      hits.push(Date.now());
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      const drip = setInterval(() => res.write('.'), 200);
      res.on('close', () => clearInterval(drip));
    });
    await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
    const tarpitUrl = `http://127.0.0.1:${(tarpit.address() as AddressInfo).port}/slow`;
    try {
      const relay = await start(
        config({
          delivery: { ...FAST, timeoutMs: 1500 },
          gateway: { idleMs: 20, retryDelayMs: 50, callbackSecret, callbackAllow: ['127.0.0.1'] },
        }),
      );
      for (let i = 0; i < 4; i++) {
        const slow = await api(relay, 'POST', '/v1/messages', {
          to: `1380013810${i}`,
          content: '【测试】tarpit',
          callbackUrl: tarpitUrl,
        });
        expect(slow.status).toBe(202);
      }
      await waitFor(() => hits.length >= 1, 10_000, 'the tarpit holding a callback');
      const firstHit = hits[0]!;
      // Other clients' callbacks, due while the tarpit holds its own.
      const queuedAt = Date.now();
      for (let i = 0; i < 2; i++) {
        const other = await api(relay, 'POST', '/v1/messages', {
          to: `1380013820${i}`,
          content: '【测试】prompt',
          callbackUrl: callbacks.url,
        });
        expect(other.status).toBe(202);
      }
      await waitFor(() => callbacks.verified().length >= 2, 10_000, 'the other callbacks');
      const otherLatency = Date.now() - queuedAt;
      // Each tarpit attempt ends at the deadline, recorded as such, however it trickles.
      await waitFor(
        async () =>
          (await callbackRows()).some(
            (r) => r.url === tarpitUrl && /timeout after 1500 ms/.test(r.last_error ?? ''),
          ),
        10_000,
        'a tarpit attempt cut at the deadline',
      );
      const cutAfter = Date.now() - firstHit;
      // At most two attempts at a time to one endpoint: the other two waited their turn.
      const concurrentStarts = hits.filter((t) => t - firstHit < 1000).length;
      console.log(`other callbacks after ${otherLatency} ms; tarpit cut after ${cutAfter} ms`);
      expect(otherLatency).toBeLessThan(1500);
      expect(cutAfter).toBeLessThan(1500 + 3000);
      expect(concurrentStarts).toBeLessThanOrEqual(2);
    } finally {
      tarpit.closeAllConnections();
      await new Promise((resolve) => tarpit.close(resolve));
    }
  });

  it('a send whose answer was lost is unknown and never resent on its own; the operator decides', async () => {
    const relay = await start();
    // The platform records the send, then resets the connection: the answer is lost.
    platform.setFault({ type: 'reset', action: 'send', times: 1 });
    const { body } = await api(relay, 'POST', '/v1/messages', {
      to: '13800138005',
      content: '【测试】lost answer',
    });
    const id = body['id'] as string;
    const unknown = await until(relay, id, (m) => m['status'] === 'unknown');
    expect(unknown['error'].code).toBe('UNKNOWN_OUTCOME');
    expect(unknown['recipients'][0].status).toBe('unknown');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(platform.sent()).toHaveLength(1);
    expect((await api(relay, 'GET', `/v1/messages/${id}`)).body['status']).toBe('unknown');
    // The operator saw it did arrive: fail it (the relay will not send it).
    const failed = await api(relay, 'POST', `/v1/messages/${id}/fail`, {
      reason: 'arrived, checked',
    });
    expect(failed.body).toEqual({ id, status: 'failed' });
    expect((await api(relay, 'POST', `/v1/messages/${id}/fail`)).status).toBe(409);

    platform.setFault({ type: 'reset', action: 'send', times: 1 });
    const second = (
      await api(relay, 'POST', '/v1/messages', { to: '13800138006', content: '【测试】again' })
    ).body['id'];
    await until(relay, second, (m) => m['status'] === 'unknown');
    // The operator decides it did not arrive: resend (a second platform send, by decision).
    expect((await api(relay, 'POST', `/v1/messages/${second}/resend`)).body).toEqual({
      id: second,
      status: 'queued',
    });
    const resent = await until(relay, second, (m) => m['status'] === 'sent');
    expect(resent['taskId']).toBe(platform.sent()[2]!.taskId);
    expect(platform.sent()).toHaveLength(3);
    expect((await api(relay, 'POST', `/v1/messages/${second}/resend`)).status).toBe(409);
    expect((await api(relay, 'GET', '/v1/messages/sms_00000000000000000000000000')).status).toBe(
      404,
    );
  });

  it('retries refusals that may pass later, fails bad content at once, expires what outlives its ttl', async () => {
    const relay = await start();
    platform.setAccount({ account: 'demo', balance: 0 });
    // Pinned to main: without an account it would move on to gbk (failover.test.ts).
    const { body } = await api(relay, 'POST', '/v1/messages', {
      to: '13800138007',
      content: '【测试】balance',
      account: 'main',
    });
    const id = body['id'] as string;
    await until(
      relay,
      id,
      (m) => m['attempts'] >= 2 && m['error']?.code === 'INSUFFICIENT_BALANCE',
    );
    expect(platform.sent()).toHaveLength(0);
    const ttl = (
      await api(relay, 'POST', '/v1/messages', {
        to: '13800138008',
        content: '【测试】ttl',
        account: 'main',
        ttl: 0.3,
      })
    ).body['id'];
    const expired = await until(relay, ttl, (m) => m['status'] === 'expired');
    expect(expired['recipients'][0].status).toBe('expired');
    platform.setAccount({ account: 'demo', topUp: 100 });
    await until(relay, id, (m) => m['status'] === 'sent');
    expect(platform.sent().map((m) => m.mobiles)).toEqual([['13800138007']]);

    const blocked = (
      await api(relay, 'POST', '/v1/messages', { to: '13800138009', content: '【测试】赌博' })
    ).body['id'];
    const failed = await until(relay, blocked, (m) => m['status'] === 'failed');
    expect(failed['error'].code).toBe('ILLEGAL_KEYWORD');
    expect(failed['attempts']).toBe(1);
    expect(failed['recipients'][0]).toMatchObject({ status: 'failed', code: 'ILLEGAL_KEYWORD' });
  });

  it('sms-relay message show|resend|fail handles an unknown message from the command line', async () => {
    const input = config();
    const relay = await start(input);
    platform.setFault({ type: 'reset', action: 'send', times: 2 });
    const first = (
      await api(relay, 'POST', '/v1/messages', { to: '13800138013', content: '【测试】cli 1' })
    ).body['id'];
    const second = (
      await api(relay, 'POST', '/v1/messages', { to: '13800138014', content: '【测试】cli 2' })
    ).body['id'];
    await until(relay, first, (m) => m['status'] === 'unknown');
    await until(relay, second, (m) => m['status'] === 'unknown');
    const path = await runCli.writeConfig(tmp.dir, input);
    const show = await runCli(['message', 'show', '--id', first, '--config', path, '--json']);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({
      id: first,
      status: 'unknown',
      error: { code: 'UNKNOWN_OUTCOME' },
    });
    const logged = (stderr: string) =>
      stderr
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const failed = await runCli(['message', 'fail', '--id', first, '--config', path], {
      LOG_LEVEL: 'info',
    });
    expect(failed).toMatchObject({ code: 0, stdout: `${first} failed\n` });
    // Logged as the HTTP route logs it (the CLI logged nothing).
    expect(logged(failed.stderr)).toEqual([
      expect.objectContaining({ level: 'warn', msg: 'message failed by an operator', id: first }),
    ]);
    const resent = await runCli(['message', 'resend', '--id', first, '--config', path], {
      LOG_LEVEL: 'info',
    });
    expect(resent.code).toBe(0);
    expect(logged(resent.stderr)).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'message resent by an operator',
        id: first,
        via: 'sms-relay message',
      }),
    ]);
    expect(await runCli(['message', 'resend', '--id', second, '--config', path])).toMatchObject({
      code: 0,
      stdout: `${second} queued\n`,
    });
    await until(relay, second, (m) => m['status'] === 'sent');
    // A sent message cannot be failed.
    expect((await runCli(['message', 'fail', '--id', second, '--config', path])).code).toBe(1);
    expect((await runCli(['message', 'show', '--id', 'sms_nope', '--config', path])).code).toBe(1);
    expect((await runCli(['message', 'explode', '--id', first, '--config', path])).code).toBe(2);
    // Each resent message is sent once more (the operator's decision), and no more.
    await until(relay, first, (m) => m['status'] === 'sent');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const contents = platform.sent().map((m) => m.content);
    expect(contents.sort()).toEqual([
      '【测试】cli 1',
      '【测试】cli 1',
      '【测试】cli 2',
      '【测试】cli 2',
    ]);
    // Seven starts of the sms-relay command, 1 to 5 s each on a busy 2-core machine.
  }, 60_000);

  it('retries a send refused at connect (it surely never left) and sends it once the platform is up; an unreadable answer is unknown', async () => {
    // A port with nothing behind it yet: connect is refused.
    const parked = createServer();
    await new Promise<void>((resolve) => parked.listen(0, '127.0.0.1', resolve));
    const port = (parked.address() as AddressInfo).port;
    await new Promise<void>((resolve) => parked.close(() => resolve()));
    const input = config();
    input.accounts.push({
      name: 'later',
      baseUrl: `http://127.0.0.1:${port}`,
      userId: '12',
      account: 'demo',
      password: PASSWORD,
      pollIntervalMs: 50,
      timeoutMs: 2000,
    });
    const relay = await start({ ...input, gateway: { ...input.gateway, retryDelayMs: 20 } });
    const { body } = await api(relay, 'POST', '/v1/messages', {
      to: '13800138015',
      content: '【测试】refused',
      account: 'later',
    });
    const id = body['id'] as string;
    await until(relay, id, (m) => m['attempts'] >= 2 && m['status'] === 'queued');
    expect((await api(relay, 'GET', `/v1/messages/${id}`)).body['error'].code).toBe('NETWORK');
    // The platform comes up on that port (a pass-through to the emulator).
    const proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const answer = await fetch(`${platform.url}${req.url}`, {
        method: 'POST',
        headers: { 'content-type': String(req.headers['content-type']) },
        body: Buffer.concat(chunks),
      });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      await until(relay, id, (m) => m['status'] === 'sent');
      expect(platform.sent().map((m) => m.content)).toEqual(['【测试】refused']);
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
    // The platform handled the send and answered garbage: it may have been sent (it was).
    platform.setFault({ type: 'malformed', action: 'send', times: 1 });
    const garbled = (
      await api(relay, 'POST', '/v1/messages', { to: '13800138016', content: '【测试】garbled' })
    ).body['id'];
    const unknown = await until(relay, garbled, (m) => m['status'] === 'unknown');
    expect(['PROTOCOL', 'UNKNOWN_OUTCOME']).toContain(unknown['error'].code);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(platform.sent().filter((m) => m.content === '【测试】garbled')).toHaveLength(1);
  });

  it('counts accepted messages and send outcomes in /metrics', async () => {
    const relay = await start();
    const { body } = await api(relay, 'POST', '/v1/messages', {
      to: '13800138011',
      content: '【测试】metrics',
    });
    await until(relay, body['id'], (m) => m['status'] === 'sent');
    const text = await (await fetch(`${relay.url}/metrics`)).text();
    expect(text).toContain('sms_relay_gateway_accepted_total{account="main"} 1');
    expect(text).toContain('sms_relay_gateway_sends_total{account="main",outcome="sent"} 1');
  });

  it('prunes finished messages with the events after retention', async () => {
    const relay = await start(config({ retention: '300ms' }));
    const { body } = await api(relay, 'POST', '/v1/messages', {
      to: '13800138012',
      content: '【测试】prune',
    });
    await until(relay, body['id'], (m) => m['status'] === 'sent');
    await waitFor(async () => (await queuedRows()).length === 0, 10_000, 'the message pruned');
    expect((await api(relay, 'GET', `/v1/messages/${body['id']}`)).status).toBe(404);
  });

  it('sendAt in the future goes to the platform as its sendTime', async () => {
    const relay = await start();
    const at = new Date(Date.now() + 3_600_000);
    at.setMilliseconds(0);
    const { body } = await api(relay, 'POST', '/v1/messages', {
      to: '13800138010',
      content: '【测试】later',
      sendAt: at.toISOString(),
    });
    const sent = await until(relay, body['id'], (m) => m['status'] === 'sent');
    expect(sent['sendAt']).toBe(at.toISOString());
    const shanghai = new Date(at.getTime() + 8 * 3_600_000)
      .toISOString()
      .slice(0, 19)
      .replace('T', ' ');
    expect(platform.sent()[0]!.sendTime).toBe(shanghai);
  });
});
