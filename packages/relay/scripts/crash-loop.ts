/**
 * The crash loop (issue 24): runs the relay's crash scenario over and over and looks, after
 * every round, for a record that reached the receiver, or sits in the store, under two
 * `webhook-id`s. Not part of `pnpm test`; run it with
 *
 *   pnpm -F @sms/webhook-relay crash-loop
 *
 * Environment: LOOP_KILLS (kills per variant, default 100), LOOP_VARIANTS (comma list of
 * sqlite, sqlite-reused, postgres, postgres-reused; default all four), LOOP_KEYS (`unique`:
 * every round's records have keys of their own, the default; `same`: every round's records
 * have the same keys, as a harness whose emulator restarts at the same task id makes them: on
 * a reused store a round's receiver then also gets earlier rounds' events that were still
 * pending when those stopped, and a key shows two ids that belong to two records; with
 * LOOP_LEASE_MS=35000 LOOP_AFTER_MS=0 that is what issue 24 saw), LOOP_LEASE_MS (the delivery lease, default 1500), LOOP_AFTER_MS (how long a round goes on
 * once every record arrived, for late redeliveries; default the lease + 1.5 s), LOOP_OUT (folder
 * for the results and for the kept runs, default .tmp/crash-loop).
 *
 * Every step starts a relay on the round's store and journal and kills it at one moment:
 * - random: 150–700 ms after the spawn (start-up, recovery, pulls, deliveries);
 * - answer+D: D = 0–20 ms after the platform's answer reached the relay's socket (the journal
 *   write, the parse, the commit, the removal of the entry follow within that time);
 * - cut: the answer is cut off part-way and the relay killed holding it (a cut-off journal entry);
 * - unlink#K: the relay runs under strace, which SIGKILLs it on entry to its K-th unlink: the
 *   removal of a journal entry, after its commit and before the file is gone (or a start-up
 *   unlink: the warm-up file, SQLite's rollback journal);
 * - fsync#K: the same at the K-th fsync/fdatasync: a journal entry made durable (before its
 *   commit), or SQLite's commit;
 * - recovery: when the journal holds entries at the start, strace kills at the first unlink or
 *   fsync after the warm-up: inside the recovery of what the journal held (a cut-off entry too).
 * A copy of the journal is kept after every kill; a round that shows two ids for one record, or
 * a loss outside the remaining window, is kept whole (store, journal copies, strace logs, relay
 * logs) under LOOP_OUT/kept.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { it } from 'vitest';
import { type RelayChild, spawnRelay } from '../src/test-utils/child.js';
import { CLI } from '../src/test-utils/cli.js';
import { monotonicMs, recordKeys, startKillProxy } from '../src/test-utils/kill-proxy.js';
import { startReceiver } from '../src/test-utils/receiver.js';
import { atKill, inWindow } from '../src/test-utils/window.js';
import { PASSWORD, TEST_DATABASE_URL, emulator, secret, tempDir } from '../src/test-utils/setup.js';

type Variant = 'sqlite' | 'sqlite-reused' | 'postgres' | 'postgres-reused';
type Moment = 'random' | 'answer+D' | 'cut' | 'unlink#K' | 'fsync#K' | 'recovery';

const env = process.env;
const KILLS = Number(env['LOOP_KILLS'] ?? 100);
const VARIANTS = (env['LOOP_VARIANTS'] ?? 'sqlite,sqlite-reused,postgres,postgres-reused')
  .split(',')
  .map((v) => v.trim()) as Variant[];
const SAME_KEYS = env['LOOP_KEYS'] === 'same';
const LEASE_MS = Number(env['LOOP_LEASE_MS'] ?? 1500);
/** How long a round waits, once every record arrived, for late redeliveries. */
const AFTER_MS = Number(env['LOOP_AFTER_MS'] ?? LEASE_MS + 1500);
const OUT = resolve(env['LOOP_OUT'] ?? '.tmp/crash-loop');
const KILLS_PER_ROUND = 10;
const ROTATION: Moment[] = ['answer+D', 'unlink#K', 'random', 'fsync#K', 'cut', 'unlink#K'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (min: number, max: number) => min + Math.random() * (max - min);
const randInt = (min: number, max: number) => Math.floor(rand(min, max + 1));

function keyOf(event: { type: string; data: Record<string, unknown> }): string {
  return event.type === 'sms.report'
    ? `report:${String(event.data['mobile'])}:${String(event.data['taskId'])}`
    : `reply:${String(event.data['content'])}`;
}

function journalFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => n.endsWith('.jrn') && statSync(join(dir, n)).size > 0);
}

/** When (ms since the epoch, from `strace -ttt`) the injected SIGKILL hit, if it did. */
function killedAtOf(log: string, syscalls: string): number | undefined {
  if (!existsSync(log)) return undefined;
  const names = syscalls.split(',');
  const lines = readFileSync(log, 'utf8').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^\d+\s+(\d+\.\d+)\s+(\w+)\(/.exec(lines[i]!);
    if (m && names.includes(m[2]!)) return Number(m[1]) * 1000;
  }
  return undefined;
}

/** The last syscall line of an strace log: what the injected SIGKILL hit. */
function hitOf(log: string, syscalls: string): string {
  if (!existsSync(log)) return 'no log';
  const names = syscalls.split(',');
  const lines = readFileSync(log, 'utf8').split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.replace(/^\d+\s+/, '').replace(/^\d+\.\d+\s+/, '');
    if (names.some((n) => line.startsWith(`${n}(`))) {
      if (/jrn_[0-9A-Z]{26}\.jrn/.test(line)) return `${line.split('(')[0]} of a journal entry`;
      if (/\/journal>?$/.test(line.split(')')[0]!))
        return `${line.split('(')[0]} of the journal folder`;
      const path = /<([^>]+)>|"([^"]+)"/.exec(line);
      const file = (path?.[1] ?? path?.[2] ?? '?').split('/').pop();
      return `${line.split('(')[0]} ${file}`;
    }
  }
  return 'nothing (not killed by strace)';
}

/** Kills a wrapped relay's process tree (strace and the node under it). */
function killTree(child: RelayChild): void {
  const pid = child.proc.pid;
  if (pid === undefined || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  try {
    for (const p of execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n')) {
      if (p.trim()) process.kill(Number(p), 'SIGKILL');
    }
  } catch {}
  child.proc.kill('SIGKILL');
}

interface Tally {
  variant: Variant;
  rounds: number;
  kills: number;
  byMoment: Record<string, number>;
  hits: Record<string, number>;
  injected: number;
  handedOut: number;
  arrived: number;
  lost: number;
  /** Lost records whose answer reached the relay 5 ms or more before it was killed. */
  lostOutsideWindow: number;
  deliveries: number;
  redeliveries: number;
  twoIdsAtReceiver: number;
  twoIdsInStore: number;
  kept: string[];
}

async function storeEvents(
  variant: Variant,
  store: { sqlite?: string; schema?: string },
): Promise<Array<{ id: string; body: string; created_at: number }>> {
  if (variant.startsWith('sqlite')) {
    const db = new Database(store.sqlite!, { readonly: true });
    try {
      return db.prepare('SELECT id, body, created_at FROM events').all() as Array<{
        id: string;
        body: string;
        created_at: number;
      }>;
    } finally {
      db.close();
    }
  }
  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  try {
    const { rows } = await db.query(
      `SELECT id, body, created_at::float8 AS created_at FROM "${store.schema}".events`,
    );
    return rows as Array<{ id: string; body: string; created_at: number }>;
  } finally {
    await db.end();
  }
}

/** The CLI this loop runs: a copy, so a test run rebuilding the tests' own meanwhile cannot touch it. */
let cli = CLI;

async function round(variant: Variant, n: number, tally: Tally, log: (line: string) => void) {
  const platform = await emulator();
  const rx = await startReceiver({ secret });
  const tmp = tempDir();
  const reused = variant.endsWith('-reused');
  const stateDir = reused ? join(OUT, 'state', variant) : tmp.dir;
  mkdirSync(stateDir, { recursive: true });
  const journalDir = join(stateDir, 'journal');
  const proxy = await startKillProxy(platform.url, { journalDir });
  const store: { sqlite?: string; postgres?: string; schema?: string } = variant.startsWith(
    'sqlite',
  )
    ? { sqlite: join(stateDir, 'relay.db') }
    : {
        postgres: TEST_DATABASE_URL,
        schema: reused ? 'relay_loop_reused' : `relay_loop_${randomBytes(5).toString('hex')}`,
      };
  const configPath = join(tmp.dir, 'relay.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      store,
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
          pollIntervalMs: 100,
          statusNum: 50,
          timeoutMs: 2000,
        },
      ],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${ENV} syntax
      targets: [{ name: 'app', url: rx.url, secret: '${WEBHOOK_SECRET}' }],
      delivery: {
        timeoutMs: 1000,
        leaseMs: LEASE_MS,
        idleMs: 20,
        retrySchedule: [100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000, 1000],
      },
      http: { port: 0, host: '127.0.0.1' },
      log: { level: 'info' },
    }),
  );
  const relayEnv = () => ({
    SMS_PASSWORD: PASSWORD,
    WEBHOOK_SECRET: secret,
    PLATFORM_URL: proxy.relayUrl(),
  });
  const children: RelayChild[] = [];
  const byEpoch = new Map<number, RelayChild>();
  const start = (wrap: string[] = []) => {
    const child = spawnRelay(configPath, relayEnv(), { wrap, cli });
    children.push(child);
    byEpoch.set(proxy.kills, child);
    if (wrap.length === 0 && child.proc.pid !== undefined) proxy.track(child.proc.pid);
    return child;
  };

  // Records flow for the whole round: reports of several "sends", a few replies.
  const base = SAME_KEYS ? 0 : randInt(1, 8_000_000) * 10;
  let serial = 0;
  const injected = new Set<string>();
  let injecting = true;
  const injector = (async () => {
    for (let tick = 0; injecting; tick++) {
      for (let i = 0; i < 10; i++) {
        serial++;
        const mobile = `139${String(base + serial).padStart(8, '0')}`;
        const taskId = String(7_000_000_000_000_000n + BigInt(base + serial));
        platform.injectReport({ account: 'demo', mobile, taskId, status: serial % 7 ? 10 : 20 });
        injected.add(`report:${mobile}:${taskId}`);
      }
      if (tick % 4 === 3) {
        for (let i = 0; i < 3; i++) {
          serial++;
          const content = `回复 ${base + serial}`;
          platform.injectReply({ account: 'demo', mobile: '13800138000', content });
          injected.add(`reply:${content}`);
        }
      }
      await sleep(150);
    }
  })();

  let twoIds = 0;
  /** Per epoch, when strace killed that relay (`monotonicMs`), more exact than the proxy's. */
  const diedAt = new Map<number, number>();
  try {
    for (let step = 0; step < KILLS_PER_ROUND; step++) {
      const leftovers = journalFiles(journalDir);
      let moment = ROTATION[(n * KILLS_PER_ROUND + step) % ROTATION.length]!;
      if (leftovers.length > 0 && Math.random() < 0.5) moment = 'recovery';
      let wrap: string[] = [];
      let syscalls = '';
      const straceLog = join(tmp.dir, `strace-${step}.log`);
      if (moment === 'unlink#K' || moment === 'fsync#K' || moment === 'recovery') {
        const fsync = moment === 'fsync#K' || (moment === 'recovery' && Math.random() < 0.5);
        syscalls = fsync ? 'fsync,fdatasync' : 'unlink';
        // strace counts per thread: the main thread unlinks the journal entries it settled
        // (after SQLite's rollback journal on a new file), the pull thread its warm-up file
        // twice. A recovery is aimed at the removal of one of the entries the journal holds
        // (after its commit), or at SQLite's first commit (the oldest entry's).
        const target =
          moment === 'recovery' && !fsync ? leftovers[randInt(0, leftovers.length - 1)] : undefined;
        const k = moment === 'recovery' ? 1 : randInt(1, fsync ? 20 : 8);
        if (moment !== 'recovery') moment = `${syscalls.split(',')[0]}#K` as Moment;
        wrap = [
          'strace',
          '-f',
          '-qq',
          '-y',
          '-ttt',
          '-o',
          straceLog,
          ...(target ? ['-P', join(journalDir, target)] : []),
          '-e',
          `trace=${syscalls}`,
          '-e',
          `inject=${syscalls}:signal=SIGKILL:when=${k}`,
        ];
      }
      const relay = start(wrap);
      let label: string = moment;
      if (moment === 'random') {
        await sleep(rand(150, 700));
        proxy.kill(relay.proc);
      } else if (moment === 'answer+D' || moment === 'cut') {
        const D = moment === 'cut' ? rand(0, 3) : rand(0, 20);
        const shot = proxy.arm(D, relay.proc, moment === 'cut' ? { cut: rand(0.1, 0.9) } : {});
        const outcome = await Promise.race([
          shot.then(() => 'shot'),
          relay.exited.then(() => 'exited'),
          sleep(8000).then(() => 'timeout'),
        ]);
        if (outcome !== 'shot') {
          proxy.disarm();
          label = `${moment} (no answer: random)`;
          proxy.kill(relay.proc);
        }
      } else {
        const outcome = await Promise.race([
          relay.exited.then(() => 'exited'),
          sleep(rand(3000, 6000)).then(() => 'timeout'),
        ]);
        if (outcome === 'exited') {
          // strace's SIGKILL: a new epoch for the proxy (answers to the dead relay are dropped),
          // and the moment of death from strace's clock (seen here only at the exit).
          const epoch = proxy.kills;
          proxy.kill(() => {});
          const at = killedAtOf(straceLog, syscalls);
          if (at !== undefined) diedAt.set(epoch, at - (Date.now() - monotonicMs()));
          label = `${moment}: ${hitOf(straceLog, syscalls)}`;
        } else {
          label = `${moment} (not reached: random)`;
          proxy.kill(() => killTree(relay));
        }
      }
      await relay.exited;
      if (relay.proc.signalCode !== 'SIGKILL' && relay.proc.exitCode !== 137) {
        log(`  step ${step}: relay ended ${relay.proc.exitCode}/${relay.proc.signalCode}`);
      }
      tally.kills++;
      tally.byMoment[moment] = (tally.byMoment[moment] ?? 0) + 1;
      tally.hits[label] = (tally.hits[label] ?? 0) + 1;
      writeFileSync(join(tmp.dir, `relay-${step}.log`), relay.lines.join('\n'));
      // The journal as the kill left it.
      const files = journalFiles(journalDir);
      if (files.length > 0) {
        const copy = join(tmp.dir, `journal-after-kill-${step}`);
        mkdirSync(copy, { recursive: true });
        for (const f of files) cpSync(join(journalDir, f), join(copy, f));
      }
    }
    injecting = false;
    await injector;

    // A last relay delivers everything; then a lease's worth more for late redeliveries.
    const last = start();
    await last.url;
    const handedOut = () =>
      new Set(proxy.answers.filter((a) => a.handedOut).flatMap((a) => recordKeys(a.text)));
    const arrivedKeys = () => new Set(rx.verified().map((r) => keyOf(r.event!)));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const got = arrivedKeys();
      const pendingOnPlatform =
        platform.pendingReports('demo').length + platform.pendingReplies('demo').length;
      if (pendingOnPlatform === 0 && [...handedOut()].every((k) => got.has(k))) break;
      await sleep(100);
    }
    const handed = handedOut();
    const answeredToDead = new Set(
      proxy.answers.filter((a) => !a.handedOut).flatMap((a) => recordKeys(a.text)),
    );
    await sleep(AFTER_MS);
    await last.kill('SIGTERM');
    writeFileSync(join(tmp.dir, 'relay-last.log'), last.lines.join('\n'));

    const idsByKey = new Map<string, Set<string>>();
    for (const r of rx.verified()) {
      const key = keyOf(r.event!);
      if (!injected.has(key)) continue;
      const ids = idsByKey.get(key) ?? new Set<string>();
      ids.add(r.id);
      idsByKey.set(key, ids);
    }
    const atReceiver = [...idsByKey].filter(([, ids]) => ids.size > 1);
    const stored = new Map<string, string[]>();
    for (const row of await storeEvents(variant, store)) {
      const key = keyOf(JSON.parse(row.body));
      if (!injected.has(key)) continue;
      stored.set(key, [...(stored.get(key) ?? []), `${row.id}@${row.created_at}`]);
    }
    const inStore = [...stored].filter(([, ids]) => ids.length > 1);
    const allHanded = [...handed].filter((k) => injected.has(k));
    const lostKeys = allHanded.filter((k) => !idsByKey.has(k));
    const lost = lostKeys.length;
    // A loss is the remaining window's (docs/relay.md, test-utils/window.ts) when the proxy's
    // kill found the answer still with the pull thread. strace's kills are not measured:
    // there, an answer written less than 5 ms before the kill, or after it (those kills are
    // seen at the exit).
    const answerOf = new Map<string, (typeof proxy.answers)[number]>();
    for (const a of proxy.answers) for (const k of recordKeys(a.text)) answerOf.set(k, a);
    // An answer whose write never ended found the relay's socket gone: it never reached it.
    const unexplained = lostKeys.filter((k) => {
      const a = answerOf.get(k);
      if (a?.writtenAt === null) return false;
      if (a?.inJournalAtKill != null) return !inWindow(atKill(a, byEpoch.get(a.epoch)));
      const killedAt = a ? (diedAt.get(a.epoch) ?? proxy.killedAt[a.epoch]) : undefined;
      return !a || killedAt === undefined || a.writtenAt < killedAt - 5;
    });
    tally.lostOutsideWindow += unexplained.length;
    if (unexplained.length > 0) {
      log(`  lost outside the window: ${unexplained.slice(0, 5).join(' ')}`);
      for (const a of new Set(unexplained.map((k) => answerOf.get(k)))) {
        if (!a) continue;
        const killedAt = diedAt.get(a.epoch) ?? proxy.killedAt[a.epoch];
        log(
          `    answer to relay ${a.epoch}: ${a.records} records, written ${a.writtenAt === null || killedAt === undefined ? '?' : (killedAt - a.writtenAt).toFixed(2)} ms before the kill; at the kill: ${JSON.stringify(atKill(a, byEpoch.get(a.epoch)))}`,
        );
      }
    }
    const verified = rx.verified().filter((r) => injected.has(keyOf(r.event!)));
    const distinct = new Set(verified.map((r) => r.id)).size;
    tally.rounds++;
    tally.injected += injected.size;
    tally.handedOut += allHanded.length;
    tally.arrived += allHanded.length - lost;
    tally.lost += lost;
    tally.deliveries += verified.length;
    tally.redeliveries += verified.length - distinct;
    tally.twoIdsAtReceiver += atReceiver.length;
    tally.twoIdsInStore += inStore.length;
    twoIds = atReceiver.length + inStore.length;
    log(
      `${variant} round ${n}: ${injected.size} injected, ${allHanded.length} handed out, ` +
        `${lost} lost (${unexplained.length} outside the window), ${answeredToDead.size} answered to a dead relay, ${verified.length} deliveries ` +
        `(${verified.length - distinct} redeliveries), two ids: ${atReceiver.length} at the receiver, ` +
        `${inStore.length} in the store`,
    );
    if (twoIds > 0 || unexplained.length > 0) {
      for (const [key, ids] of atReceiver.slice(0, 5)) {
        log(`  receiver: ${key} → ${[...ids].join(' ')} (store: ${stored.get(key)?.join(' ')})`);
      }
      for (const [key, ids] of inStore.slice(0, 5)) log(`  store: ${key} → ${ids.join(' ')}`);
      const kept = join(OUT, 'kept', `${variant}-round${n}-${Date.now()}`);
      mkdirSync(kept, { recursive: true });
      cpSync(tmp.dir, join(kept, 'run'), { recursive: true });
      if (reused) cpSync(stateDir, join(kept, 'state'), { recursive: true });
      if (store.schema) {
        execFileSync('pg_dump', [
          TEST_DATABASE_URL,
          '-n',
          store.schema,
          '-f',
          join(kept, 'store.sql'),
        ]);
      }
      writeFileSync(
        join(kept, 'two-ids.json'),
        JSON.stringify(
          {
            receiver: atReceiver.map(([k, ids]) => ({ key: k, ids: [...ids] })),
            store: inStore.map(([k, ids]) => ({ key: k, ids })),
            lostOutsideWindow: unexplained.map((k) => ({ key: k, answer: answerOf.get(k) })),
            killedAt: proxy.killedAt,
            diedAt: [...diedAt],
          },
          null,
          2,
        ),
      );
      tally.kept.push(kept);
      log(`  kept: ${kept}`);
    }
  } finally {
    injecting = false;
    for (const child of children) killTree(child);
    await Promise.all(children.map((c) => c.exited));
    proxy.disarm();
    await proxy.close();
    await rx.close();
    await platform.close();
    if (store.schema && !reused) {
      const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      await db.query(`DROP SCHEMA IF EXISTS "${store.schema}" CASCADE`);
      await db.end();
    }
    tmp.cleanup();
  }
}

it('crash loop', { timeout: 24 * 3_600_000 }, async () => {
  mkdirSync(OUT, { recursive: true });
  cli = join(OUT, 'cli', 'cli.js');
  rmSync(join(OUT, 'cli'), { recursive: true, force: true });
  cpSync(dirname(CLI), join(OUT, 'cli'), { recursive: true });
  const results = join(OUT, 'results.log');
  const log = (line: string) => {
    console.log(line);
    appendFileSync(results, `${line}\n`);
  };
  log(
    `crash loop ${new Date().toISOString()}: ${KILLS} kills per variant, ${VARIANTS.join(', ')}, ` +
      `keys ${SAME_KEYS ? 'the same every round' : 'unique per round'}, lease ${LEASE_MS} ms, ` +
      `${AFTER_MS} ms after the last arrival`,
  );
  const tallies: Tally[] = [];
  for (const variant of VARIANTS) {
    if (variant.endsWith('-reused') && SAME_KEYS) {
      // Same keys: start the reused store empty, so what collides is this invocation's rounds.
      rmSync(join(OUT, 'state', variant), { recursive: true, force: true });
      const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await db.connect();
      await db.query('DROP SCHEMA IF EXISTS relay_loop_reused CASCADE');
      await db.end();
    }
    const tally: Tally = {
      variant,
      rounds: 0,
      kills: 0,
      byMoment: {},
      hits: {},
      injected: 0,
      handedOut: 0,
      arrived: 0,
      lost: 0,
      lostOutsideWindow: 0,
      deliveries: 0,
      redeliveries: 0,
      twoIdsAtReceiver: 0,
      twoIdsInStore: 0,
      kept: [],
    };
    tallies.push(tally);
    for (let n = 0; tally.kills < KILLS; n++) await round(variant, n, tally, log);
    log(JSON.stringify(tally, null, 1));
  }
  log(
    `summary: ${tallies
      .map(
        (t) =>
          `${t.variant}: ${t.kills} kills, ${t.handedOut} handed out, ${t.lost} lost ` +
          `(${t.lostOutsideWindow} outside the window), ` +
          `${t.twoIdsAtReceiver} records under two ids at the receiver, ${t.twoIdsInStore} in the store`,
      )
      .join('; ')}`,
  );
});
