import { join } from 'node:path';
import { secretVariants } from '@sms/core';
import type { Emulator } from '@sms/emulator';
import { pino } from 'pino';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RelayConfigError } from './shared/config-error.js';
import { jsonLogger } from './shared/logger.js';
import { type CreateRelayOptions, type Relay, createRelay } from './relay.js';
import { type Receiver, startReceiver, waitFor } from './test-utils/receiver.js';
import { PASSWORD, emulator, report, secret, tempDir } from './test-utils/setup.js';

const FAST = { retrySchedule: [50, 100, 200], jitter: 0, idleMs: 20, timeoutMs: 2000 };
const TOKEN = 'tok-0123456789abcdef';

/** A pino logger as an app would make one, writing to a stream the test reads. */
function appLogger() {
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug', base: { app: 'shop' } },
    { write: (line: string) => void lines.push(line) },
  );
  return { logger, lines, text: () => lines.join('') };
}

/** Each secret as a server could echo it: typed, percent-encoded, escaped. */
function spellings(value: string): string[] {
  const forms = new Set([value, encodeURIComponent(value), ...secretVariants(value)]);
  return [...forms].flatMap((form) => [form, JSON.stringify(form).slice(1, -1)]);
}

describe('the relay in an app: its prom-client registry and its pino logger', () => {
  let platform: Emulator;
  let tmp: ReturnType<typeof tempDir>;
  let rx: Receiver;
  const relays: Relay[] = [];
  let n = 0;

  beforeAll(async () => {
    platform = await emulator();
    tmp = tempDir();
    rx = await startReceiver({ secret });
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    platform.setFault(null);
    platform.reset();
  });
  afterAll(async () => {
    await rx.close();
    await platform.close();
    tmp.cleanup();
  });

  function config() {
    return {
      store: { sqlite: join(tmp.dir, `relay-${++n}.db`) },
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
      targets: [{ name: 'app', url: `${rx.url}?token=${TOKEN}`, secret }],
      delivery: FAST,
      http: { port: 0, host: '127.0.0.1' },
    };
  }
  async function start(options: CreateRelayOptions) {
    const relay = createRelay(config(), options);
    relays.push(relay);
    await relay.start();
    return relay;
  }

  it("joins the app's registry, serves it with the default metrics, and logs to the app's pino logger with every secret masked", async () => {
    const registry = new Registry();
    const appRequests = new Counter({
      name: 'shop_requests_total',
      help: 'The app’s own metric.',
      registers: [registry],
    });
    appRequests.inc(7);
    const log = appLogger();
    const relay = await start({ registry, logger: log.logger });

    const sent = report();
    platform.injectReport(sent);
    await waitFor(() => rx.verified().some((r) => r.event?.data['mobile'] === sent.mobile));
    await waitFor(async () => (await relay.status()).pending === 0, 5000, 'an empty queue');

    // The app's registry holds the relay's metrics, read through prom-client's own API.
    const fetched = await registry.getSingleMetric('sms_relay_events_fetched_total')!.get();
    expect(fetched.values).toContainEqual({
      labels: { account: 'main', type: 'sms.report' },
      value: 1,
    });
    // The GC histogram has buckets once a collection was observed: a quick run may not have
    // had one yet, so make some garbage (young-generation collections) and let it be reported.
    for (let i = 0; i < 64; i++) new Array(1 << 16).fill(i);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const exposition = await (await fetch(`${relay.url}/metrics`)).text();
    expect(exposition).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(exposition).toMatch(/^nodejs_eventloop_lag_seconds [\d.e-]+/m);
    expect(exposition).toMatch(/^nodejs_gc_duration_seconds_bucket/m);
    expect(exposition).toMatch(/^nodejs_active_handles_total \d+/m);
    expect(exposition).toContain('shop_requests_total 7');
    expect(exposition).toContain('sms_relay_deliveries_delivered_total{target="app"} 1');
    expect(exposition).toContain('sms_relay_queue_depth 0');
    expect(exposition).toContain('sms_relay_polling{account="main"} 1');
    expect(exposition).toContain('sms_relay_delivery_latency_seconds_count 1');
    // Each default metric once, though the relay added them.
    expect(exposition.match(/^# TYPE process_resident_memory_bytes /gm)).toHaveLength(1);

    // A platform refusal whose remark echoes every secret in every spelling (logged whole,
    // as the error's platformMessage), XML-escaped as the platform would write it.
    const keys = [secret, secret.slice('whsec_'.length)];
    const secrets = [PASSWORD, TOKEN, ...keys];
    const everything = secrets.flatMap(spellings).join(' | ');
    const xml = (t: string) =>
      t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
    platform.setFault({
      type: 'malformed',
      body: `<?xml version="1.0" encoding="utf-8" ?><returnsms><errorstatus><error>99</error><remark>ECHO ${xml(everything)}</remark></errorstatus></returnsms>`,
    });
    await waitFor(
      () => log.lines.some((l) => l.includes('"msg":"poll failed"') && l.includes('ECHO ')),
      10_000,
      'an echoing refusal',
    );

    const lines = log.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    // The app's logger: its level numbers, its base fields, a child for the relay.
    expect(lines.find((l) => l['msg'] === 'relay started')).toMatchObject({
      level: 30,
      app: 'shop',
      component: 'sms-relay',
      http: relay.url,
      accounts: ['main'],
    });
    const failed = lines.find(
      (l) => l['msg'] === 'poll failed' && JSON.stringify(l).includes('ECHO '),
    )!;
    expect(failed).toMatchObject({ level: 40, component: 'sms-relay', account: 'main' });
    const echoed = String((failed['error'] as { platformMessage: string }).platformMessage);
    expect(echoed).toContain('[redacted]');
    expect(echoed).toContain('***');
    for (const value of secrets) {
      for (const spelled of spellings(value)) {
        expect(log.text(), `${value} as ${spelled}`).not.toContain(spelled);
      }
    }
  });

  it('adds no default metrics to a registry that has them (any prefix), and frees its names on stop', async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'shop_' });
    const first = await start({ registry, logger: appLogger().logger });
    const exposition = await first.metrics.render();
    expect(exposition).toMatch(/^shop_process_resident_memory_bytes \d+/m);
    expect(exposition).not.toMatch(/^process_resident_memory_bytes/m);
    expect(exposition).toContain('# TYPE sms_relay_queue_depth gauge');

    // One relay per registry at a time.
    expect(() => createRelay(config(), { registry })).toThrow(
      /registry already has sms_relay_events_fetched_total/,
    );
    await first.stop();
    expect(registry.getSingleMetric('sms_relay_events_fetched_total')).toBeUndefined();
    expect(registry.getSingleMetric('shop_process_resident_memory_bytes')).toBeDefined();
    const second = await start({ registry, logger: appLogger().logger });
    expect(await second.metrics.render()).toContain(
      '# TYPE sms_relay_events_fetched_total counter',
    );
  });

  it('without a registry: a registry of its own per relay, each with the default metrics', async () => {
    const [a, b] = await Promise.all([
      start({ logger: appLogger().logger }),
      start({ logger: appLogger().logger }),
    ]);
    for (const relay of [a!, b!]) {
      const text = await (await fetch(`${relay.url}/metrics`)).text();
      expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
      expect(text).toContain('sms_relay_polling{account="main"}');
    }
    expect(a!.metrics.registry).not.toBe(b!.metrics.registry);
  });
});

describe('jsonLogger on pino', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('writes the JSON lines the CLI always wrote: level name, ISO time, msg, fields', () => {
    const lines: string[] = [];
    const logger = jsonLogger({ level: 'debug', write: (l) => lines.push(l) });
    logger.debug('relay started', { http: 'http://127.0.0.1:9464', accounts: ['main'] });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toEqual({
      level: 'debug',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      msg: 'relay started',
      http: 'http://127.0.0.1:9464',
      accounts: ['main'],
    });
    expect(lines[0]).toContain('"msg":"relay started"');
  });

  it("censors known secret fields by path (pino's redact), whatever their value", () => {
    const lines: string[] = [];
    const logger = jsonLogger({ write: (l) => lines.push(l) });
    logger.info('target', {
      password: 'not-in-the-list',
      target: { secret: 'neither', headers: { authorization: 'Bearer xyz' } },
    });
    expect(JSON.parse(lines[0]!)).toMatchObject({
      password: '[redacted]',
      target: { secret: '[redacted]', headers: { authorization: '[redacted]' } },
    });
  });

  it('masks listed secrets in the message, nested fields and errors, in every spelling', () => {
    const lines: string[] = [];
    const pass = 'p@ss wörd"1';
    const logger = jsonLogger({ redact: [pass], write: (l) => lines.push(l) });
    const cause = new Error(`login ${encodeURIComponent(pass)} refused`);
    logger.error(`as typed: ${pass}`, { deep: { list: [{ excerpt: `&quot;${pass}` }] }, cause });
    const text = lines.join('');
    for (const spelled of spellings(pass)) expect(text).not.toContain(spelled);
    const line = JSON.parse(lines[0]!);
    expect(line.msg).toBe('as typed: [redacted]');
    expect(line.cause).toMatchObject({ name: 'Error', message: 'login *** refused' });
  });

  it('a short password is masked as a whole value, never inside numbers or words', () => {
    for (const pass of ['17', 'p', 'secret', '123456']) {
      const lines: string[] = [];
      const logger = jsonLogger({ redact: [pass], write: (l) => lines.push(l) });
      logger.warn('sms.report at 1796533045033', {
        now: 1796533045033,
        type: 'sms.report',
        account: { pass },
        excerpt: `password=${pass}&at=1796533045033`,
      });
      const line = JSON.parse(lines[0]!);
      expect(line.msg, pass).toBe('sms.report at 1796533045033');
      expect(line).toMatchObject({ now: 1796533045033, type: 'sms.report' });
      expect(line.account.pass).toBe('[redacted]');
      expect(line.excerpt).toBe(
        pass.length >= 6
          ? 'password=[redacted]&at=1796533045033'
          : `password=${pass}&at=1796533045033`,
      );
    }
  });

  it('LOG_LEVEL overrides the level of the stderr logger; an unknown level is a config error', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.stubEnv('LOG_LEVEL', 'debug');
    jsonLogger({ level: 'warn' }).debug('shown at debug');
    expect(stderr.mock.calls.map(([chunk]) => String(chunk)).join('')).toContain(
      '"msg":"shown at debug"',
    );
    // A logger writing elsewhere keeps its own level.
    const lines: string[] = [];
    jsonLogger({ level: 'warn', write: (l) => lines.push(l) }).debug('hidden');
    expect(lines).toEqual([]);
    vi.stubEnv('LOG_LEVEL', 'verbose');
    expect(() => jsonLogger()).toThrow(RelayConfigError);
  });

  it('pretty lines through pino-pretty when asked (a terminal), with secrets still masked', () => {
    const lines: string[] = [];
    const logger = jsonLogger({ pretty: true, redact: [PASSWORD], write: (l) => lines.push(l) });
    logger.warn('poll failed', { account: 'main', excerpt: `password=${PASSWORD}` });
    expect(lines).toHaveLength(1);
    expect(() => JSON.parse(lines[0]!)).toThrow();
    expect(lines[0]).toContain('poll failed');
    expect(lines[0]).toContain('[redacted]');
    expect(lines[0]).not.toContain(PASSWORD);
  });
});
