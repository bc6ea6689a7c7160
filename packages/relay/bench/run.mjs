// End-to-end benchmark: emulator -> sms-relay (child process, from dist) -> local receiver.
// Prints events/s for a burst (from the reports being available, so including the wait for
// the next poll, and from the first webhook to the last) and the report-available-to-webhook latency (p50/p99) under a
// steady flow, on SQLite and on PostgreSQL. Run `pnpm build` first (turbo's bench does).
// Each store runs with the pull journal (fsync on, the default), with fsync off, and, when
// BENCH_BASELINE_CLI names another build's dist/cli.js (e.g. the commit before the journal,
// checked out with `git worktree add` and built), that build in the same run for comparison.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateWebhookSecret } from '@sms/core';
import { allCores, cpuSnapshot, cpuSpent } from './cpu.mjs';
import { startEmulator } from '@sms/emulator';
import pg from 'pg';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const { sqliteStore, postgresStore } = await import('../dist/index.js');
/** Issue 20's goals for the burst, events/s (journal with fsync). */
const GOAL = { sqlite: 20_000, postgres: 12_000 };
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BURST = Number(process.env.BENCH_BURST ?? 20_000);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const POLL_MS = 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function receiver() {
  const arrivals = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const { data } = JSON.parse(Buffer.concat(chunks).toString());
      const key = `${data.mobile}:${data.taskId}`;
      if (!arrivals.has(key)) arrivals.set(key, performance.now());
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    arrivals,
    close: () => server.close(),
  };
}

const BASELINE_CLI = process.env.BENCH_BASELINE_CLI;

function startRelay(configPath, cli) {
  const nodeArgs = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : [];
  const child = spawn(process.execPath, [...nodeArgs, cli, 'run', '--config', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const started = new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      log += chunk;
      if (log.includes('"relay started"')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`relay exited ${code}: ${log}`)));
  });
  return { child, started };
}

async function waitFor(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('bench timed out');
    await sleep(5);
  }
}

let counter = 0;
function inject(platform, injected, n) {
  for (let i = 0; i < n; i++) {
    counter++;
    const mobile = `13${String(counter).padStart(9, '0')}`;
    const taskId = String(8_000_000_000_000_000n + BigInt(counter));
    platform.injectReport({ account: 'demo', mobile, taskId, status: 10 });
    injected.set(`${mobile}:${taskId}`, performance.now());
  }
}

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** `variant`: { label, cli, journal } where journal is the relay.json `journal` (omitted for the baseline). */
async function run(name, store, variant) {
  const platform = await startEmulator({
    accounts: [{ userId: '12', account: 'demo', password: 'bench-pass' }],
  });
  const rx = await receiver();
  const dir = mkdtempSync(join(tmpdir(), 'sms-relay-bench-'));
  const configPath = join(dir, 'relay.json');
  const secret = generateWebhookSecret();
  writeFileSync(
    configPath,
    JSON.stringify({
      store: typeof store === 'string' ? { sqlite: join(dir, store) } : store,
      accounts: [
        {
          name: 'main',
          baseUrl: platform.url,
          userId: '12',
          account: 'demo',
          password: 'bench-pass',
          pollIntervalMs: POLL_MS,
          statusNum: 4000,
        },
      ],
      targets: [{ name: 'app', url: rx.url, secret }],
      delivery: { concurrency: 256, batchSize: 1000, connections: 128, idleMs: 20 },
      http: null,
      log: { level: 'info' },
      ...(variant.journal ? { journal: { dir: join(dir, 'journal'), ...variant.journal } } : {}),
    }),
  );
  const relay = startRelay(configPath, variant.cli);
  await relay.started;

  // Burst: BURST reports become available at once.
  const burst = new Map();
  const cpuBefore = cpuSnapshot(relay.child.pid);
  const t0 = performance.now();
  inject(platform, burst, BURST);
  await waitFor(() => rx.arrivals.size >= BURST, 120_000);
  const burstSeconds = (performance.now() - t0) / 1000;
  const cpu = cpuSpent(cpuBefore, cpuSnapshot(relay.child.pid));
  const times = [...burst.keys()].map((key) => rx.arrivals.get(key)).sort((a, b) => a - b);
  const flowSeconds = (times[times.length - 1] - times[0]) / 1000;

  // Steady flow: RATE reports/s for SECONDS; latency from injection to arrival.
  const steady = new Map();
  const start = performance.now();
  for (let tick = 0; tick < SECONDS * 20; tick++) {
    inject(platform, steady, RATE / 20);
    const next = start + (tick + 1) * 50;
    await sleep(Math.max(0, next - performance.now()));
  }
  await waitFor(() => rx.arrivals.size >= BURST + steady.size, 60_000);
  const latencies = [...steady].map(([key, at]) => rx.arrivals.get(key) - at).sort((a, b) => a - b);

  relay.child.kill('SIGTERM');
  await new Promise((resolve) => relay.child.on('exit', resolve));
  rx.close();
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    store: name,
    relay: variant.label,
    burst: BURST,
    'burst s': burstSeconds.toFixed(2),
    'events/s': Math.round(BURST / burstSeconds),
    'events/s after 1st': Math.round((BURST - 1) / flowSeconds),
    steady: `${RATE}/s x ${SECONDS}s`,
    'p50 ms': Math.round(percentile(latencies, 50)),
    'p99 ms': Math.round(percentile(latencies, 99)),
    'poll ms': POLL_MS,
    ...cpuColumns(cpu),
  };
}

/** CPU µs per event of each party, and the events/s all cores could carry at that cost. */
function cpuColumns(cpu) {
  const per = (ms) => Math.round((ms * 1000) / BURST);
  const total = cpu.relay + cpu.bench + cpu.postgres;
  return {
    'relay CPU µs/ev': per(cpu.relay),
    'bench+pg CPU µs/ev': `${per(cpu.bench)}+${per(cpu.postgres)}`,
    'all cores at that cost, ev/s': allCores(BURST, total),
  };
}

/**
 * The store's floor for the burst, in this process: what the relay cannot go below without
 * another store design. Per answer of 4000: the journal file written and fdatasync'ed, the
 * events inserted (one commit), the file removed; then every delivery claimed and completed
 * 256 at a time. No HTTP, no parsing, no signing.
 */
async function floorRun(name, open) {
  const dir = mkdtempSync(join(tmpdir(), 'sms-relay-floor-'));
  const store = await open(dir);
  const PER = 4000;
  const cpuBefore = cpuSnapshot(process.pid);
  const body = (i) =>
    JSON.stringify({
      type: 'sms.report',
      timestamp: new Date().toISOString(),
      data: {
        mobile: `13${String(i).padStart(9, '0')}`,
        taskId: String(8e18 + i),
        status: 'delivered',
        code: 'DELIVRD',
        account: 'main',
      },
    });
  const t0 = performance.now();
  for (let b = 0; b < BURST / PER; b++) {
    const events = Array.from({ length: PER }, (_, i) => ({
      id: `msg_${String(b).padStart(4, '0')}${randomBytes(11).toString('hex')}`.slice(0, 30),
      type: 'sms.report',
      body: body(b * PER + i),
    }));
    const file = join(dir, `entry-${b}.jrn`);
    const fd = openSync(file, 'w');
    writeSync(fd, events.map((e) => e.body).join('\n'));
    fdatasyncSync(fd);
    closeSync(fd);
    await store.insertBatch({ account: 'main', events, targets: ['app'], now: Date.now() });
    unlinkSync(file);
  }
  for (;;) {
    const claimed = await store.claim({ limit: 256, now: Date.now(), leaseMs: 30_000 });
    if (claimed.length === 0) break;
    await store.complete(
      claimed.map((c) => ({
        eventId: c.eventId,
        target: c.target,
        lease: c.lease,
        outcome: { kind: 'delivered' },
        status: 204,
        latencyMs: 1,
      })),
      Date.now(),
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  // The store work ran in this process: it is the relay's share, not the bench's.
  const cpu = { ...cpuSpent(cpuBefore, cpuSnapshot(process.pid)), bench: 0 };
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    store: name,
    relay: 'floor: journal+fsync, store only',
    burst: BURST,
    'burst s': seconds.toFixed(2),
    'events/s': Math.round(BURST / seconds),
    'events/s after 1st': '-',
    steady: '-',
    'p50 ms': '-',
    'p99 ms': '-',
    'poll ms': '-',
    ...cpuColumns(cpu),
  };
}

const variants = [
  ...(BASELINE_CLI ? [{ label: 'baseline build', cli: BASELINE_CLI }] : []),
  { label: 'journal, fsync', cli: CLI, journal: { fsync: true } },
  { label: 'journal, no fsync', cli: CLI, journal: { fsync: false } },
];
/** The goal column, and each relay row against its store's floor from the same run. */
function print(rows) {
  const floor = Object.fromEntries(
    rows.filter((r) => r.relay.startsWith('floor')).map((r) => [r.store, r['events/s']]),
  );
  console.table(
    rows.map((r) => ({
      ...r,
      goal: r.relay === 'journal, fsync' ? `>= ${GOAL[r.store]}` : '',
      'of floor': r.relay.startsWith('floor')
        ? ''
        : `${((100 * r['events/s']) / floor[r.store]).toFixed(0)}%`,
    })),
  );
}

const rows = [];
// BENCH_ONLY=sqlite or postgres runs one store.
const only = process.env.BENCH_ONLY;
if (only !== 'postgres') {
  rows.push(await floorRun('sqlite', (dir) => sqliteStore({ path: join(dir, 'floor.db') })));
  for (const variant of variants)
    rows.push(await run('sqlite', `relay-${rows.length}.db`, variant));
}
if (only === 'sqlite') {
  print(rows);
  process.exit(0);
}
{
  const schema = `relay_floor_${randomBytes(4).toString('hex')}`;
  try {
    rows.push(
      await floorRun('postgres', async () => {
        const store = await postgresStore({ connectionString: DATABASE_URL, schema });
        await store.init();
        return store;
      }),
    );
  } finally {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}
for (const variant of variants) {
  const schema = `relay_bench_${randomBytes(4).toString('hex')}`;
  try {
    rows.push(await run('postgres', { postgres: DATABASE_URL, schema }, variant));
  } finally {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}
print(rows);
