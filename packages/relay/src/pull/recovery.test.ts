import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Emulator } from '@sms/emulator';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventsOf, settlementOfEntry } from './answer.js';
import { eventIdFor, newJournalEntryId } from '../shared/ids.js';
import { PullWorker } from './pull-worker.js';
import { Journal, type PullKind, readEntry } from './journal.js';
import { type Relay, createRelay } from '../relay.js';
import { sqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { type Receiver, startReceiver, waitFor } from '../test-utils/receiver.js';
import { PASSWORD, emulator, memoryLogger, secret, tempDir } from '../test-utils/setup.js';

const FAST = { retrySchedule: [50, 100, 200], jitter: 0, idleMs: 20, timeoutMs: 2000 };

const statusbox = (i: number) =>
  `<statusbox><mobile>1390000${String(i).padStart(4, '0')}</mobile><taskid>${8_000_000_000_000_000n + BigInt(i)}</taskid><status>10</status><receivetime>2026-11-30 10:00:00</receivetime><errorcode>DELIVRD</errorcode><extno>01</extno></statusbox>`;
const callbox = (i: number) =>
  `<callbox><mobile>13800138000</mobile><taskid></taskid><content>回复 ${i}</content><receivetime>2026-11-30 10:00:00</receivetime><extno></extno></callbox>`;
const xml = (boxes: string) =>
  `<?xml version="1.0" encoding="utf-8"?><returnsms>${boxes}</returnsms>`;
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('journal recovery at start', () => {
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
    rx.received.length = 0;
  });
  afterAll(async () => {
    await rx.close();
    await platform.close();
    tmp.cleanup();
  });

  /** A fresh SQLite file and journal folder, and a way to write entries as a crashed relay left them. */
  function setup() {
    const db = join(tmp.dir, `recovery-${++n}.db`);
    const dir = `${db}.pull-journal`;
    const journal = new Journal({ dir });
    journal.open();
    /** An entry as a killed relay leaves it: written by the real pull thread, never settled. */
    const write = async (kind: PullKind, body: string | Buffer, status = 200) => {
      const server = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(status, { 'content-type': 'text/xml; charset=utf-8' });
          res.end(body);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const puller = new PullWorker(dir);
      try {
        const entryId = newJournalEntryId();
        const outcome = await puller.pull({
          account: 'main',
          client: {
            baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            account: 'demo',
            password: PASSWORD,
          },
          kind,
          entryId,
          dir,
          fsync: true,
        });
        expect(outcome.durable).toBe(true);
        return entryId;
      } finally {
        await puller.close();
        server.close();
      }
    };
    const config = {
      store: { sqlite: db },
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
      delivery: FAST,
    };
    const rows = () => {
      const raw = new Database(db, { readonly: true });
      try {
        return {
          events: raw.prepare('SELECT id FROM events ORDER BY id').all() as Array<{ id: string }>,
          quarantine: raw.prepare('SELECT body, error FROM quarantine').all() as Array<{
            body: Buffer;
            error: string;
          }>,
        };
      } finally {
        raw.close();
      }
    };
    return { db, dir, journal, write, config, rows };
  }

  async function start(config: unknown, store?: Store) {
    const logger = memoryLogger();
    const relay = createRelay(config, { logger, ...(store ? { store } : {}) });
    relays.push(relay);
    await relay.start();
    return { relay, logger };
  }

  it('an uncommitted answer: every record arrives, under ids derived from the entry', async () => {
    const { write, config, dir, rows } = setup();
    const entry = await write('replies', xml(range(3).map(callbox).join('')));
    await start(config);
    await waitFor(() => rx.verified().length >= 3, 10_000, '3 recovered replies');
    expect(
      rx
        .verified()
        .map((r) => r.event!.data['content'])
        .sort(),
    ).toEqual(['回复 0', '回复 1', '回复 2']);
    expect(rx.received.map((r) => r.id).sort()).toEqual(
      range(3)
        .map((i) => eventIdFor(entry, i))
        .sort(),
    );
    expect(rows().events).toHaveLength(3);
    await waitFor(() => readdirSync(dir).length === 0, 5000, 'the entry removed');
  });

  it('an answer that was committed before the crash: nothing is stored or sent twice', async () => {
    const { write, config, db, dir, rows } = setup();
    const id = await write('reports', xml(range(4).map(statusbox).join('')));
    // The crash came after the commit, before the entry was removed: commit it as the relay did.
    const store = await sqliteStore({ path: db });
    await store.init();
    const entry = readEntry(join(dir, `${id}.jrn`), id);
    const events = eventsOf(settlementOfEntry(entry, 'utf-8'));
    await store.insertBatch({ account: 'main', events, targets: ['app'], now: Date.now() });
    await store.close();

    await start(config);
    await waitFor(() => rx.verified().length >= 4, 10_000, '4 reports');
    await waitFor(() => readdirSync(dir).length === 0, 5000, 'the entry removed');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(rows().events.map((e) => e.id)).toEqual(events.map((e) => e.id).sort());
    expect(rx.received).toHaveLength(4);
    expect(new Set(rx.received.map((r) => r.id))).toEqual(new Set(events.map((e) => e.id)));
  });

  it('a truncated answer: its complete records arrive at once, the bytes are quarantined', async () => {
    const { write, config, dir, rows } = setup();
    const whole = xml(range(3).map(statusbox).join(''));
    const cut = whole.slice(0, whole.lastIndexOf('<statusbox>') + 30);
    await write('reports', cut);
    const { logger } = await start(config);
    await waitFor(() => rx.verified().length >= 2, 10_000, '2 complete reports');
    await waitFor(() => readdirSync(dir).length === 0, 5000, 'the entry removed');
    expect(
      rx
        .verified()
        .map((r) => r.event!.data['mobile'])
        .sort(),
    ).toEqual(['13900000000', '13900000001']);
    const { quarantine } = rows();
    expect(quarantine).toHaveLength(1);
    expect(quarantine[0]!.body.toString()).toBe(cut);
    expect(quarantine[0]!.error).toMatch(/never closed.*2 record\(s\) kept/);
    expect(logger.lines.join('\n')).toContain('recovering a pull answer from the journal');
  });

  it('records beside an error element are delivered and the answer quarantined', async () => {
    const { write, config, rows } = setup();
    await write(
      'reports',
      xml(`${statusbox(7)}<errorstatus><error>4</error><remark>参数错误</remark></errorstatus>`),
    );
    await start(config);
    await waitFor(() => rx.verified().length >= 1, 10_000, 'the report');
    expect(rx.verified()[0]!.event!.data['mobile']).toBe('13900000007');
    await waitFor(() => rows().quarantine.length === 1, 5000, 'quarantined');
  });

  it('garbage: quarantined whole; a half-written header is left for an operator; an empty file goes', async () => {
    const { write, config, dir, rows } = setup();
    const garbage = Buffer.from(range(512).map((i) => (i * 7919) % 256));
    await write('replies', garbage);
    writeFileSync(join(dir, 'jrn_00000000000000000000000001.jrn'), '{"v":1,"acc');
    writeFileSync(join(dir, 'jrn_00000000000000000000000002.jrn'), '');
    const { logger } = await start(config);
    await waitFor(() => rows().quarantine.length === 1, 5000, 'garbage quarantined');
    expect(rows().quarantine[0]!.body.equals(garbage)).toBe(true);
    expect(rows().events).toHaveLength(0);
    await waitFor(() => readdirSync(dir).length === 1, 5000, 'only the unreadable entry left');
    expect(existsSync(join(dir, 'jrn_00000000000000000000000001.jrn'))).toBe(true);
    expect(logger.lines.join('\n')).toContain('journal entry unreadable');
  });

  it('a quarantine write that fails is retried from the journal until it succeeds', async () => {
    const { write, config, db, dir, rows } = setup();
    const cut = xml(statusbox(1)).slice(0, -40);
    await write('reports', cut);
    const real = await sqliteStore({ path: db });
    let failures = 0;
    const flaky: Store = {
      ...real,
      async quarantine(entry) {
        if (failures < 3) {
          failures++;
          throw new Error('SQLITE_FULL: database or disk is full');
        }
        return real.quarantine(entry);
      },
    };
    const { logger, relay } = await start(config, flaky);
    await waitFor(() => rows().quarantine.length === 1, 15_000, 'quarantined after retries');
    expect(failures).toBe(3);
    expect(rows().quarantine[0]!.body.toString()).toBe(cut);
    await waitFor(() => readdirSync(dir).length === 0, 5000, 'the entry removed');
    expect(logger.lines.join('\n')).toContain('it stays in the journal and is retried');
    const metrics = await relay.metrics.render();
    expect(metrics).toContain('sms_relay_store_errors_total{op="commit"} 3');
  });
});
