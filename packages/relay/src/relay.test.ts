import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Emulator } from '@sms/emulator';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret, secretVariants } from '@sms/core';
import { type Relay, createRelay } from './relay.js';
import { spawnRelay } from './test-utils/child.js';
import { runCli } from './test-utils/cli.js';
import { type Receiver, startReceiver, waitFor } from './test-utils/receiver.js';
import {
  PASSWORD,
  TEST_DATABASE_URL,
  emulator,
  memoryLogger,
  report,
  secret,
  tempDir,
} from './test-utils/setup.js';

const FAST = { retrySchedule: [50, 100, 200], jitter: 0, idleMs: 20, timeoutMs: 2000 };

describe('relay end to end: emulator -> relay (SQLite) -> receiver', () => {
  let platform: Emulator;
  let tmp: ReturnType<typeof tempDir>;
  const relays: Relay[] = [];
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    platform = await emulator([
      { userId: '', account: 'barred', password: 'barred-pass', reportsAllowed: false },
      { userId: '', account: 'other', password: 'other-pass' },
    ]);
    tmp = tempDir();
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    platform.reset();
  });
  afterAll(async () => {
    await platform.close();
    tmp.cleanup();
  });

  let dbCount = 0;
  function config(targets: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) {
    return {
      store: { sqlite: join(tmp.dir, `relay-${++dbCount}.db`) },
      accounts: [
        {
          name: 'main',
          baseUrl: platform.url,
          userId: '12',
          account: 'demo',
          password: PASSWORD,
          pollIntervalMs: 50,
        },
      ],
      targets,
      delivery: FAST,
      http: { port: 0, host: '127.0.0.1' },
      ...extra,
    };
  }
  async function receiver(respond?: Parameters<typeof startReceiver>[0]['respond']) {
    const r = await startReceiver({ secret, ...(respond ? { respond } : {}) });
    receivers.push(r);
    return r;
  }
  async function start(input: unknown, logger = memoryLogger()) {
    const relay = createRelay(input, { logger });
    relays.push(relay);
    await relay.start();
    return { relay, logger };
  }

  it('delivers reports and replies, signed for every rotated secret, verified by standardwebhooks', async () => {
    const next = generateWebhookSecret();
    const rx = await receiver();
    const cfg = config([{ name: 'app', url: rx.url, secret: [secret, next] }]);
    const { relay, logger } = await start(cfg);
    const reports = Array.from({ length: 30 }, (_, i) => report(i % 3 === 0 ? 20 : 10));
    for (const r of reports) platform.injectReport(r);
    platform.injectReply({
      account: 'demo',
      mobile: '13800138000',
      content: '退订 回复',
      extNo: '01',
    });
    await waitFor(() => rx.verified().length >= 31, 10_000, '31 webhooks');

    const events = rx.verified().map((r) => r.event!);
    expect(rx.received.length).toBe(31);
    const reply = events.find((e) => e.type === 'sms.reply');
    expect(reply?.data).toMatchObject({
      account: 'main',
      mobile: '13800138000',
      content: '退订 回复',
      extNo: '01',
    });
    const first = events.find(
      (e) => e.type === 'sms.report' && e.data['mobile'] === reports[0]!.mobile,
    );
    expect(first?.data).toMatchObject({
      account: 'main',
      taskId: reports[0]!.taskId,
      status: 'failed',
      statusCode: 20,
      errorCode: 'UNDELIV',
    });
    expect(Number.isNaN(Date.parse(String(first?.data['receivedAt'])))).toBe(false);
    expect(Number.isNaN(Date.parse(first!.timestamp))).toBe(false);
    const sample = rx.received[0]!;
    expect(sample.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
    expect(
      new Webhook(next).verify(sample.body, sample.headers as Record<string, string>),
    ).toBeTruthy();
    expect(new Set(rx.received.map((r) => r.id)).size).toBe(31);

    // Independent read: every delivery row is delivered, ids match what the receiver saw.
    const db = new Database(cfg.store.sqlite, { readonly: true });
    const rows = () =>
      db.prepare('SELECT event_id, status FROM deliveries').all() as Array<{
        event_id: string;
        status: string;
      }>;
    await waitFor(() => rows().every((r) => r.status === 'delivered'), 2000, 'acknowledgements');
    expect(
      rows()
        .map((r) => r.event_id)
        .sort(),
    ).toEqual(rx.received.map((r) => r.id).sort());
    db.close();

    const health = await fetch(`${relay.url}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`${relay.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toMatch(
      /sms_relay_events_fetched_total\{account="main",type="sms.report"\} 30/,
    );
    expect(metrics).toMatch(/sms_relay_events_stored_total\{account="main",type="sms.reply"\} 1/);
    expect(metrics).toMatch(/sms_relay_deliveries_delivered_total\{target="app"\} 31/);
    expect(metrics).toMatch(/sms_relay_delivery_latency_seconds_count 31/);
    expect(metrics).toMatch(/sms_relay_queue_depth 0/);
    expect(metrics).toMatch(/sms_relay_polling\{account="main"\} 1/);
    expect(logger.lines.join('')).not.toContain(PASSWORD);
    expect(logger.lines.join('')).not.toContain(secret);
    for (const line of logger.lines) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('logs the address the HTTP server actually bound', async () => {
    const rx = await receiver();
    const started = (logger: { lines: string[] }) =>
      JSON.parse(logger.lines.find((l) => l.includes('"relay started"'))!) as { http: string };
    const wildcard = await start(
      config([{ name: 'app', url: rx.url, secret }], { http: { port: 0, host: '0.0.0.0' } }),
    );
    const port = new URL(wildcard.relay.url!).port;
    expect(started(wildcard.logger).http).toBe(`http://0.0.0.0:${port}`);
    expect((await fetch(`${wildcard.relay.url}/healthz`)).status).toBe(200);
    await wildcard.relay.stop();
    const loopback = await start(config([{ name: 'app', url: rx.url, secret }]));
    expect(started(loopback.logger).http).toBe(loopback.relay.url);
    expect(loopback.relay.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('routes by event type and account: each target gets exactly its events', async () => {
    const mainReports = await receiver();
    const secondAll = await receiver();
    const base = config([
      {
        name: 'main-reports',
        url: mainReports.url,
        secret,
        events: ['sms.report'],
        accounts: ['main'],
      },
      { name: 'second-all', url: secondAll.url, secret, accounts: ['second'] },
    ]);
    const cfg = {
      ...base,
      accounts: [
        ...base.accounts,
        {
          name: 'second',
          baseUrl: platform.url,
          account: 'other',
          password: 'other-pass',
          pollIntervalMs: 50,
        },
      ],
    };
    await start(cfg);
    const sent: Array<{ account: string; type: string; mobile: string }> = [];
    for (let i = 0; i < 3; i++) {
      for (const [account, platformAccount] of [
        ['main', 'demo'],
        ['second', 'other'],
      ] as const) {
        const r = { ...report(), account: platformAccount };
        platform.injectReport(r);
        sent.push({ account, type: 'sms.report', mobile: r.mobile });
        const mobile = `139${String(sent.length).padStart(8, '0')}`;
        platform.injectReply({ account: platformAccount, mobile, content: `hi ${account}` });
        sent.push({ account, type: 'sms.reply', mobile });
      }
    }
    const got = (rx: Receiver) =>
      rx
        .verified()
        .map(
          (r) =>
            `${String(r.event!.data['account'])} ${r.event!.type} ${String(r.event!.data['mobile'])}`,
        )
        .sort();
    const expected = (keep: (s: (typeof sent)[0]) => boolean) =>
      sent
        .filter(keep)
        .map((s) => `${s.account} ${s.type} ${s.mobile}`)
        .sort();
    // Every record of both accounts is stored (read from the file), main's replies with no
    // delivery at all: nothing is still on its way to a target that should not get it.
    const db = new Database(cfg.store.sqlite, { readonly: true });
    const stored = () =>
      db
        .prepare(
          `SELECT e.account, e.type, COUNT(d.target) AS targets,
                  TOTAL(d.status = 'delivered') AS delivered
           FROM events e LEFT JOIN deliveries d ON d.event_id = e.id GROUP BY e.id`,
        )
        .all() as Array<{ account: string; type: string; targets: number; delivered: number }>;
    await waitFor(
      () => stored().length === sent.length && stored().every((e) => e.delivered === e.targets),
      10_000,
      'every record stored and delivered',
    );
    expect(
      stored()
        .map((e) => `${e.account} ${e.type} ${e.targets}`)
        .sort(),
    ).toEqual(
      sent
        .map(
          (s) => `${s.account} ${s.type} ${s.account === 'main' && s.type === 'sms.reply' ? 0 : 1}`,
        )
        .sort(),
    );
    db.close();
    expect(got(mainReports)).toEqual(
      expected((s) => s.account === 'main' && s.type === 'sms.report'),
    );
    expect(got(secondAll)).toEqual(expected((s) => s.account === 'second'));
    expect(mainReports.received.length + secondAll.received.length).toBe(9);
  });

  it('keeps retrying while the receiver is down, and everything arrives once it is up', async () => {
    const rx = await receiver();
    const port = rx.port;
    await rx.close();
    const cfg = config([{ name: 'app', url: `http://127.0.0.1:${port}/hooks/sms`, secret }], {
      delivery: {
        ...FAST,
        retrySchedule: [50, 100, 200, 300, 300, 300, 300, 300, 300, 300, 300, 300],
      },
    });
    const { relay } = await start(cfg);
    for (let i = 0; i < 20; i++) platform.injectReport(report());
    await waitFor(
      async () => (await relay.metrics.retried.get()).values.length > 0,
      10_000,
      'retries',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const back = await startReceiver({ secret, port });
    receivers.push(back);
    await waitFor(
      () => new Set(back.verified().map((r) => r.id)).size === 20,
      15_000,
      '20 webhooks after recovery',
    );
    await waitFor(async () => (await relay.status()).pending === 0, 5000, 'an empty queue');
  });

  it('warns once when a target starts failing and notes its recovery, not a warning per failure', async () => {
    let status = 500;
    const rx = await receiver(() => ({ status }));
    const { relay, logger } = await start(
      config([{ name: 'app', url: rx.url, secret }], {
        // One request at a time: the order of answers is the order of log lines.
        delivery: { ...FAST, concurrency: 1, retrySchedule: Array(20).fill(30) },
      }),
    );
    for (let i = 0; i < 5; i++) platform.injectReport(report());
    await waitFor(() => rx.received.length >= 12, 10_000, 'a dozen failed deliveries');
    status = 200;
    await waitFor(async () => (await relay.status()).delivered === 5, 10_000, 'recovery');

    const lines = logger.lines.map(
      (l) => JSON.parse(l) as { level: string; msg: string; [field: string]: unknown },
    );
    const failing = lines.filter((l) => l.msg.startsWith('target failing'));
    expect(failing).toHaveLength(1);
    expect(failing[0]).toMatchObject({
      level: 'warn',
      target: 'app',
      status: 500,
      error: 'HTTP 500',
      id: rx.received[0]!.id,
    });
    const recovered = lines.filter((l) => l.msg.startsWith('target recovered'));
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ level: 'info', target: 'app', status: 200 });
    expect(recovered[0]!['failures']).toBeGreaterThanOrEqual(12);
    const retries = lines.filter((l) => l.msg === 'delivery failed; will retry');
    expect(retries.length).toBeGreaterThanOrEqual(12);
    expect(retries.every((l) => l.level === 'debug')).toBe(true);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('a 410 disables the target; other targets keep receiving; enabling resumes', async () => {
    let goneStatus = 410;
    const gone = await receiver(() => ({ status: goneStatus }));
    const ok = await receiver();
    const cfg = config([
      { name: 'gone', url: gone.url, secret },
      { name: 'ok', url: ok.url, secret },
    ]);
    const { relay } = await start(cfg);
    platform.injectReport(report());
    await waitFor(() => gone.received.length === 1 && ok.received.length === 1);
    await waitFor(async () => (await relay.status()).disabledTargets.includes('gone'));
    for (let i = 0; i < 3; i++) platform.injectReport(report());
    await waitFor(() => ok.received.length === 4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(gone.received.length).toBe(1);

    await relay.stop();
    goneStatus = 200;
    const { runCli } = await import('./test-utils/cli.js');
    const cfgPath = await runCli.writeConfig(tmp.dir, cfg);
    expect((await runCli(['status', '--config', cfgPath, '--json'])).stdout).toContain(
      '"disabledTargets":["gone"]',
    );
    const typo = await runCli(['enable', '--config', cfgPath, '--target', 'nope']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown target "nope"');
    expect(typo.stderr).toContain('known: gone, ok');
    expect(typo.stdout).toBe('');
    const notDisabled = await runCli(['enable', '--config', cfgPath, '--target', 'ok']);
    expect(notDisabled).toMatchObject({ code: 0, stdout: 'target ok was not disabled\n' });
    // Disabled in the store but gone from the config: still known, so it can be enabled.
    const without = await runCli.writeConfig(tmp.dir, { ...cfg, targets: [cfg.targets[1]] });
    expect(await runCli(['enable', '--config', without, '--target', 'gone'])).toMatchObject({
      code: 0,
      stdout: 'target gone enabled\n',
    });
    await start(cfg);
    await waitFor(
      () => new Set(gone.verified().map((r) => r.id)).size === 4,
      5000,
      'resumed deliveries',
    );
    expect(ok.received.length).toBe(4);
  });

  it('honours Retry-After', async () => {
    let calls = 0;
    const rx = await receiver(() =>
      ++calls === 1 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 },
    );
    await start(
      config([{ name: 'app', url: rx.url, secret }], {
        delivery: { ...FAST, retrySchedule: [10] },
      }),
    );
    platform.injectReport(report());
    await waitFor(() => rx.received.length === 2, 5000);
    const gap = rx.received[1]!.at - rx.received[0]!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(rx.received[1]!.id).toBe(rx.received[0]!.id);
  });

  it('dead-letters after the last attempt; replay re-delivers with the same webhook-id', async () => {
    let status = 500;
    const rx = await receiver(() => ({ status }));
    const cfg = config([{ name: 'app', url: rx.url, secret }], {
      delivery: { ...FAST, retrySchedule: [20, 20] },
    });
    const { relay } = await start(cfg);
    platform.injectReport(report());
    await waitFor(async () => (await relay.status()).dead === 1, 5000, 'dead letter');
    expect(rx.received).toHaveLength(3);
    const id = rx.received[0]!.id;
    expect(rx.received.every((r) => r.id === id)).toBe(true);
    expect(await (await fetch(`${relay.url}/metrics`)).text()).toMatch(/sms_relay_dead_letters 1/);

    await relay.stop();
    status = 200;
    const { runCli } = await import('./test-utils/cli.js');
    const cfgPath = await runCli.writeConfig(tmp.dir, cfg);
    const dead = await runCli(['dead', '--config', cfgPath, '--json']);
    expect(JSON.parse(dead.stdout)).toMatchObject([
      { eventId: id, target: 'app', attempts: 3, lastError: 'HTTP 500' },
    ]);
    const replayed = await runCli(['replay', '--config', cfgPath, '--id', id]);
    expect(replayed.stdout).toContain('1 delivery re-queued');
    const again = await start(cfg);
    await waitFor(() => rx.received.length === 4, 5000);
    expect(rx.received[3]!.id).toBe(id);
    expect(rx.received[3]!.event).not.toBeNull();
    expect((await again.relay.status()).dead).toBe(0);
  });

  it('finishes deliveries in flight on stop, then closes the store', async () => {
    const rx = await receiver(() => ({ status: 200, delayMs: 400 }));
    const cfg = config([{ name: 'app', url: rx.url, secret }]);
    const { relay } = await start(cfg);
    for (let i = 0; i < 5; i++) platform.injectReport(report());
    await waitFor(() => rx.received.length === 5);
    await relay.stop();
    const db = new Database(cfg.store.sqlite, { readonly: true });
    const statuses = db.prepare('SELECT status FROM deliveries').all() as Array<{ status: string }>;
    db.close();
    expect(statuses.map((s) => s.status)).toEqual(Array(5).fill('delivered'));
    await expect(fetch(`${relay.url}/healthz`)).rejects.toThrow();
  });

  it('after the grace period, releases deliveries still in flight so they are due at once', async () => {
    const rx = await receiver(() => ({ status: 200, delayMs: 3000 }));
    const cfg = config([{ name: 'app', url: rx.url, secret }], { shutdownGraceMs: 200 });
    const { relay } = await start(cfg);
    platform.injectReport(report());
    await waitFor(() => rx.received.length === 1);
    const before = Date.now();
    await relay.stop();
    expect(Date.now() - before).toBeLessThan(2000);
    const db = new Database(cfg.store.sqlite, { readonly: true });
    const row = db
      .prepare('SELECT status, attempts, next_attempt_at, last_error FROM deliveries')
      .get() as {
      status: string;
      attempts: number;
      next_attempt_at: number;
      last_error: string;
    };
    db.close();
    expect(row).toMatchObject({
      status: 'pending',
      attempts: 0,
      last_error: 'cut off by shutdown',
    });
    expect(row.next_attempt_at).toBeLessThanOrEqual(Date.now());
  });

  it('keeps other accounts running through wrong passwords, barred accounts and an unreachable platform', async () => {
    const rx = await receiver();
    // What reaches the real relay's stderr is checked for secrets in 'the relay process
    // logs no secret' below; this one is about the other accounts carrying on.
    const logger = memoryLogger();
    const base = config([{ name: 'app', url: rx.url, secret }]);
    const { relay } = await start(
      {
        ...base,
        accounts: [
          ...base.accounts,
          {
            name: 'wrong',
            baseUrl: platform.url,
            account: 'demo',
            password: 'wrong-password-1',
            pollIntervalMs: 50,
          },
          {
            name: 'barred',
            baseUrl: platform.url,
            account: 'barred',
            password: 'barred-pass',
            pollIntervalMs: 50,
            replies: false,
          },
          {
            name: 'offline',
            baseUrl: 'http://127.0.0.1:9',
            account: 'x',
            password: 'wrong-password-1',
            pollIntervalMs: 50,
          },
        ],
      },
      logger,
    );
    await waitFor(
      () => {
        const text = logger.lines.join('');
        return (
          text.includes('AUTH_FAILED') &&
          text.includes('REPORTS_NOT_PERMITTED') &&
          text.includes('"account":"offline"')
        );
      },
      5000,
      'three kinds of poll errors',
    );
    platform.injectReport(report());
    await waitFor(() => rx.verified().length === 1);
    expect(logger.lines.join('')).toContain('用户名或密码错误');
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toMatch(
      /sms_relay_poll_errors_total\{account="wrong",code="AUTH_FAILED"\} \d+/,
    );
    expect(metrics).toMatch(/sms_relay_poll_errors_total\{account="offline",code="NETWORK"\} \d+/);
  });

  it('times out a slow receiver and retries the same webhook-id', async () => {
    let calls = 0;
    const rx = await receiver(() =>
      ++calls === 1 ? { status: 200, delayMs: 1500 } : { status: 200 },
    );
    await start(
      config([{ name: 'app', url: rx.url, secret, timeoutMs: 300 }], {
        delivery: { ...FAST, retrySchedule: [10] },
      }),
    );
    platform.injectReport(report());
    await waitFor(() => rx.received.length === 2, 5000, 'a retry after the timeout');
    expect(rx.received[1]!.at - rx.received[0]!.at).toBeGreaterThanOrEqual(290);
    expect(rx.received[1]!.id).toBe(rx.received[0]!.id);
  });

  it('prunes delivered events after the retention period, keeps dead ones', async () => {
    const rx = await receiver((r) => ({ status: r.event?.type === 'sms.reply' ? 500 : 204 }));
    const cfg = config([{ name: 'app', url: rx.url, secret }], {
      retention: '1ms',
      delivery: { ...FAST, retrySchedule: [] },
    });
    await start(cfg);
    for (let i = 0; i < 3; i++) platform.injectReport(report());
    platform.injectReply({ account: 'demo', mobile: '13800138009', content: 'x' });
    await waitFor(() => rx.received.length === 4);
    const db = new Database(cfg.store.sqlite, { readonly: true });
    const rows = () => db.prepare('SELECT type FROM events').all() as Array<{ type: string }>;
    await waitFor(() => rows().length === 1, 5000, 'pruning');
    expect(rows()).toEqual([{ type: 'sms.reply' }]);
    db.close();
  });

  it('polls the signed v2 endpoints when auth is signed: no password on the wire', async () => {
    const rx = await receiver();
    const cfg = config([{ name: 'app', url: rx.url, secret }]);
    cfg.accounts[0] = { ...cfg.accounts[0]!, auth: 'signed' } as (typeof cfg.accounts)[0];
    platform.injectReport(report());
    await start(cfg);
    await waitFor(() => rx.verified().length === 1, 5000, 'signed delivery');
    const pulls = platform.requests().filter((r) => r.path.startsWith('/v2'));
    expect(pulls.length).toBeGreaterThan(0);
    expect(pulls.every((r) => !Object.keys(r.params).includes('password'))).toBe(true);
  });

  it('quarantines the raw bytes of a response it cannot parse', async () => {
    const rx = await receiver();
    const cfg = config([{ name: 'app', url: rx.url, secret }]);
    platform.injectReport(report());
    platform.setFault({ type: 'malformed', path: '/statusApi.aspx', times: 1 });
    const { relay } = await start(cfg);
    await waitFor(async () => (await relay.status()).quarantined === 1, 5000, 'quarantine');
    const db = new Database(cfg.store.sqlite, { readonly: true });
    const row = db.prepare('SELECT account, kind, http_status, body FROM quarantine').get() as {
      account: string;
      kind: string;
      http_status: number;
      body: Buffer;
    };
    db.close();
    expect(row).toMatchObject({ account: 'main', kind: 'reports', http_status: 200 });
    expect(row.body.length).toBeGreaterThan(0);
    expect(row.body.toString('utf8')).toContain('<');
  });
});

describe('the relay process logs no secret', () => {
  const PG_PASSWORD = 'S3cret-pw';
  // Characters that percent-encode, JSON-escape and HTML-escape differently.
  const WRONG_PASSWORD = 'wr0ng pa$$/é+&="x"';
  const TOKEN = `tok_${randomBytes(12).toString('hex')}`;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  /** Each secret as it could be spelled in a JSON log line: raw, percent-encoded, escaped. */
  function spellings(value: string): string[] {
    const forms = new Set([
      value,
      encodeURIComponent(value),
      encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()),
      encodeURIComponent(value).replace(/%20/g, '+'),
      ...secretVariants(value),
    ]);
    return [...forms].flatMap((form) => [form, JSON.stringify(form).slice(1, -1)]);
  }

  it('at debug level, through a wrong password, a platform page echoing every secret, a failing receiver and a store error', {
    timeout: 60_000,
  }, async () => {
    const platform = await emulator();
    cleanups.push(() => platform.close());
    const rx = await startReceiver({ secret, respond: () => ({ status: 500 }) });
    cleanups.push(() => rx.close());
    const tmp = tempDir();
    cleanups.push(() => tmp.cleanup());
    const schema = `relay_secrets_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    cleanups.push(async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    });
    const rotated = generateWebhookSecret();
    // Trust auth takes any password: the relay connects, and the URL still carries one.
    const pgUrl = new URL(TEST_DATABASE_URL);
    pgUrl.username ||= 'postgres';
    pgUrl.password = PG_PASSWORD;
    const secrets = [PASSWORD, WRONG_PASSWORD, secret, rotated, TOKEN, PG_PASSWORD];
    // The signing keys without their whsec_ prefix are the same secrets.
    const keys = [secret, rotated].map((s) => s.slice('whsec_'.length));

    const configPath = await runCli.writeConfig(tmp.dir, {
      store: { postgres: pgUrl.toString(), schema },
      journal: { dir: join(tmp.dir, 'journal') },
      accounts: [
        {
          name: 'main',
          baseUrl: platform.url,
          userId: '12',
          account: 'demo',
          password: PASSWORD,
          pollIntervalMs: 50,
        },
        {
          name: 'wrong',
          baseUrl: platform.url,
          account: 'demo',
          password: WRONG_PASSWORD,
          pollIntervalMs: 50,
        },
      ],
      targets: [{ name: 'app', url: `${rx.url}?token=${TOKEN}`, secret: [secret, rotated] }],
      delivery: { ...FAST, retrySchedule: Array(50).fill(30) },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: 'debug' },
    });
    const relay = spawnRelay(configPath);
    cleanups.push(() => relay.kill('SIGKILL'));
    await relay.url;
    const text = () => relay.lines.join('\n');

    platform.injectReport(report());
    await waitFor(() => text().includes('AUTH_FAILED'), 10_000, 'a wrong password answer');
    await waitFor(() => rx.received.length >= 3, 10_000, 'failing deliveries');
    // An error page that repeats everything it was sent and then some: every spelling of
    // every secret, as a careless platform (or a proxy in front of it) might.
    const everything = [...secrets, ...keys].flatMap(spellings).join(' | ');
    platform.setFault({ type: 'html500', body: `<html><body>Error: ${everything}</body></html>` });
    await waitFor(() => /"poll failed".*"HTTP"/.test(text()), 10_000, 'a platform error page');
    // Excerpts are cut short; a refusal's remark is logged whole, every spelling in it.
    const xml = (t: string) =>
      t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    platform.setFault({
      type: 'malformed',
      body: `<?xml version="1.0" encoding="utf-8" ?><returnsms><errorstatus><error>99</error><remark>ECHO ${xml(everything)}</remark></errorstatus></returnsms>`,
    });
    await waitFor(() => text().includes('"platformMessage":"ECHO '), 10_000, 'an echoing refusal');
    platform.setFault({ type: 'malformed', body: `<returnsms>${everything}` });
    await waitFor(() => text().includes('quarantined'), 10_000, 'a quarantined answer');
    platform.setFault(null);
    // The store goes away under the running relay.
    // The relay's own transactions hold locks on these tables: PostgreSQL may pick the DROP
    // as a deadlock victim (40P01); try again until the schema is gone.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== '40P01' || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    platform.injectReport(report());
    await waitFor(
      () =>
        text().includes('could not store a pulled answer') &&
        text().includes('claiming deliveries failed'),
      15_000,
      'store errors',
    );
    await relay.kill('SIGTERM');

    const out = text();
    for (const value of [...secrets, ...keys]) {
      for (const spelled of spellings(value))
        expect(out, `${value} as ${spelled}`).not.toContain(spelled);
    }
    expect(out).toContain('[redacted]');
    for (const line of relay.lines) expect(() => JSON.parse(line)).not.toThrow();
  });
});
