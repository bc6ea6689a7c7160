import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '@sms/emulator';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { type RelayChild, spawnRelay } from './test-utils/child.js';
import { type KillProxy, type Shot, recordKeys, startKillProxy } from './test-utils/kill-proxy.js';
import { type Receiver, startReceiver, waitFor } from './test-utils/receiver.js';
import { delaySyscalls } from './test-utils/strace.js';
import { type AtKill, CPU_BUDGET_MS, atKill, inWindow, pullThreadOf } from './test-utils/window.js';
import {
  PASSWORD,
  TEST_DATABASE_URL,
  emulator,
  secret,
  storeForTest,
  tempDir,
} from './test-utils/setup.js';

// The platform hands each report and reply out once: a relay killed after the answer reached
// it and before the records were durable loses them for good. These tests aim SIGKILL at
// exactly that moment (a proxy kills the relay D ms after it wrote the answer), then at
// random moments while records flow, and count what was handed out against what arrived.

type StoreKind = 'sqlite' | 'postgres';
type RecordKind = 'report' | 'reply';
const STORES: readonly StoreKind[] = ['sqlite', 'postgres'];
/** Milliseconds between the end of the answer's write and the SIGKILL. */
const DELAYS = [0, 1, 2, 3, 5, 8, 10, 15, 20];
const BATCH = 10;
/** Reports per pull (`statusNum`). */
const STATUS_NUM = 300;
/** Pulls a relay has answered before it counts as warm. */
const WARM_PULLS = 6;
/** How long a restarted relay gets to deliver what its predecessor was handed. */
const SETTLE_MS = 2500;
/**
 * A kill later than D + this is off target (the test process was not scheduled in time): its
 * losses still count, and the strike is repeated, so every D gets a kill on time.
 */
const LATE_MS = 1;
const MAX_ATTEMPTS = 10;
const RANDOM_KILLS = 12;
const REPORTS = 1000;
const REPLIES = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Resolves when `check` holds or `ms` passed; never throws (the caller counts what arrived). */
async function settle(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await sleep(10);
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function keyOf(event: { type: string; data: Record<string, unknown> }): string {
  return event.type === 'sms.report'
    ? `report:${String(event.data['mobile'])}:${String(event.data['taskId'])}`
    : `reply:${String(event.data['content'])}`;
}

/** The records (keys) whose deliveries carried more than one webhook id, with those ids. */
function twoIds(byKey: Map<string, Set<string> | string[]>) {
  return [...byKey]
    .filter(([, ids]) => new Set(ids).size > 1)
    .map(([key, ids]) => ({ key, ids: [...ids] }));
}

/** Verified webhook ids per record key, as the receiver saw them. */
function arrivals(rx: Receiver): Map<string, Set<string>> {
  const byKey = new Map<string, Set<string>>();
  for (const r of rx.verified()) {
    const key = keyOf(r.event!);
    const ids = byKey.get(key) ?? new Set<string>();
    ids.add(r.id);
    byKey.set(key, ids);
  }
  return byKey;
}

function table(rows: Array<Record<string, string | number>>): string {
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i]!)).join('  ');
  return [line(columns), ...rows.map((r) => line(columns.map((c) => String(r[c]))))].join('\n');
}

interface StoreRows {
  /** Stored event ids per record key. */
  events: Map<string, string[]>;
  /** The `error` of each quarantined answer. */
  quarantine: string[];
}

interface Rig {
  platform: Emulator;
  proxy: KillProxy;
  rx: Receiver;
  /** The relay's pull journal (the same folder every time). */
  journalDir: string;
  /**
   * Starts a relay process on the rig's config and store (the same files every time); `wrap`
   * runs it under another command (strace).
   */
  start(wrap?: readonly string[]): RelayChild;
  /** What the store holds (read while no relay runs). */
  rows(): Promise<StoreRows>;
  /** Injects `n` new records of a kind into the platform; returns their keys. */
  inject(kind: RecordKind, n: number): string[];
  pending(): number;
  /** The relay started at `epoch` (the proxy's kill count then), if the rig started one. */
  relayOf(epoch: number): RelayChild | undefined;
}

let serial = 0;

async function rig(store: StoreKind): Promise<Rig> {
  const platform = await emulator();
  cleanups.push(() => platform.close());
  const tmp = tempDir();
  cleanups.push(() => tmp.cleanup());
  const journalDir = join(tmp.dir, 'journal');
  const proxy = await startKillProxy(platform.url, { journalDir });
  cleanups.push(() => proxy.close());
  const rx = await startReceiver({ secret });
  cleanups.push(() => rx.close());
  const { config: storeConfig, schema, drop } = storeForTest(store, tmp.dir, 'relay_crash');
  cleanups.push(drop);
  const configPath = join(tmp.dir, 'relay.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      store: storeConfig,
      journal: { dir: journalDir },
      accounts: [
        {
          name: 'main',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${ENV} syntax
          baseUrl: '${PLATFORM_URL}',
          userId: '12',
          account: 'demo',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${ENV} syntax
          password: '${SMS_PASSWORD}',
          pollIntervalMs: 50,
          statusNum: STATUS_NUM,
          timeoutMs: 2000,
        },
      ],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${ENV} syntax
      targets: [{ name: 'app', url: rx.url, secret: '${WEBHOOK_SECRET}' }],
      delivery: {
        timeoutMs: 1000,
        leaseMs: 1500,
        idleMs: 20,
        retrySchedule: [100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000, 1000],
      },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: 'info' },
    }),
  );
  const env = { SMS_PASSWORD: PASSWORD, WEBHOOK_SECRET: secret };
  const children: RelayChild[] = [];
  const byEpoch = new Map<number, RelayChild>();
  cleanups.push(() => Promise.all(children.map((child) => child.kill('SIGKILL'))));

  return {
    platform,
    proxy,
    rx,
    journalDir,
    start(wrap = []) {
      // The same file every time; the proxy's address tells it which relay is asking.
      const child = spawnRelay(configPath, { ...env, PLATFORM_URL: proxy.relayUrl() }, { wrap });
      children.push(child);
      if (wrap.length === 0 && child.proc.pid !== undefined)
        proxy.track(child.proc.pid, () => pullThreadOf(child));
      byEpoch.set(proxy.kills, child);
      return child;
    },
    async rows() {
      let events: Array<{ id: string; body: string }>;
      let quarantine: Array<{ error: string }>;
      if (store === 'sqlite') {
        const db = new Database((storeConfig as { sqlite: string }).sqlite, { readonly: true });
        try {
          events = db.prepare('SELECT id, body FROM events').all() as typeof events;
          quarantine = db.prepare('SELECT error FROM quarantine').all() as typeof quarantine;
        } finally {
          db.close();
        }
      } else {
        const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await db.connect();
        try {
          events = (await db.query(`SELECT id, body FROM "${schema}".events`)).rows;
          quarantine = (await db.query(`SELECT error FROM "${schema}".quarantine`)).rows;
        } finally {
          await db.end();
        }
      }
      const byKey = new Map<string, string[]>();
      for (const { id, body } of events) {
        const key = keyOf(JSON.parse(body));
        byKey.set(key, [...(byKey.get(key) ?? []), id]);
      }
      return { events: byKey, quarantine: quarantine.map((q) => q.error) };
    },
    inject(kind, n) {
      const keys: string[] = [];
      for (let i = 0; i < n; i++) {
        serial++;
        if (kind === 'report') {
          const mobile = `139${String(serial).padStart(8, '0')}`;
          const taskId = String(7_000_000_000_000_000n + BigInt(serial));
          platform.injectReport({ account: 'demo', mobile, taskId, status: serial % 7 ? 10 : 20 });
          keys.push(`report:${mobile}:${taskId}`);
        } else {
          const content = `回复 ${serial}`;
          platform.injectReply({ account: 'demo', mobile: '13800138000', content });
          keys.push(`reply:${content}`);
        }
      }
      return keys;
    },
    pending: () => platform.pendingReports('demo').length + platform.pendingReplies('demo').length,
    relayOf: (epoch) => byEpoch.get(epoch),
  };
}

interface WindowRow extends AtKill {
  store: StoreKind;
  relay: 'cold' | 'warm';
  kind: RecordKind;
  D: number;
  'killed at (ms)': string;
  'handed out': number;
  arrived: number;
  lost: number;
}

/**
 * Injects a batch, arms the proxy to SIGKILL `relay` D ms after the answer holding it was
 * written, restarts the relay on the same store and counts what arrives. The kill depends
 * only on the answer and D, never on what the relay has done by then.
 */
async function strike(
  r: Rig,
  relay: RelayChild,
  row: Pick<WindowRow, 'store' | 'relay' | 'kind' | 'D'>,
): Promise<{ next: RelayChild; row: WindowRow; onTime: boolean }> {
  const before = r.proxy.handedOut;
  const fired = r.proxy.arm(row.D, relay.proc);
  const keys = r.inject(row.kind, BATCH);
  const killsBefore = r.proxy.kills;
  const died = relay.exited.then((code) => {
    // The armed kill counts itself before it signals: an exit after that is the kill's own.
    if (r.proxy.kills > killsBefore) return fired;
    throw new Error(`relay exited (${code}) before the armed kill:\n${relay.lines.join('\n')}`);
  });
  const shot: Shot = await within(
    Promise.race([fired, died]),
    15_000,
    `the armed kill (${JSON.stringify(row)})`,
  );
  died.catch(() => {});
  await relay.exited;
  expect(relay.proc.signalCode).toBe('SIGKILL');
  const next = r.start();
  await next.url;
  const arrivedCount = () => {
    const got = arrivals(r.rx);
    return keys.filter((key) => got.has(key)).length;
  };
  await settle(() => arrivedCount() === keys.length, SETTLE_MS);
  const handedOut = r.proxy.handedOut - before;
  const arrived = arrivedCount();
  if (arrived < handedOut) {
    console.log(
      `${JSON.stringify(row)}: ${handedOut - arrived} lost; the relay's threads at the kill ` +
        `(tid state syscall wchan):\n  ${(shot.answer.threadsAtKill ?? []).join('\n  ')}`,
    );
  }
  const onTime = shot.firedAfterMs <= row.D + LATE_MS;
  return {
    next,
    onTime,
    row: {
      ...row,
      'killed at (ms)': `${shot.firedAfterMs.toFixed(2)}${onTime ? '' : ' (late)'}`,
      ...atKill(shot.answer, relay),
      'handed out': handedOut,
      arrived,
      lost: handedOut - arrived,
    },
  };
}

for (const [storeIndex, store] of STORES.entries()) {
  it(`${store}: SIGKILL 0–20 ms after the platform answered a pull loses nothing (cold and warm relay)`, {
    timeout: 150_000,
  }, async () => {
    const r = await rig(store);
    const rows: WindowRow[] = [];
    const kindFor = (phase: number, d: number): RecordKind =>
      (storeIndex + phase + d) % 2 === 0 ? 'reply' : 'report';

    const offTarget: string[] = [];

    // Cold: the batch waits on the platform, the relay starts and is killed after its first pull.
    for (const [d, D] of DELAYS.entries()) {
      for (let attempt = 1; ; attempt++) {
        const row = { store, relay: 'cold', kind: kindFor(0, d), D } as const;
        const struck = await strike(r, r.start(), row);
        rows.push(struck.row);
        expect(await struck.next.kill('SIGTERM')).toBe(0);
        if (struck.onTime) break;
        if (attempt === MAX_ATTEMPTS) {
          offTarget.push(`cold D=${D}`);
          break;
        }
      }
    }

    // Warm: the relay has been polling a while (and the restarted one becomes the next warm one).
    let relay = r.start();
    await relay.url;
    for (const [d, D] of DELAYS.entries()) {
      for (let attempt = 1; ; attempt++) {
        const epoch = r.proxy.kills;
        await waitFor(
          () =>
            r.proxy.answers.filter((a) => a.epoch === epoch && a.handedOut).length >= WARM_PULLS,
          10_000,
          'a warm relay',
        );
        const row = { store, relay: 'warm', kind: kindFor(1, d), D } as const;
        const struck = await strike(r, relay, row);
        rows.push(struck.row);
        relay = struck.next;
        if (struck.onTime) break;
        if (attempt === MAX_ATTEMPTS) {
          offTarget.push(`warm D=${D}`);
          break;
        }
      }
    }
    expect(await relay.kill('SIGTERM')).toBe(0);

    const differentIds = [...arrivals(r.rx)].filter(([, ids]) => ids.size > 1);
    console.log(
      `pull-once window, ${store}: SIGKILL D ms after the answer was written, ${BATCH} records per kill\n` +
        table(rows as unknown as Array<Record<string, string | number>>) +
        `\ntotal: ${rows.reduce((n, row) => n + row['handed out'], 0)} handed out, ` +
        `${rows.reduce((n, row) => n + row.lost, 0)} lost, ` +
        `${differentIds.length} records delivered under two or more webhook ids`,
    );
    const lostRows = rows.filter((row) => row.lost !== 0);
    console.log(
      `remaining window: ${lostRows.length} of ${rows.length} answers lost, ` +
        `${lostRows.filter((row) => typeof row['unread (bytes)'] === 'number' && row['unread (bytes)'] > 0).length} of them still unread in the relay's socket at the kill; ` +
        `most CPU a lost answer's pull thread had had: ${Math.max(0, ...lostRows.map((row) => Number(row['pull thread CPU (ms)']) || 0))} ms ` +
        `(budget ${CPU_BUDGET_MS} ms); least CPU of a thread whose answer was in the journal: ` +
        `${Math.min(...rows.filter((row) => row['in journal'] === 'yes').map((row) => Number(row['pull thread CPU (ms)'])))} ms`,
    );
    // Nothing is lost once in the journal, once the pull thread was done with it, or once it
    // had the time to put it there.
    expect(lostRows.filter((row) => !inWindow(row))).toEqual([]);
    expect(rows.filter((row) => row.lost !== 0 && row.lost !== row['handed out'])).toEqual([]);
    // Every record, all its deliveries under one id, and one event in the store.
    expect(differentIds.map(([key, ids]) => ({ key, ids: [...ids] }))).toEqual([]);
    expect(twoIds((await r.rows()).events)).toEqual([]);
    expect(r.rx.received.filter((rec) => rec.event === null)).toEqual([]);
    expect(offTarget, `no kill within ${LATE_MS} ms of D in ${MAX_ATTEMPTS} attempts`).toEqual([]);
  });
}

for (const store of STORES) {
  it(`${store}: SIGKILL at random moments while reports flow: every record handed out arrives, under one webhook id (an answer the kill caught before the pull thread had the CPU to journal it excepted, and only that answer)`, {
    timeout: 120_000,
  }, async () => {
    const r = await rig(store);
    let relay = r.start();
    await relay.url;

    const injected = new Set<string>();
    let injecting = true;
    const injector = (async () => {
      for (let round = 0; round < 40; round++) {
        for (const key of r.inject('report', REPORTS / 40)) injected.add(key);
        if (round % 4 === 3) for (const key of r.inject('reply', REPLIES / 10)) injected.add(key);
        await sleep(250);
      }
      injecting = false;
    })();

    // From the spawn, not from "relay started": a kill may land in startup and recovery too.
    while (injecting || r.proxy.kills < RANDOM_KILLS) {
      await sleep(150 + Math.random() * 900);
      r.proxy.kill(relay.proc);
      await relay.exited;
      relay = r.start();
    }
    await relay.url;
    await injector;

    // Records the platform answered to a relay that had already died never reached any relay.
    const answeredToDead = new Set(
      r.proxy.answers.filter((a) => !a.handedOut).flatMap((a) => recordKeys(a.text)),
    );
    const handedTo = (epoch: number) =>
      r.proxy.answers
        .filter((a) => a.handedOut && a.epoch === epoch)
        .flatMap((a) => recordKeys(a.text));
    const accounted = () => {
      const got = arrivals(r.rx);
      return [...injected].every((key) => got.has(key) || answeredToDead.has(key));
    };
    await settle(() => r.pending() === 0 && accounted(), 15_000);

    const got = arrivals(r.rx);
    /** The answers to the relay of `epoch` that its kill caught inside the remaining window. */
    const windowAnswers = (epoch: number) =>
      r.proxy.answers.filter((a) => a.epoch === epoch && inWindow(atKill(a, r.relayOf(epoch))));
    const perKill = Array.from({ length: r.proxy.kills + 1 }, (_, epoch) => {
      const handed = handedTo(epoch);
      const lost = handed.filter((key) => !got.has(key));
      const killedAt = r.proxy.killedAt[epoch];
      const lastAnswer = r.proxy.answers.findLast(
        (a) => a.epoch === epoch && a.records > 0 && a.writtenAt !== null,
      );
      const sinceAnswer =
        killedAt !== undefined && lastAnswer?.writtenAt != null
          ? killedAt - lastAnswer.writtenAt
          : undefined;
      // The remaining window (see CPU_BUDGET_MS): an answer not in the journal at the kill
      // whose pull thread had less CPU than that since it arrived. Its records, and nothing
      // else, may be lost.
      const windowKeys = new Set(windowAnswers(epoch).flatMap((a) => recordKeys(a.text)));
      const excused = lost.filter((key) => windowKeys.has(key)).length;
      return {
        kill: epoch < r.proxy.kills ? String(epoch + 1) : 'none (last relay)',
        'last answer → kill (ms)': sinceAnswer === undefined ? '-' : sinceAnswer.toFixed(2),
        'handed out': handed.length,
        arrived: handed.length - lost.length,
        lost: lost.length,
        'of it in the window': excused,
      };
    });
    const verified = r.rx.verified();
    const ids = new Set(verified.map((rec) => rec.id));
    const differentIds = [...got].filter(([, keyIds]) => keyIds.size > 1);
    const missing = [...injected].filter((key) => !got.has(key) && !answeredToDead.has(key));
    console.log(
      `random SIGKILLs, ${store}: ${r.proxy.kills} kills, ${injected.size} records injected ` +
        `(${REPORTS} reports, ${REPLIES} replies)\n${table(perKill)}\n` +
        `total: ${perKill.reduce((n, k) => n + k['handed out'], 0)} handed out, ` +
        `${perKill.reduce((n, k) => n + k.lost, 0)} lost ` +
        `(${perKill.reduce((n, k) => n + k['of it in the window'], 0)} of them in answers ` +
        `the kill caught before the pull thread had them in the journal, with under ${CPU_BUDGET_MS} ms of CPU); ` +
        `${answeredToDead.size} answered to an already dead relay (no client can keep those); ` +
        `${verified.length} deliveries, ${verified.length - ids.size} redeliveries under the same id, ` +
        `${differentIds.length} records under two or more ids`,
    );

    expect(r.rx.received.filter((rec) => rec.event === null)).toEqual([]);
    expect(perKill.filter((k) => k.lost > k['of it in the window'])).toEqual([]);
    const excused = new Set(
      Array.from({ length: r.proxy.kills }, (_, epoch) => windowAnswers(epoch))
        .flat()
        .flatMap((a) => recordKeys(a.text)),
    );
    expect(missing.filter((key) => !excused.has(key))).toEqual([]);
    expect(differentIds.map(([key, keyIds]) => ({ key, ids: [...keyIds] }))).toEqual([]);
    // A clean SIGTERM exits 0 after finishing in-flight work.
    expect(await relay.kill('SIGTERM')).toBe(0);
    // The store too: one event per record (a second id not delivered yet would show here).
    expect(twoIds((await r.rows()).events)).toEqual([]);
  });
}

/**
 * Starts a relay under strace, which SIGKILLs it on entry to an unlink, before the file is
 * gone: the unlink of `path`, or the `nth` unlink of one thread (strace counts per thread). A
 * relay's main thread unlinks nothing but the journal entries it settled, each right after
 * its commit, oldest first; its pull thread unlinks its warm-up file twice, then nothing. So
 * either way the relay dies between an entry's commit and its removal.
 */
function startKilledAtUnlink(
  r: Rig,
  at: { path: string } | { nth: number },
  log: string,
): RelayChild {
  return r.start([
    'strace',
    '-f',
    '-qq',
    '-o',
    log,
    ...('path' in at ? ['-P', at.path] : []),
    '-e',
    'trace=unlink',
    '-e',
    `inject=unlink:signal=SIGKILL:when=${'nth' in at ? at.nth : 1}`,
  ]);
}

/** The path of the unlink strace killed the relay on. */
function killedAtUnlinkOf(log: string): string | undefined {
  const calls = readFileSync(log, 'utf8')
    .split('\n')
    .filter((line) => /\bunlink\("/.test(line));
  return /unlink\("([^"]+)"/.exec(calls.at(-1) ?? '')?.[1];
}

const journalEntries = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.jrn'));

for (const store of STORES) {
  it(`${store}: SIGKILL between a commit and the removal of its journal entry, in the recovery of a cut-off answer and in a pull: every record under one webhook id, the cut-off answer quarantined once`, {
    timeout: 90_000,
  }, async () => {
    const r = await rig(store);
    const logs = join(r.journalDir, '..');
    // A first start makes the store and the journal folder: every later start unlinks alike.
    let relay = r.start();
    await relay.url;
    expect(await relay.kill('SIGTERM')).toBe(0);

    // 1. The relay dies holding the first part of an answer: a cut-off journal entry.
    relay = r.start();
    await relay.url;
    const shot = r.proxy.arm(50, relay.proc, { cut: 0.5 });
    r.inject('report', BATCH);
    await within(shot, 15_000, 'the kill in a cut-off answer');
    await relay.exited;
    const [cutEntry, ...others] = journalEntries(r.journalDir);
    expect(others).toEqual([]);
    const cutAnswer = r.proxy.answers.findLast((a) => a.handedOut && a.records > 0)!;
    const wholeInCut = recordKeys(cutAnswer.text);
    expect(wholeInCut.length).toBeGreaterThan(0);
    expect(wholeInCut.length).toBeLessThan(BATCH);

    // 2. Its recovery commits the whole records and the bytes, and dies before the removal.
    relay = startKilledAtUnlink(
      r,
      { path: join(r.journalDir, cutEntry!) },
      join(logs, 'strace-recovery.log'),
    );
    await within(relay.exited, 30_000, 'the kill at the recovered entry’s removal');
    expect(relay.proc.signalCode).toBe('SIGKILL');
    expect(killedAtUnlinkOf(join(logs, 'strace-recovery.log'))).toBe(join(r.journalDir, cutEntry!));
    r.proxy.kill(() => {});
    expect(journalEntries(r.journalDir)).toEqual([cutEntry]);
    let rows = await r.rows();
    for (const key of wholeInCut) expect(rows.events.get(key)).toHaveLength(1);
    expect(rows.quarantine).toHaveLength(1);

    // 3. The next start recovers the entry once more, settles it and stops.
    relay = r.start();
    await relay.url;
    await waitFor(
      () => !journalEntries(r.journalDir).includes(cutEntry!),
      10_000,
      'the cut-off entry settled',
    );
    expect(await relay.kill('SIGTERM')).toBe(0);
    expect(journalEntries(r.journalDir)).toEqual([]);

    // 4. A pull dies between its commit and the removal of its entry. The main thread's third
    // removal: a full answer of reports, an answer of replies, then the rest of the reports.
    const pulled = r.inject('report', STATUS_NUM + BATCH);
    relay = startKilledAtUnlink(r, { nth: 3 }, join(logs, 'strace-pull.log'));
    await within(relay.exited, 30_000, 'the kill at a pulled entry’s removal');
    expect(relay.proc.signalCode).toBe('SIGKILL');
    const pulledEntry = killedAtUnlinkOf(join(logs, 'strace-pull.log'))!;
    expect(pulledEntry).toMatch(/jrn_[0-9A-Z]{26}\.jrn$/);
    expect(recordKeys(readFileSync(pulledEntry, 'utf8'))).toEqual(pulled.slice(-BATCH));
    r.proxy.kill(() => {});
    rows = await r.rows();
    for (const key of pulled) expect(rows.events.get(key)).toHaveLength(1);

    // 5. The next start recovers that committed entry and delivers everything.
    relay = r.start();
    await relay.url;
    const expected = [...wholeInCut, ...pulled];
    await waitFor(
      () => {
        const got = arrivals(r.rx);
        return expected.every((key) => got.has(key));
      },
      20_000,
      'every record',
    );
    expect(await relay.kill('SIGTERM')).toBe(0);

    const got = arrivals(r.rx);
    rows = await r.rows();
    expect(twoIds(got)).toEqual([]);
    expect(twoIds(rows.events)).toEqual([]);
    for (const key of expected) expect([...got.get(key)!]).toEqual(rows.events.get(key));
    // The cut-off answer's bytes are kept once, however often its commit was repeated.
    expect(rows.quarantine).toHaveLength(1);
    expect(rows.quarantine[0]).toContain(cutEntry!.slice(0, -'.jrn'.length));
  });
}

for (const store of STORES) {
  it(`${store}: a journal whose file system is slow to create files loses nothing the pull thread read (its openat delayed 20 ms, SIGKILL 5 ms after the answer)`, {
    timeout: 60_000,
  }, async () => {
    const r = await rig(store);
    const rows: Array<WindowRow & { attempt: number }> = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const relay = r.start();
      await relay.url;
      const tid = pullThreadOf(relay);
      expect(tid, 'the relay names its pull thread').toBeDefined();
      // The journal's file system busy with other processes' fsyncs, as seen (issue 24: the
      // thread sat in openat for over 7 ms with the answer already read).
      const detach = await delaySyscalls(tid!, ['openat'], 20);
      cleanups.push(detach);
      const struck = await strike(r, relay, { store, relay: 'warm', kind: 'report', D: 5 });
      rows.push({ ...struck.row, attempt });
      expect(await struck.next.kill('SIGTERM')).toBe(0);
    }
    console.log(
      `slow openat on the pull thread, ${store}: SIGKILL 5 ms after the answer\n` +
        table(rows as unknown as Array<Record<string, string | number>>),
    );
    // Created before the request left, the entry only needed write(): no answer is lost to
    // the slow openat. A loss only inside the measured window (the thread still reading or
    // writing it, under CPU_BUDGET_MS of CPU: seen in CI on a loaded machine, in write() with
    // 0.76 and 1.04 ms) is the window's, as in every other kill test here; one with the thread
    // in openat (syscall 257), as before the fix (6 of 6 strikes), fails.
    expect(rows.filter((row) => row.lost !== 0 && !inWindow(row))).toEqual([]);
    expect(rows.filter((row) => row.lost !== 0 && row['pull thread'] === 'syscall 257')).toEqual(
      [],
    );
  });
}
