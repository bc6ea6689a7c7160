import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { type Emulator, startEmulator } from '@sms/emulator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openApiDocument } from './openapi.js';
import { type Relay, createRelay } from '../relay.js';
import { type Receiver, startReceiver, waitFor } from '../test-utils/receiver.js';
import { PASSWORD, memoryLogger, secret, tempDir } from '../test-utils/setup.js';

// /v1/openapi.json checked by a real validator (OpenAPI 3.1), then held to what the server
// answers: each answer of a few real calls must be a documented status whose JSON schema
// (JSON Schema 2020-12, Ajv) accepts the body.

const TOKEN = 'openapi-test-token-0123456789';
// biome-ignore lint/suspicious/noExplicitAny: a JSON document walked by path
type Json = Record<string, any>;

let platform: Emulator;
let rx: Receiver;
let relay: Relay;
let tmp: ReturnType<typeof tempDir>;
let served: Json;

beforeAll(async () => {
  platform = await startEmulator({
    accounts: [{ userId: '12', account: 'demo', password: PASSWORD, balance: 1000 }],
  });
  rx = await startReceiver({ secret });
  tmp = tempDir();
  const account = { userId: '12', account: 'demo', password: PASSWORD, pollIntervalMs: 50 };
  relay = createRelay(
    {
      store: { sqlite: join(tmp.dir, 'openapi.db') },
      journal: { dir: join(tmp.dir, 'journal') },
      accounts: [
        { name: 'main', baseUrl: platform.url, ...account },
        // Nothing listens there: its messages stay queued (retried), for the operator calls.
        { name: 'down', baseUrl: 'http://127.0.0.1:1', ...account },
      ],
      targets: [{ name: 'app', url: rx.url, secret }],
      gateway: { idleMs: 20, retryDelayMs: 60_000 },
      http: { port: 0, host: '127.0.0.1', token: TOKEN },
    },
    { logger: memoryLogger() },
  );
  await relay.start();
  served = (await (await fetch(`${relay.url}/v1/openapi.json`)).json()) as Json;
});

afterAll(async () => {
  await relay.stop();
  await platform.close();
  await rx.close();
  tmp.cleanup();
});

function validator(document: Json) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', (s: string) =>
    /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(s),
  );
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  ajv.addSchema(document, 'openapi');
  const pointer = (...parts: string[]) =>
    parts.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
  return {
    /** Errors of `body` against the schema at `openapi#/...parts`, or null. */
    check(body: unknown, ...parts: string[]) {
      const validate = ajv.compile({ $ref: `openapi#/${pointer(...parts)}` });
      return validate(body) ? null : validate.errors;
    },
  };
}

async function call(method: string, path: string, init: { body?: string; headers?: Json } = {}) {
  const response = await fetch(`${relay.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text) as Json };
}

it('is a valid OpenAPI 3.1 document (@apidevtools/swagger-parser), served as built', async () => {
  expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  const api = (await SwaggerParser.validate(structuredClone(served) as never)) as Json;
  expect(api['openapi']).toBe('3.1.0');
  // Every operation documents 401 (all of them need the token).
  for (const [path, item] of Object.entries(served['paths'] as Json)) {
    for (const [method, operation] of Object.entries(item as Json)) {
      expect(Object.keys(operation.responses), `${method} ${path}`).toContain('401');
    }
  }
});

it('documents what the server answers: each status, each body, the request shapes it accepts', async () => {
  const { check } = validator(served);
  /** The answer's status is documented for the operation and its body fits that schema. */
  const answers = (
    answer: { status: number; body: Json },
    path: string,
    method: string,
  ): unknown => {
    const responses = served['paths'][path][method]['responses'] as Json;
    expect(Object.keys(responses), `${method} ${path} answered ${answer.status}`).toContain(
      String(answer.status),
    );
    const errors = check(
      answer.body,
      'paths',
      path,
      method,
      'responses',
      String(answer.status),
      'content',
      'application/json',
      'schema',
    );
    return { status: answer.status, errors };
  };
  const ok = (status: number) => ({ status, errors: null });
  const request = {
    to: ['13800138000', '+86 139-0013-9000'],
    content: '【测试】openapi',
    metadata: { order: 7 },
    callbackUrl: null,
    ttl: '10m',
  };
  expect(check(request, 'components', 'schemas', 'SendRequest')).toBeNull();
  expect(
    check({ ...request, colour: 'red' }, 'components', 'schemas', 'SendRequest'),
  ).not.toBeNull();

  const created = await call('POST', '/v1/messages', {
    body: JSON.stringify(request),
    headers: { 'idempotency-key': 'openapi-1' },
  });
  expect(answers(created, '/v1/messages', 'post')).toEqual(ok(202));
  const replay = await call('POST', '/v1/messages', {
    body: JSON.stringify(request),
    headers: { 'idempotency-key': 'openapi-1' },
  });
  expect(answers(replay, '/v1/messages', 'post')).toEqual(ok(202));
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  expect(replay.headers.get('location')).toBe(`/v1/messages/${created.body['id']}`);
  const conflict = await call('POST', '/v1/messages', {
    body: JSON.stringify({ ...request, content: '【测试】other' }),
    headers: { 'idempotency-key': 'openapi-1' },
  });
  expect(answers(conflict, '/v1/messages', 'post')).toEqual(ok(409));
  for (const body of [
    JSON.stringify({ to: '1380013', content: '【测试】x' }),
    JSON.stringify({ to: '13800138000', content: '【测试】x', ttl: '400d' }),
  ]) {
    expect(answers(await call('POST', '/v1/messages', { body }), '/v1/messages', 'post')).toEqual(
      ok(422),
    );
  }
  const badKey = await call('POST', '/v1/messages', {
    body: JSON.stringify(request),
    headers: { 'idempotency-key': 'k'.repeat(256) },
  });
  expect(answers(badKey, '/v1/messages', 'post')).toEqual(ok(400));
  const notJson = await call('POST', '/v1/messages', { body: '{' });
  expect(answers(notJson, '/v1/messages', 'post')).toEqual(ok(400));
  const anonymous = await call('POST', '/v1/messages', {
    body: JSON.stringify(request),
    headers: { authorization: 'Bearer wrong-token-0123456789' },
  });
  expect(answers(anonymous, '/v1/messages', 'post')).toEqual(ok(401));

  const id = created.body['id'] as string;
  let message: { status: number; body: Json } = { status: 0, body: {} };
  await waitFor(
    async () => {
      message = await call('GET', `/v1/messages/${id}`);
      return (message.body['recipients'] as Json[]).every((r) => r['status'] === 'delivered');
    },
    10_000,
    'delivered',
  );
  expect(answers(message, '/v1/messages/{id}', 'get')).toEqual(ok(200));
  expect(message.body['taskId']).toBe(platform.sent()[0]!.taskId);
  const missing = await call('GET', '/v1/messages/sms_01M8P78SZRXXDVK39XE373TKFZ');
  expect(answers(missing, '/v1/messages/{id}', 'get')).toEqual(ok(404));
  const notResendable = await call('POST', `/v1/messages/${id}/resend`);
  expect(answers(notResendable, '/v1/messages/{id}/resend', 'post')).toEqual(ok(409));

  // A message whose platform is down stays queued: fail it, then resend it.
  const stuck = await call('POST', '/v1/messages', {
    body: JSON.stringify({ to: '13800138000', content: '【测试】down', account: 'down' }),
  });
  // Its attempt counts from the claim: wait for the outcome too (queued again for a retry a
  // minute away), or a loaded machine lets `fail` meet it `sending` (409, rightly).
  await waitFor(
    async () => {
      const { body } = await call('GET', `/v1/messages/${stuck.body['id']}`);
      return body['attempts'] === 1 && body['status'] === 'queued';
    },
    10_000,
    'first attempt recorded',
  );
  const failed = await call('POST', `/v1/messages/${stuck.body['id']}/fail`, {
    body: JSON.stringify({ reason: 'no platform' }),
  });
  expect(answers(failed, '/v1/messages/{id}/fail', 'post')).toEqual(ok(200));
  const queuedAgain = await call('POST', `/v1/messages/${stuck.body['id']}/resend`);
  expect(answers(queuedAgain, '/v1/messages/{id}/resend', 'post')).toEqual(ok(200));
  const shown = await call('GET', `/v1/messages/${stuck.body['id']}`);
  expect(answers(shown, '/v1/messages/{id}', 'get')).toEqual(ok(200));
});
