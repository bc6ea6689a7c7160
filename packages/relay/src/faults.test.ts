import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
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
    expect(readdirSync(journalDir)).toEqual([]);
    const lines = logger.lines.join('\n');
    expect(lines).toContain('could not store a pulled answer');
    expect(relay.metrics.render({ queueDepth: 0, dead: 0, polling: {} })).toMatch(
      /sms_relay_store_errors_total\{op="commit"\} [1-9]/,
    );
  });
});
