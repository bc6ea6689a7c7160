/**
 * The gateway's OpenAPI document as another team consumes it: the document the relay serves is
 * turned into types by openapi-typescript, a client written with openapi-fetch sends the
 * documented body (with `metadata`) and is compiled by `tsc --strict`, then run against a real
 * relay and emulator; the report webhook carries the metadata back. Redocly's recommended rules
 * lint the same document.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type SmsWebhookEvent, generateWebhookSecret, verifyWebhook } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { type Relay, createRelay } from '@sms/webhook-relay';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const TOKEN = 'openapi-client-token-0123456789';
const secret = generateWebhookSecret();
// Inside the package, so the compiled client resolves openapi-fetch from its node_modules.
const work = join(import.meta.dirname, '..', '.work');
const bin = (name: string) => join(import.meta.dirname, '..', 'node_modules', '.bin', name);

let platform: Emulator;
let relay: Relay;
const events: SmsWebhookEvent[] = [];
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    events.push(verifyWebhook({ headers: req.headers, body, secrets: secret }));
    res.writeHead(204).end();
  });
});

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  platform = await startEmulator({ report: { delayMs: 0 } });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  relay = createRelay({
    store: { sqlite: join(work, 'relay.db') },
    journal: { dir: join(work, 'journal') },
    accounts: [
      {
        name: 'main',
        baseUrl: platform.url,
        userId: '12',
        account: 'demo',
        password: 'secret',
        pollIntervalMs: 50,
      },
    ],
    targets: [{ name: 'app', url: `http://127.0.0.1:${port}/hooks`, secret }],
    gateway: { idleMs: 20 },
    http: { port: 0, host: '127.0.0.1', token: TOKEN },
    log: { level: 'error' },
  });
  await relay.start();
  const document = await (await fetch(`${relay.url}/v1/openapi.json`)).text();
  writeFileSync(join(work, 'openapi.json'), document);
});

afterAll(async () => {
  await relay?.stop();
  await platform?.close();
  receiver.close();
  rmSync(work, { recursive: true, force: true });
});

const CLIENT = `
import createClient from 'openapi-fetch';
import type { paths } from './schema.js';

const client = createClient<paths>({
  baseUrl: process.env.RELAY_URL,
  headers: { Authorization: \`Bearer \${process.env.RELAY_TOKEN}\` },
});

const sent = await client.POST('/v1/messages', {
  params: { header: { 'Idempotency-Key': 'order-1001' } },
  body: {
    to: ['13800138000'],
    content: '【示例】您的订单 1001 已发货',
    metadata: { order: 1001, customer: { id: 'c-7', vip: true }, tags: ['shipping'] },
  },
});
if (!sent.data) throw new Error(\`not accepted: \${sent.response.status}\`);
const id: string = sent.data.id;

let message;
for (let i = 0; i < 100; i++) {
  const got = await client.GET('/v1/messages/{id}', { params: { path: { id } } });
  if (!got.data) throw new Error(\`GET: \${got.response.status}\`);
  message = got.data;
  if (message.status === 'sent' && message.recipients.every((r) => r.status === 'delivered')) break;
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const order: unknown = message?.metadata?.order;
console.log(JSON.stringify({ status: sent.response.status, id, message, order }));
`;

it('a client generated from /v1/openapi.json sends metadata, compiles under tsc --strict and runs', {
  timeout: 120_000,
}, async () => {
  const document = JSON.parse(await (await fetch(`${relay.url}/v1/openapi.json`)).text()) as object;
  writeFileSync(join(work, 'schema.ts'), astToString(await openapiTS(document as never)));
  writeFileSync(join(work, 'client.ts'), CLIENT);
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2022', 'DOM'],
        skipLibCheck: false,
        outDir: 'out',
      },
      files: ['client.ts', 'schema.ts'],
    }),
  );
  writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module' }));
  const compiled = await run(bin('tsc'), ['-p', join(work, 'tsconfig.json')]).catch(
    (error: { stdout?: string }) => ({ failed: error.stdout ?? String(error) }),
  );
  expect(compiled).not.toHaveProperty('failed');

  const { stdout } = await run(process.execPath, [join(work, 'out', 'client.js')], {
    env: { ...process.env, RELAY_URL: relay.url ?? undefined, RELAY_TOKEN: TOKEN },
  });
  const result = JSON.parse(stdout) as {
    status: number;
    id: string;
    order: unknown;
    message: { status: string; metadata: unknown; recipients: Array<{ status: string }> };
  };
  expect(result.status).toBe(202);
  expect(result.order).toBe(1001);
  expect(result.message.status).toBe('sent');
  expect(result.message.metadata).toEqual({
    order: 1001,
    customer: { id: 'c-7', vip: true },
    tags: ['shipping'],
  });
  expect(result.message.recipients.map((r) => r.status)).toEqual(['delivered']);
  // What reached the platform, from its own record: one send of that text.
  expect(platform.sent().map((m) => [m.mobiles, m.content])).toEqual([
    [['13800138000'], '【示例】您的订单 1001 已发货'],
  ]);
  // The report webhook carries the message id and the metadata back.
  await expect.poll(() => events.length, { timeout: 10_000 }).toBeGreaterThan(0);
  expect(events[0]?.data).toMatchObject({
    messageId: result.id,
    metadata: { order: 1001, customer: { id: 'c-7', vip: true } },
  });
});

it("Redocly's recommended rules find no error and no warning in the document", {
  timeout: 120_000,
}, async () => {
  const { stdout } = await run(
    bin('redocly'),
    ['lint', join(work, 'openapi.json'), '--extends=recommended', '--format=json'],
    { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  const report = JSON.parse(stdout) as {
    totals: { errors: number; warnings: number };
    problems: Array<{ ruleId: string; message: string }>;
  };
  expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
  expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
});
