// Recovery after a crash: a relay has claimed N reply deliveries (the receiver holds them), it is
// SIGKILLed, the receiver recovers and the relay is started again at once. Prints, per store,
// the time from the restart to the last late delivery, next to the lease those deliveries would
// otherwise have waited out (delivery.leaseMs: 2 x timeoutMs + 5 s = 35 s by default).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateWebhookSecret } from '@sms/core';
import { startEmulator } from '@sms/emulator';
import pg from 'pg';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CLAIMED = Number(process.env.BENCH_RECOVERY_CLAIMED ?? 30);
const ROUNDS = Number(process.env.BENCH_RECOVERY_ROUNDS ?? 3);
const LEASE_MS = 2 * 15_000 + 5_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

function startRelay(configPath) {
  const child = spawn(process.execPath, [CLI, 'run', '--config', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const started = new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      log += chunk;
      if (log.includes('"relay started"')) resolve(performance.now());
    });
    child.on('exit', (code) => reject(new Error(`relay exited ${code}: ${log}`)));
  });
  started.catch(() => {});
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return { child, started, exited };
}

async function round(storeName, store, platform, dir, n) {
  let holding = true;
  const arrivals = new Map();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      if (holding) return; // claimed, never answered
      if (!arrivals.has(id)) arrivals.set(id, performance.now());
      res.writeHead(204).end();
    });
  });
  let held = 0;
  server.on('request', () => {
    if (holding) held++;
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const config = join(dir, `${storeName}-${n}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      store,
      journal: { dir: join(dir, `${storeName}-${n}.pull-journal`) },
      accounts: [
        {
          name: 'main',
          baseUrl: platform.url,
          userId: '12',
          account: 'demo',
          password: 'secret',
          pollIntervalMs: 50,
          reports: false,
        },
      ],
      targets: [
        {
          name: 'app',
          url: `http://127.0.0.1:${server.address().port}/hooks`,
          secret: generateWebhookSecret(),
        },
      ],
      log: { level: 'info' },
    }),
  );
  const first = startRelay(config);
  await first.started;
  for (let i = 0; i < CLAIMED; i++) {
    platform.injectReply({ account: 'demo', mobile: '13800138000', content: `r${n} ${i}` });
  }
  await until(() => held >= CLAIMED, 30_000, 'every delivery claimed');
  first.child.kill('SIGKILL');
  await first.exited;
  holding = false;
  const second = startRelay(config);
  const restartedAt = performance.now();
  await second.started;
  await until(() => arrivals.size >= CLAIMED, 60_000, 'the late deliveries');
  const last = Math.max(...arrivals.values());
  second.child.kill('SIGTERM');
  await second.exited;
  server.closeAllConnections();
  server.close();
  return last - restartedAt;
}

const platform = await startEmulator({
  accounts: [{ userId: '12', account: 'demo', password: 'secret', balance: 1_000_000 }],
});
const dir = mkdtempSync(join(tmpdir(), 'sms-relay-recovery-'));
const rows = [];
try {
  const schema = `relay_recovery_${randomBytes(4).toString('hex')}`;
  const stores = [
    ['sqlite', (n) => ({ sqlite: join(dir, `relay-${n}.db`) })],
    ['postgres', () => ({ postgres: DATABASE_URL, schema })],
  ];
  for (const [name, store] of stores) {
    const times = [];
    for (let n = 0; n < ROUNDS; n++) times.push(await round(name, store(n), platform, dir, n));
    rows.push({
      store: name,
      claimed: CLAIMED,
      rounds: ROUNDS,
      'restart → last late delivery, ms (max)': Math.max(...times).toFixed(0),
      'without the take-over (lease), ms': LEASE_MS,
    });
  }
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
} finally {
  await platform.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\nRecovery: ${CLAIMED} claimed deliveries, relay SIGKILLed, restarted at once`);
console.table(rows);
