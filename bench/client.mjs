// SmsClient.send vs raw undici Pool.request vs global fetch, same server, same run.
// Rounds alternate between the three so background load hits each alike; the median round counts.
// Client CPU per request (this process only) is the steadier number on a shared machine.
import { fork } from 'node:child_process';
import { SmsClient } from '@sms/core';
import { Pool } from 'undici';

const DURATION_MS = Number(process.env.BENCH_MS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = [1, 16, 64];

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
  await new Promise((r) => setTimeout(r, 300));
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

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rows = [];
for (const concurrency of CONCURRENCY) {
  const samples = Object.fromEntries(Object.keys(contenders).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(contenders))
      samples[name].push(await measure(run, concurrency));
  }
  const pick = (name, key) => median(samples[name].map((sample) => sample[key]));
  const raw = pick('raw undici Pool', 'rps');
  const sms = pick('SmsClient.send', 'rps');
  rows.push({
    concurrency,
    'raw undici Pool req/s': Math.round(raw),
    'SmsClient.send req/s': Math.round(sms),
    'fetch req/s': Math.round(pick('fetch', 'rps')),
    'SmsClient / undici': `${((sms / raw) * 100).toFixed(0)}%`,
    'client CPU µs/req: undici': pick('raw undici Pool', 'cpuUs').toFixed(1),
    SmsClient: pick('SmsClient.send', 'cpuUs').toFixed(1),
    fetch: pick('fetch', 'cpuUs').toFixed(1),
  });
}
await pool.close();
await client.close();
server.kill();
console.log(
  `\nClient throughput: median of ${ROUNDS} alternating ${DURATION_MS} ms rounds, server in a child process on 127.0.0.1`,
);
console.table(rows);
