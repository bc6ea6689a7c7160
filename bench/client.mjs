// SmsClient.send vs raw undici Pool.request vs global fetch, same server, same run.
// Each round measures the three back to back (in turns, so background load hits each alike)
// after a discarded warm-up round. The goal is client CPU per request (this process only,
// the steadier number on a shared machine): SmsClient / undici is taken per round, and the
// median round's ratio counts; the spread is the lowest and highest round.
import { fork } from 'node:child_process';
import { SmsClient } from '@sms/core';
import { Pool } from 'undici';

const DURATION_MS = Number(process.env.BENCH_MS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const CONCURRENCY = [1, 16, 64];
/** Client CPU per request, SmsClient / raw undici Pool, at this concurrency. */
const GOAL = { concurrency: 16, ratio: 1.05 };

const server = fork(new URL('./server.mjs', import.meta.url));
const port = await new Promise((resolve) => server.once('message', resolve));
const origin = `http://127.0.0.1:${port}`;
const form =
  'action=send&userid=12&account=demo&password=secret&mobile=13800138000&content=%E3%80%90%E7%AD%BE%E5%90%8D%E3%80%91hello&sendTime=&extno=';

async function measure(run, concurrency) {
  let count = 0;
  let stop = false;
  const loop = async () => {
    while (!stop) {
      await run();
      count++;
    }
  };
  const workers = Array.from({ length: concurrency }, loop);
  await new Promise((r) => setTimeout(r, 200));
  const startCount = count;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await new Promise((r) => setTimeout(r, DURATION_MS));
  const cpu = process.cpuUsage(cpuStart);
  const done = count - startCount;
  const seconds = (performance.now() - start) / 1000;
  stop = true;
  await Promise.all(workers);
  return { rps: done / seconds, cpuUs: (cpu.user + cpu.system) / done };
}

const pool = new Pool(origin, { connections: 64, pipelining: 1 });
const client = new SmsClient({
  baseUrl: origin,
  userId: '12',
  account: 'demo',
  password: 'secret',
});
const contenders = {
  'raw undici Pool': async () => {
    const { body } = await pool.request({
      method: 'POST',
      path: '/sms.aspx',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    await body.text();
  },
  'SmsClient.send': () => client.send({ mobiles: ['13800138000'], content: '【签名】hello' }),
  fetch: async () => {
    const response = await fetch(`${origin}/sms.aspx`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    await response.text();
  },
};
const names = Object.keys(contenders);

const sorted = (values) => [...values].sort((a, b) => a - b);
const median = (values) => sorted(values)[Math.floor(values.length / 2)];

// Warm-up: compile every path and open the connections; nothing here is counted.
for (const concurrency of CONCURRENCY)
  for (const run of Object.values(contenders)) await measure(run, concurrency);

const rows = [];
for (const concurrency of CONCURRENCY) {
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const ratios = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate who goes first, so no contender always follows the same one.
    for (let k = 0; k < names.length; k++) {
      const name = names[(round + k) % names.length];
      samples[name].push(await measure(contenders[name], concurrency));
    }
    ratios.push(samples['SmsClient.send'][round].cpuUs / samples['raw undici Pool'][round].cpuUs);
  }
  const pick = (name, key) => median(samples[name].map((sample) => sample[key]));
  const ratio = median(ratios);
  const goal = concurrency === GOAL.concurrency;
  rows.push({
    concurrency,
    'undici req/s': Math.round(pick('raw undici Pool', 'rps')),
    'SmsClient req/s': Math.round(pick('SmsClient.send', 'rps')),
    'fetch req/s': Math.round(pick('fetch', 'rps')),
    'CPU µs/req: undici': pick('raw undici Pool', 'cpuUs').toFixed(1),
    SmsClient: pick('SmsClient.send', 'cpuUs').toFixed(1),
    fetch: pick('fetch', 'cpuUs').toFixed(1),
    'CPU SmsClient / undici': `${ratio.toFixed(3)}x`,
    'rounds min-max': `${sorted(ratios)[0].toFixed(2)}-${sorted(ratios).at(-1).toFixed(2)}`,
    goal: goal ? `<= ${GOAL.ratio.toFixed(2)}x` : '',
    met: goal ? (ratio <= GOAL.ratio ? 'yes' : 'NO') : '',
  });
}
await pool.close();
await client.close();
server.kill();
console.log(
  `\nClient CPU per request and throughput: median of ${ROUNDS} rounds of ${DURATION_MS} ms per contender (after a warm-up round), server in a child process on 127.0.0.1`,
);
console.table(rows);
