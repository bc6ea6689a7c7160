// One drain of bench/sender.mjs: the relay's GatewaySender over `mode`'s store, WARMUP + BURST
// messages queued first; prints sends/s and CPU per message of the timed BURST.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { procCpuMs } from './cpu.mjs';
import { enqueueAll } from './queue.mjs';

const [mode, bundle, baseUrl, password, burst, concurrency, warmup] = process.argv.slice(2);
const BURST = Number(burst);
const WARMUP = Number(warmup);
const { GatewaySender, sqliteStore } = await import(bundle);

/** A queue in memory that keeps nothing: claims hand out what was enqueued, outcomes vanish. */
function nothingStored() {
  const queue = [];
  return {
    messages: {
      async enqueueMany(batch) {
        for (const m of batch) {
          queue.push({ ...m, attempts: 1, lease: 'lease' });
        }
        return [];
      },
      claim: async ({ limit }) => queue.splice(0, limit),
      recordMany: async (outcomes) => outcomes.map(() => true),
      release: async () => 0,
      expireLeases: async () => [],
    },
    close: async () => {},
  };
}

/** The SQLite store on a thread of its own: each call a message there and back. */
async function storeOnThread(path) {
  const worker = new Worker(new URL('./sender-store-thread.mjs', import.meta.url), {
    workerData: { bundle, path },
  });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  let seq = 0;
  const pending = new Map();
  worker.on('message', ({ seq, result, error }) => {
    const call = pending.get(seq);
    pending.delete(seq);
    if (error) call.reject(new Error(error));
    else call.resolve(result);
  });
  const call =
    (op) =>
    (...args) =>
      new Promise((resolve, reject) => {
        pending.set(++seq, { resolve, reject });
        worker.postMessage({ seq, op, args });
      });
  return {
    messages: Object.fromEntries(
      ['enqueueMany', 'claim', 'recordMany', 'release', 'expireLeases'].map((op) => [op, call(op)]),
    ),
    close: () => worker.terminate(),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'sms-bench-sender-'));
const path = join(dir, 'relay.db');
let store;
if (mode === 'nothing') store = nothingStored();
else if (mode === 'sqlite-thread') store = await storeOnThread(path);
else {
  store = await sqliteStore({ path });
  await store.init();
}
await enqueueAll(store.messages, WARMUP + BURST, 32);

let outcomes = 0;
let timed;
let finished;
const done = new Promise((resolve) => (finished = resolve));
const mark = () => ({
  at: performance.now(),
  cpu: process.cpuUsage(),
  main: procCpuMs(process.pid, { mainThread: true }),
});
const quiet = () => {};
const sender = new GatewaySender({
  messages: store.messages,
  recoverAtStart: false,
  accounts: [
    {
      name: 'main',
      baseUrl,
      userId: '12',
      account: 'demo',
      password,
      charset: 'utf-8',
      auth: 'password',
      timeoutMs: 15_000,
    },
  ],
  config: {
    concurrency: Number(concurrency),
    ratePerSecond: 1_000_000,
    idleMs: 5,
    leaseMs: 60_000,
    maxAttempts: 5,
    retryDelayMs: 1000,
    breaker: false,
    route: [],
    strategy: 'priority',
  },
  logger: { debug: quiet, info: quiet, warn: console.error, error: console.error },
  onOutcome: (_account, kind) => {
    if (kind !== 'sent') throw new Error(`a send came to ${kind}`);
    outcomes++;
    // The bench reads the emulator's CPU (its own) between these two lines.
    if (outcomes === WARMUP) {
      timed = mark();
      process.stdout.write('timed\n');
    }
    if (outcomes === WARMUP + BURST) {
      finished(mark());
      process.stdout.write('done\n');
    }
  },
});
await sender.start();
const end = await done;
await sender.stop();
await store.close();
rmSync(dir, { recursive: true, force: true });
const cpu = process.cpuUsage(timed.cpu);
console.log(
  JSON.stringify({
    perSecond: Math.round(BURST / ((end.at - timed.at) / 1000)),
    cpuUs: Math.round((cpu.user + cpu.system) / BURST),
    mainUs: Math.round(((end.main - timed.main) * 1000) / BURST),
  }),
);
