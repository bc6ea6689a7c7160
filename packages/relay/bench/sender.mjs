// The gateway's sender against the raw client, with and without its store (issue 20's drain
// goal, >= 0.8x of raw `SmsClient.send` at the same concurrency). The relay's own `GatewaySender`
// (built from src: it is not part of the package's API) in a process of its own, draining a
// queue at `concurrency` 16 to the emulator in this process, over:
//   - nothing: a queue in memory that stores nothing (what the sender and the client cost);
//   - sqlite: the relay's SQLite store, as `sms-relay run` uses it;
//   - sqlite, thread: the same store on a thread of its own, called by messages (what taking
//     the store's commits off the relay's main thread would give).
// Rounds alternate the order; each puts a raw run beside its drains. Medians, spread in brackets.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '@sms/emulator';
import { bundleFromSrc } from './bundle.mjs';
import { claimAndRecordSent, enqueueAll } from './queue.mjs';
import { rawRun } from './raw-client.mjs';
import { table } from './table.mjs';

const BURST = Number(process.env.BENCH_BURST ?? 10000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Math.max(1, Number(process.env.BENCH_SENDER_ROUNDS ?? 5));
/** Claim sizes of the store's floor (the store alone, in-process). */
const FLOOR_CLAIMS = (process.env.BENCH_FLOOR_CLAIMS ?? `4,8,${CONCURRENCY},64`)
  .split(',')
  .map(Number);
const GOAL = 0.8;
const PASSWORD = 'bench-password';
const BALANCE = 1e9;
const MODES = ['nothing', 'sqlite', 'sqlite-thread'];

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const bundle = await bundleFromSrc('sender', {
  'gateway/sender.js': ['GatewaySender'],
  'store/sqlite.js': ['sqliteStore'],
});

const platform = await startEmulator({
  accounts: [{ userId: '12', account: 'demo', password: PASSWORD, balance: BALANCE }],
  maxRecordedRequests: 100,
});

/** The raw client beside the emulator, as gateway.mjs measures it: sends a second. */
const raw = async () =>
  (
    await rawRun(platform, {
      password: PASSWORD,
      concurrency: CONCURRENCY,
      burst: BURST,
      warmup: WARMUP,
    })
  ).perSecond;

async function drain(mode) {
  const child = spawn(
    process.execPath,
    [
      here('./sender-child.mjs'),
      mode,
      bundle,
      platform.url,
      PASSWORD,
      `${BURST}`,
      `${CONCURRENCY}`,
      `${WARMUP}`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  // This process's CPU over the child's timed sends: the emulator's (nothing else runs here).
  let out = '';
  let timed;
  let emulatorCpu;
  child.stdout.on('data', (chunk) => {
    out += chunk;
    if (!timed && out.includes('timed\n')) timed = process.cpuUsage();
    if (timed && !emulatorCpu && out.includes('done\n')) emulatorCpu = process.cpuUsage(timed);
  });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  if (code !== 0 || !emulatorCpu) throw new Error(`the ${mode} sender exited ${code}`);
  return {
    ...JSON.parse(out.slice(out.indexOf('done\n') + 5)),
    emulatorUs: Math.round((emulatorCpu.user + emulatorCpu.system) / BURST),
  };
}

/**
 * The store's work alone, in this process (no sender, no HTTP): BURST messages claimed and
 * recorded sent `claim` at a time. CPU µs per message. The sender's largest claim is a window
 * (CONCURRENCY): it claims ahead by one window at most, what a crash may leave `unknown`.
 */
async function storeFloor(claim) {
  const { sqliteStore } = await import(bundle);
  const dir = mkdtempSync(join(tmpdir(), 'sms-bench-sender-floor-'));
  const store = await sqliteStore({ path: join(dir, 'relay.db') });
  try {
    await store.init();
    await enqueueAll(store.messages, BURST, 32);
    const before = process.cpuUsage();
    await claimAndRecordSent(store.messages, claim);
    const cpu = process.cpuUsage(before);
    return Math.round((cpu.user + cpu.system) / BURST);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
const spread = (values) => `${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)}`;

try {
  await raw(); // untimed: this process's client and emulator compile first
  const runs = Object.fromEntries(MODES.map((mode) => [mode, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? MODES : [...MODES].reverse();
    const rawPerSecond = await raw();
    for (const mode of order) {
      const run = await drain(mode);
      runs[mode].push({ ...run, ratio: run.perSecond / rawPerSecond, raw: rawPerSecond });
    }
  }
  console.log(
    `sender: a queue of ${BURST} sent at concurrency ${CONCURRENCY} (after ${WARMUP} untimed), ${ROUNDS} rounds, each beside a raw SmsClient run (this process, with the emulator); CPU per message sent: the sender's process, all threads and its main thread, and the emulator's (this process)`,
  );
  const rows = MODES.map((mode) => ({
    store: mode === 'sqlite-thread' ? 'sqlite, on a thread' : mode,
    'send/s': median(runs[mode].map((r) => r.perSecond)),
    'raw send/s': median(runs[mode].map((r) => r.raw)),
    'of raw': `${median(runs[mode].map((r) => r.ratio)).toFixed(2)}x (${spread(runs[mode].map((r) => r.ratio))})`,
    goal: `>= ${GOAL.toFixed(2)}x`,
    'CPU µs': median(runs[mode].map((r) => r.cpuUs)),
    'main thread µs': median(runs[mode].map((r) => r.mainUs)),
    'emulator µs': median(runs[mode].map((r) => r.emulatorUs)),
  }));
  console.log(table(rows));
  // Sends/s go as the inverse of what a message costs the two cores (the sender's process and
  // the emulator): what the store may add to that for GOAL, from the store-less run's ratio.
  const nothing = rows[0];
  const ratio = median(runs.nothing.map((r) => r.ratio));
  const budget = Math.round((nothing['CPU µs'] + nothing['emulator µs']) * (ratio / GOAL - 1));
  const floors = [];
  for (const claim of FLOOR_CLAIMS) {
    const runs = [await storeFloor(claim), await storeFloor(claim), await storeFloor(claim)];
    floors.push({
      'claimed at a time': claim,
      'CPU µs a message': `${median(runs)} (${Math.min(...runs)}-${Math.max(...runs)})`,
      'in windows': (claim / CONCURRENCY).toFixed(2),
      'of the budget': budget > 0 ? `${(median(runs) / budget).toFixed(2)}x` : '-',
    });
  }
  console.log(
    `\nthe store's CPU per message sent: ${rows[1]['CPU µs'] - nothing['CPU µs']} µs (sqlite), ${rows[2]['CPU µs'] - nothing['CPU µs']} µs (on a thread); ${budget > 0 ? `${GOAL}x of raw leaves it ${budget} µs` : `nothing is left for it at ${GOAL}x of raw (the sender without a store reached ${ratio.toFixed(2)}x)`} (the store-less run's CPU, sender and emulator, times its ratio over ${GOAL}, less itself)`,
  );
  console.log(
    `the store's work alone, in-process (no sender, no HTTP), ${BURST} messages claimed and recorded sent, median of 3; the sender claims a window (${CONCURRENCY}) at most\n${table(floors)}`,
  );
} finally {
  await platform.close();
}
