// Console benchmark: a store of BENCH_EVENTS events (default 1,000,000, over 30 days, with
// their deliveries and attempts) and BENCH_MESSAGES gateway messages (default 100,000), on
// SQLite and on PostgreSQL, served by sms-relay (child process, from dist). Times each call
// of the console page (p50 and max of BENCH_RUNS), then samples GET /healthz every 10 ms while
// a client refreshes the page like the browser does (every 2 s, all its calls at once), next to
// the same sampling with no console load in the same run. Run `pnpm build` first.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateWebhookSecret } from '@sms/core';
import { startEmulator } from '@sms/emulator';
import Database from 'better-sqlite3';
import pg from 'pg';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
/**
 * BENCH_BASELINE_CLI: another build's `dist/cli.js` (main before this change, say), measured
 * on the same filled store in the same run (BENCH_BASELINE_RUNS calls each, default 3).
 */
const BASELINE_CLI = process.env.BENCH_BASELINE_CLI;
const BASELINE_RUNS = Number(process.env.BENCH_BASELINE_RUNS ?? 3);
const STALL_SECONDS = Number(process.env.BENCH_STALL_SECONDS ?? 10);
const KINDS = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',');
const TOKEN = 'bench-token-0123456789abcdef';
const DAY = 86_400_000;
const SPAN = 30 * DAY;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/*
 * The data, the same on both stores. Event i (0 = oldest) is stored at NOW - SPAN + i * step;
 * 90 % are reports of account `main`, 10 % replies of `backup`. Every event has a delivery to
 * `app`, replies one to `audit` too. The newest 2,000 are pending (a tenth of them retrying),
 * one in 200 older ones is dead, the rest delivered. Each finished delivery has its attempts
 * (one in 20 needed a retry first). Messages: `sms_` + a zero-padded number (ids sort by
 * creation like ULIDs), 97 % sent, 3 % failed, one number each.
 */
const NOW = Date.now();
const step = Math.floor(SPAN / EVENTS);
const createdAt = (i) => NOW - SPAN + i * step;
const eventId = (i) => `msg_${String(i).padStart(26, '0')}`;
const messageId = (i) => `sms_${String(i).padStart(26, '0')}`;
const PENDING_FROM = EVENTS - 2000;

/** The statements that fill a store; `seq(n)` is a table of i = 0 .. n-1. */
function fillSql(seq, t, { mod, pad, concat, position = false }) {
  const ev = (i) => concat(`'msg_'`, pad(i));
  const at = (i) => `${NOW - SPAN} + ${i} * ${step}`;
  const reply = (i) => `${mod(i, 10)} = 0`;
  const state = (i) =>
    `CASE WHEN ${i} >= ${PENDING_FROM} THEN 'pending' WHEN ${mod(i, 200)} = 7 THEN 'dead' ELSE 'delivered' END`;
  const body = (i) =>
    concat(
      `'{"type":"'`,
      `CASE WHEN ${reply(i)} THEN 'sms.reply' ELSE 'sms.report' END`,
      `'","data":{"mobile":"1380013'`,
      pad(mod(i, 10000), 4),
      `'","status":"DELIVRD","errorCode":"DELIVRD","taskId":"'`,
      pad(i, 10),
      `'","content":"bench reply"}}'`,
    );
  const deliveries = (target, where) => `
    INSERT INTO ${t}deliveries (event_id, target, status, attempts, next_attempt_at, updated_at, delivered_at)
    SELECT ${ev('i')}, '${target}', ${state('i')},
      CASE WHEN ${state('i')} = 'dead' THEN 8 WHEN ${state('i')} = 'pending' AND ${mod('i', 10)} = 3 THEN 1 ELSE 0 END,
      ${NOW + DAY}, ${at('i')} + 900,
      CASE WHEN ${state('i')} = 'delivered' THEN ${at('i')} + 900 END
    FROM ${seq(EVENTS)} WHERE ${where}`;
  const attempts = (target, where, at, outcome) => `
    INSERT INTO ${t}attempts (event_id, target, at, outcome, status, latency_ms, error, response)
    SELECT ${ev('i')}, '${target}', ${at}, ${outcome},
      CASE WHEN ${outcome} = 'delivered' THEN 200 ELSE 502 END, 20 + ${mod('i', 80)}, NULL, 'ok'
    FROM ${seq(EVENTS)} WHERE ${where}`;
  const finished = `i < ${PENDING_FROM}`;
  const outcome = `CASE WHEN ${state('i')} = 'dead' THEN 'dead' ELSE 'delivered' END`;
  return [
    `INSERT INTO ${t}events (id, type, account, body, created_at)
     SELECT ${ev('i')}, CASE WHEN ${reply('i')} THEN 'sms.reply' ELSE 'sms.report' END,
       CASE WHEN ${reply('i')} THEN 'backup' ELSE 'main' END, ${body('i')}, ${at('i')}
     FROM ${seq(EVENTS)}`,
    deliveries('app', 'true'),
    deliveries('audit', reply('i')),
    attempts('app', `${finished} AND ${mod('i', 20)} = 5`, `${at('i')} + 300`, `'retry'`),
    attempts('app', finished, `${at('i')} + 900`, outcome),
    attempts('audit', `${finished} AND ${reply('i')}`, `${at('i')} + 900`, outcome),
    `INSERT INTO ${t}gw_messages (id, request_hash, account, mobiles, content, ext_no, status,
       attempts, next_attempt_at, task_id, error_code, error, created_at, updated_at, sent_at)
     SELECT ${concat(`'sms_'`, pad('i'))}, 'h', 'main', ${concat(`'["1380013'`, pad(mod('i', 10000), 4), `'"]'`)},
       'bench message', '', CASE WHEN ${mod('i', 33)} = 0 THEN 'failed' ELSE 'sent' END, 1, 0,
       ${pad('i', 10)}, CASE WHEN ${mod('i', 33)} = 0 THEN 'AUTH_FAILED' END, NULL,
       ${NOW - SPAN} + i * ${Math.floor(SPAN / MESSAGES)}, ${NOW - SPAN} + i * ${Math.floor(SPAN / MESSAGES)},
       ${NOW - SPAN} + i * ${Math.floor(SPAN / MESSAGES)}
     FROM ${seq(MESSAGES)}`,
    `INSERT INTO ${t}gw_recipients (message_id, ${position ? 'position, ' : ''}mobile, account, task_id, status, updated_at)
     SELECT ${concat(`'sms_'`, pad('i'))}, ${position ? '0, ' : ''}${concat(`'1380013'`, pad(mod('i', 10000), 4))}, 'main',
       ${pad('i', 10)}, 'delivered', ${NOW}
     FROM ${seq(MESSAGES)}`,
  ];
}

async function fillSqlite(path) {
  const db = new Database(path);
  db.pragma('synchronous = OFF');
  const seq = (n) =>
    `(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ${n - 1}) SELECT i FROM s)`;
  const statements = fillSql(seq, '', {
    mod: (a, b) => `(${a}) % ${b}`,
    pad: (i, w = 26) => `printf('%0${w}d', ${i})`,
    concat: (...parts) => parts.join(' || '),
  });
  db.transaction(() => {
    for (const sql of statements) db.exec(sql);
  })();
  db.exec('ANALYZE');
  db.close();
}

async function fillPostgres(schema) {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const seq = (n) => `generate_series(0::bigint, ${n - 1}) AS g(i)`;
    const statements = fillSql(seq, `"${schema}".`, {
      mod: (a, b) => `((${a}) % ${b})`,
      pad: (i, w = 26) => `lpad((${i})::text, ${w}, '0')`,
      concat: (...parts) => `(${parts.join(' || ')})`,
      position: true,
    });
    await client.query('BEGIN');
    await client.query('SET LOCAL synchronous_commit = off');
    for (const sql of statements) await client.query(sql);
    await client.query('COMMIT');
    await client.query(`VACUUM ANALYZE "${schema}".events`);
    for (const table of ['deliveries', 'attempts', 'gw_messages', 'gw_recipients']) {
      await client.query(`VACUUM ANALYZE "${schema}".${table}`);
    }
  } finally {
    await client.end();
  }
}

function startRelay(configPath, cli = CLI) {
  // BENCH_RELAY_NODE_ARGS: node flags for the relay (`--cpu-prof`, to see where time goes).
  const nodeArgs = (process.env.BENCH_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, cli, 'run', '--config', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  const started = new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const line = log.split('\n').find((l) => l.includes('"relay started"'));
      if (line) resolve(JSON.parse(line).http.replace('0.0.0.0', '127.0.0.1'));
    });
    child.on('exit', (code) => reject(new Error(`relay exited ${code}: ${log.slice(-2000)}`)));
  });
  started.catch(() => {});
  const stopped = new Promise((resolve) => child.on('exit', resolve));
  return {
    started,
    stop: async () => {
      child.kill('SIGTERM');
      await stopped;
    },
  };
}

async function get(url, path) {
  const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${body}`);
  return body;
}

async function timed(url, path, runs = RUNS) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await get(url, path);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)], max: times.at(-1) };
}

/** Samples GET /healthz every 10 ms for `seconds`: the slowest answer, p99, and how many over 50 ms. */
async function sampleHealth(url, seconds) {
  const end = performance.now() + seconds * 1000;
  const took = [];
  while (performance.now() < end) {
    const start = performance.now();
    const response = await fetch(`${url}/healthz`);
    await response.text();
    const ms = performance.now() - start;
    took.push(ms);
    await sleep(Math.max(0, 10 - ms));
  }
  took.sort((a, b) => a - b);
  return {
    max: took.at(-1) ?? Number.NaN,
    p99: took[Math.floor(took.length * 0.99)] ?? Number.NaN,
    over50: took.filter((ms) => ms > 50).length,
    samples: took.length,
  };
}

/**
 * The relay's own view of its event loop: prom-client's `nodejs_eventloop_lag_max_seconds`
 * (monitorEventLoopDelay, reset by each scrape), in ms since the previous scrape.
 */
async function loopDelayMax(url) {
  const text = await get(url, '/metrics');
  const value = (name) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(`${name} `))
        ?.split(' ')[1] ?? Number.NaN,
    ) * 1000;
  return {
    max: value('nodejs_eventloop_lag_max_seconds'),
    p99: value('nodejs_eventloop_lag_p99_seconds'),
  };
}

const cursor = (text) => Buffer.from(text).toString('base64url');

/** The page's calls, as the browser makes them on each refresh (an event and a message open). */
const pageCalls = [
  '/api/console/overview?window=15m',
  '/api/console/events?limit=50',
  `/api/console/events/${eventId(EVENTS - 10)}`,
  '/api/console/messages?limit=50',
  `/api/console/messages/${messageId(MESSAGES - 10)}`,
];

/** Times the page's calls and samples /healthz idle and while the page refreshes. */
async function measure(relay, results, runs = RUNS) {
  try {
    const url = await relay.started;
    // Every window of the overview, and each list and detail of the page.
    const deep = EVENTS / 2;
    const calls = [
      ...['15m', '1h', '6h', '24h'].map((w) => [
        `overview ${w}`,
        `/api/console/overview?window=${w}`,
      ]),
      ['events, first page', '/api/console/events?limit=50'],
      [
        `events, deep page (cursor at ${deep.toLocaleString('en')})`,
        `/api/console/events?limit=50&before=${cursor(`${createdAt(deep)}:${eventId(deep)}`)}`,
      ],
      ['events, offset 29,000 (old paging)', '/api/console/events?limit=50&offset=29000'],
      ['events of account backup', '/api/console/events?limit=50&account=backup'],
      ['events with a dead delivery', '/api/console/events?limit=50&state=dead'],
      ['event detail', `/api/console/events/${eventId(EVENTS - 10)}`],
      ['messages, first page', '/api/console/messages?limit=50'],
      [
        `messages, deep page (cursor at ${(MESSAGES / 2).toLocaleString('en')})`,
        `/api/console/messages?limit=50&before=${cursor(messageId(MESSAGES / 2))}`,
      ],
      ['messages failed', '/api/console/messages?limit=50&status=failed'],
      ['message detail', `/api/console/messages/${messageId(MESSAGES - 10)}`],
      ['GET /v1/messages/:id', `/v1/messages/${messageId(MESSAGES - 10)}`],
    ];
    for (const [, path] of calls) await get(url, path); // warm up
    for (const [name, path] of calls) results.set(name, await timed(url, path, runs));

    await loopDelayMax(url);
    const idle = await sampleHealth(url, STALL_SECONDS);
    const idleLoop = await loopDelayMax(url);
    let refreshing = true;
    let refreshes = 0;
    let slowestRefresh = 0;
    const refresher = (async () => {
      while (refreshing) {
        const start = performance.now();
        await Promise.all(pageCalls.map((path) => get(url, path)));
        const took = performance.now() - start;
        slowestRefresh = Math.max(slowestRefresh, took);
        refreshes++;
        await sleep(Math.max(0, 2000 - took));
      }
    })();
    // The first refresh starts with the sampling: the stall is measured while it runs.
    const loaded = await sampleHealth(url, STALL_SECONDS);
    refreshing = false;
    await refresher;
    const loadedLoop = await loopDelayMax(url);
    const pair = (name, a, b) => results.set(name, { text: `${a.toFixed(1)} / ${b.toFixed(1)}` });
    pair('/healthz max, idle / page refreshing every 2 s', idle.max, loaded.max);
    pair('/healthz p99, idle / refreshing', idle.p99, loaded.p99);
    results.set('/healthz answers over 50 ms, idle / refreshing', {
      text: `${idle.over50} of ${idle.samples} / ${loaded.over50} of ${loaded.samples}`,
    });
    pair("relay's event loop delay max, idle / refreshing", idleLoop.max, loadedLoop.max);
    pair("relay's event loop delay p99, idle / refreshing", idleLoop.p99, loadedLoop.p99);
    results.set('page refresh (all calls at once), slowest', { p50: slowestRefresh });
    results.set('refreshes during the sampling', { p50: refreshes, count: true });
  } finally {
    await relay.stop();
  }
}

async function run(kind, platform) {
  const dir = mkdtempSync(join(tmpdir(), 'sms-console-bench-'));
  const schema = `console_bench_${randomBytes(4).toString('hex')}`;
  const store =
    kind === 'sqlite' ? { sqlite: join(dir, 'relay.db') } : { postgres: DATABASE_URL, schema };
  const configPath = join(dir, 'relay.json');
  const account = (name) => ({
    name,
    baseUrl: platform.url,
    userId: '12',
    account: name,
    password: 'bench-password',
    reports: false,
    replies: false,
  });
  writeFileSync(
    configPath,
    JSON.stringify({
      store,
      accounts: [account('main'), account('backup')],
      targets: [
        { name: 'app', url: 'http://127.0.0.1:9/hooks', secret: generateWebhookSecret() },
        {
          name: 'audit',
          url: 'http://127.0.0.1:9/audit',
          secret: generateWebhookSecret(),
          events: ['sms.reply'],
        },
      ],
      retentionMs: 400 * DAY,
      http: { port: 0, host: '127.0.0.1', token: TOKEN },
      log: { level: 'info' },
    }),
  );
  const results = new Map();
  try {
    // The relay makes the schema (tables, indexes, counters); the bench fills it, stopped.
    const first = startRelay(configPath);
    await first.started;
    await first.stop();
    const fillStart = performance.now();
    if (kind === 'sqlite') await fillSqlite(store.sqlite);
    else await fillPostgres(schema);
    results.set('fill (s)', { p50: (performance.now() - fillStart) / 1000 });

    await measure(startRelay(configPath), results);
    if (BASELINE_CLI) {
      results.baseline = new Map();
      await measure(startRelay(configPath, BASELINE_CLI), results.baseline, BASELINE_RUNS);
    }
  } finally {
    if (kind === 'postgres' && process.env.BENCH_KEEP_SCHEMA) {
      console.error(`console bench: kept schema ${schema}`);
    } else if (kind === 'postgres') {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

const goal = (name) => {
  if (name.startsWith('/healthz max') || name.startsWith("relay's event loop delay max")) {
    return 'refreshing <= 50 ms';
  }
  return /^(overview|events|event detail|messages|message detail|GET)/.test(name) ? '< 100 ms' : '';
};

const platform = await startEmulator({ port: 0, host: '127.0.0.1' });
try {
  const byKind = {};
  for (const kind of KINDS) {
    console.error(`console bench: filling and measuring ${kind} …`);
    byKind[kind] = await run(kind, platform);
  }
  const names = [...new Set(Object.values(byKind).flatMap((r) => [...r.keys()]))];
  const cell = (r) => {
    if (!r) return '';
    if (r.count) return String(r.p50);
    if (r.text) return r.text;
    return r.max === undefined ? r.p50.toFixed(1) : `${r.p50.toFixed(1)} (max ${r.max.toFixed(1)})`;
  };
  if (BASELINE_CLI) console.log(`\nbaseline: ${BASELINE_CLI}, ${BASELINE_RUNS} calls each`);
  console.log(
    `\nConsole: ${EVENTS.toLocaleString('en')} events over 30 days, ${MESSAGES.toLocaleString('en')} messages; ms, p50 (max) of ${RUNS} calls\n`,
  );
  const columns = KINDS.flatMap((k) => {
    const label = k === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    const own = [{ title: `${label} ms`, results: byKind[k] }];
    return byKind[k].baseline
      ? [...own, { title: `${label} ms, baseline`, results: byKind[k].baseline }]
      : own;
  });
  const header = ['call', ...columns.map((c) => c.title), 'goal'];
  const rows = names.map((name) => [
    name,
    ...columns.map((c) => cell(c.results.get(name))),
    goal(name),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
} finally {
  await platform.close();
}
