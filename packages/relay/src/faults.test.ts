import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Emulator } from '@sms/emulator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Relay, createRelay } from './relay.js';
import { type Receiver, startReceiver, waitFor } from './test-utils/receiver.js';
import {
  PASSWORD,
  TEST_DATABASE_URL,
  emulator,
  memoryLogger,
  secret,
  tempDir,
} from './test-utils/setup.js';

describe('store faults while a pulled batch is being stored', () => {
  const schema = `relay_faults_${randomBytes(6).toString('hex')}`;
  let platform: Emulator;
  let rx: Receiver;
  let tmp: ReturnType<typeof tempDir>;
  let relay: Relay | undefined;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    platform = await emulator();
    rx = await startReceiver({ secret });
    tmp = tempDir();
    admin.on('error', () => {});
    await admin.connect();
    process.on('uncaughtException', onUncaught);
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await relay?.stop();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    await rx.close();
    await platform.close();
    tmp.cleanup();
  });

  it('PostgreSQL backend terminated mid-insert: the relay survives and the records arrive once', {
    timeout: 60_000,
  }, async () => {
    const app = `${schema}_relay`;
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('application_name', app);
    const journalDir = join(tmp.dir, 'journal');
    const logger = memoryLogger();
    relay = createRelay(
      {
        store: { postgres: url.toString(), schema },
        journal: { dir: journalDir },
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
        targets: [{ name: 'app', url: rx.url, secret }],
        delivery: { retrySchedule: [50, 100], jitter: 0, idleMs: 20, timeoutMs: 2000 },
      },
      { logger },
    );
    await relay.start();

    // Hold the events table so the relay's insert of the next batch blocks where we can see it.
    const blocker = new pg.Client({ connectionString: TEST_DATABASE_URL });
    blocker.on('error', () => {});
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE "${schema}".events IN ACCESS EXCLUSIVE MODE`);
    for (let i = 0; i < 10; i++) {
      platform.injectReply({ account: 'demo', mobile: '13800138000', content: `故障 ${i}` });
    }
    let pid = 0;
    await waitFor(
      async () => {
        const { rows } = await admin.query(
          `SELECT pid FROM pg_stat_activity
           WHERE application_name = $1 AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO%events%'`,
          [app],
        );
        pid = rows[0]?.pid ?? 0;
        return pid !== 0;
      },
      10_000,
      'the relay inserting, blocked',
    );
    // Pulled, journaled, not committed: the journal holds the answer.
    expect(readdirSync(journalDir).length).toBeGreaterThan(0);
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await blocker.query('ROLLBACK');
    await blocker.end();

    await waitFor(() => rx.verified().length >= 10, 20_000, '10 replies after the fault');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const contents = rx.verified().map((r) => String(r.event!.data['content']));
    expect(new Set(contents).size).toBe(10);
    expect(new Set(rx.received.map((r) => r.id)).size).toBe(10);
    expect(uncaught).toEqual([]);
    const lines = logger.lines.join('\n');
    expect(lines).toContain('could not store a pulled answer');
    expect(await relay.metrics.render()).toMatch(
      /sms_relay_store_errors_total\{op="commit"\} [1-9]/,
    );
    // Polling goes on every 50 ms, so a running relay may hold the entry of an (empty) pull in
    // flight at any instant; once stopped (which waits for that pull) nothing may be left.
    await relay.stop();
    expect(readdirSync(journalDir)).toEqual([]);
  });
});

describe('hostile platform answers', () => {
  let tmp: ReturnType<typeof tempDir>;
  let rx: Receiver;
  let server: Server | undefined;
  beforeAll(async () => {
    tmp = tempDir();
    rx = await startReceiver({ secret });
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    await rx.close();
    tmp.cleanup();
  });

  /** A platform whose pull endpoints answer as `answer` says. */
  async function platform(answer: (path: string, res: import('node:http').ServerResponse) => void) {
    server?.closeAllConnections();
    server?.close();
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => answer(req.url ?? '/', res));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function relayFor(baseUrl: string, db: string, timeoutMs = 1000) {
    return createRelay(
      {
        store: { sqlite: db },
        accounts: [
          {
            name: 'main',
            baseUrl,
            userId: '12',
            account: 'demo',
            password: PASSWORD,
            pollIntervalMs: 100,
            timeoutMs,
          },
        ],
        targets: [{ name: 'app', url: rx.url, secret }],
        http: { port: 0, host: '127.0.0.1' },
      },
      { logger: memoryLogger() },
    );
  }

  it('a platform trickling a byte every 200 ms: the pull ends at its deadline, SIGTERM does not hang, the bytes are kept', {
    timeout: 20_000,
  }, async () => {
    const box =
      '<statusbox><mobile>13800138000</mobile><taskid>1</taskid><status>10</status><receivetime>2026-11-30 10:00:00</receivetime><errorcode>DELIVRD</errorcode><extno></extno></statusbox>';
    const timers: NodeJS.Timeout[] = [];
    const url = await platform((path, res) => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      if (!/statusapi/i.test(path)) return void res.end('<returnsms></returnsms>');
      res.write(`<returnsms>${box}`);
      timers.push(setInterval(() => res.write(' '), 200));
      res.on('close', () => timers.forEach(clearInterval));
    });
    const db = join(tmp.dir, 'trickle.db');
    const relay = relayFor(url, db, 1000);
    await relay.start();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const started = performance.now();
    await relay.stop();
    const stopMs = performance.now() - started;
    timers.forEach(clearInterval);
    // Without an overall deadline the pull would never end (each byte resets a per-chunk timer).
    expect(stopMs).toBeLessThan(2500);
    const raw = new Database(db, { readonly: true });
    const events = raw.prepare('SELECT body FROM events').all() as Array<{ body: string }>;
    const quarantined = raw.prepare('SELECT error FROM quarantine').all() as Array<{
      error: string;
    }>;
    raw.close();
    // The complete record that arrived before the deadline is stored; the rest is quarantined.
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(events[0]!.body).data.mobile).toBe('13800138000');
    expect(quarantined.length).toBeGreaterThanOrEqual(1);
    expect(quarantined[0]!.error).toContain('1 record(s) kept');
  });

  it('a 1 MB answer built to make a regex backtrack: polling, deliveries and /healthz go on', {
    timeout: 20_000,
  }, async () => {
    let pulls = 0;
    const hostile = `<returnsms><statusbox${' '.repeat(1 << 20)}`;
    const url = await platform((_path, res) => {
      pulls++;
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      res.end(hostile);
    });
    const relay = relayFor(url, join(tmp.dir, 'hostile.db'), 5000);
    await relay.start();
    try {
      await waitFor(() => pulls >= 6, 10_000, 'six hostile pulls');
      const started = performance.now();
      const health = await fetch(`${relay.url}/healthz`);
      expect(health.status).toBe(200);
      expect(performance.now() - started).toBeLessThan(500);
      expect((await relay.status()).quarantined).toBeGreaterThanOrEqual(3);
    } finally {
      await relay.stop();
    }
  });
});
