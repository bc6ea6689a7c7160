import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type RunningApp, startApp } from './start-app';

const account = { userId: '12', account: 'demo', password: 'secret', balance: 100 };

let emulator: Emulator;
let running: RunningApp;
let url: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, accounts: [account] });
  running = await startApp({
    SMS_BASE_URL: emulator.url,
    SMS_USERID: account.userId,
    SMS_ACCOUNT: account.account,
    SMS_PASSWORD: account.password,
    SMS_POLL_INTERVAL_MS: '50',
  });
  url = running.url;
});

afterAll(async () => {
  running?.kill();
  await emulator?.close();
});

describe('examples/nest-app (compiled CJS) against the emulator', () => {
  it('sends an SMS through POST /sms', async () => {
    const response = await fetch(`${url}/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mobile: '13800138000', content: '【示例】验证码 1234' }),
    });
    expect(response.status).toBe(201);
    const result = (await response.json()) as { taskId: string; successCounts: number };
    expect(result.successCounts).toBe(1);
    expect(emulator.sent({ account: 'demo' }).map((m) => m.taskId)).toEqual([result.taskId]);
  });

  it('answers a bad mobile number with 400 and the field, not 500', async () => {
    const response = await fetch(`${url}/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mobile: '12345', content: '【示例】验证码 1234' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      statusCode: 400,
      code: 'VALIDATION',
      field: 'mobiles',
    });
    expect(emulator.sent({ account: 'demo' })).toHaveLength(1);
  });

  it('maps blocked words to 422 with the code and the words', async () => {
    const response = await fetch(`${url}/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mobile: '13800138000', content: '【示例】六合彩' }),
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ code: 'ILLEGAL_KEYWORD', words: ['六合彩'] });
  });

  it('answers a send whose outcome is unknown with 504 saying it may have been sent', async () => {
    emulator.setFault({ type: 'reset', action: 'send', times: 1 });
    const response = await fetch(`${url}/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mobile: '13900139000', content: '【示例】验证码 5678' }),
    });
    expect(response.status).toBe(504);
    const text = await response.text();
    expect(text).not.toContain(account.password);
    expect(JSON.parse(text)).toMatchObject({ code: 'UNKNOWN_OUTCOME', mayHaveBeenSent: true });
    expect(emulator.sent({ account: 'demo' })).toHaveLength(2);
  });

  it('shows the balance', async () => {
    const balance = (await (await fetch(`${url}/sms/balance`)).json()) as { overage: number };
    // Two sends billed: the one answered and the one whose answer was lost.
    expect(balance).toMatchObject({ payType: 'prepaid', overage: 98 });
  });

  it('receives the delivery report and a reply in the decorated handlers', async () => {
    emulator.injectReply({ account: 'demo', mobile: '13800138000', content: '收到，谢谢' });
    type Inbox = { reports: Array<{ status: string }>; replies: Array<{ content: string }> };
    const inbox = await eventually(
      async () => (await (await fetch(`${url}/sms/inbox`)).json()) as Inbox,
      (value) => value.reports.length === 2 && value.replies.length === 1,
    );
    expect(inbox.reports[0]?.status).toBe('delivered');
    expect(inbox.replies[0]?.content).toBe('收到，谢谢');
    expect(emulator.account('demo')).toMatchObject({ pendingReports: 0, pendingReplies: 0 });
  });

  it('reports health up, then down when the platform breaks', async () => {
    const up = await fetch(`${url}/health`);
    expect(up.status).toBe(200);
    emulator.setFault({ type: 'html500' });
    try {
      const down = await fetch(`${url}/health`);
      expect(down.status).toBe(503);
    } finally {
      emulator.setFault(null);
    }
  });

  it('has no webhook route without SMS_WEBHOOK_SECRET', async () => {
    const response = await fetch(`${url}/hooks/sms`, { method: 'POST' });
    expect(response.status).toBe(404);
  });

  // The worst moment to stop: a reply poll is in flight (pull-once: the platform hands the
  // reply out once). The shutdown hooks must let it land in the handler, then stop polling.
  it('shuts down on SIGTERM: a poll in flight is handled, then the pollers stop and the process exits', async () => {
    const app = running.process;
    emulator.setFault({ type: 'latency', ms: 500, path: '/callApi.aspx', times: 1 });
    emulator.injectReply({ account: 'demo', mobile: '13800138001', content: '退订' });
    const inFlight = await eventually(
      async () => emulator.requests().some((r) => r.fault === 'latency'),
      (seen) => seen,
    );
    expect(inFlight).toBe(true);
    const before = running.output().length;
    const started = Date.now();
    const exited = once(app, 'exit');
    app.kill('SIGTERM');
    await exited;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(app.signalCode ?? app.exitCode).toBe('SIGTERM');
    const output = running.output();
    // The hooks ran: the answer in flight reached @OnSmsReply() before the process exited.
    expect(output).toContain('reply from 13800138001: 退订');
    expect(emulator.account('demo')).toMatchObject({ pendingReplies: 0 });
    // And no poll started after it: it is the last request the platform saw, then nothing.
    const requests = emulator.requests();
    expect(requests.at(-1)).toMatchObject({ path: '/callApi.aspx', fault: 'latency' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(emulator.requests()).toHaveLength(requests.length);
    expect(output).not.toContain(account.password);
    expect(output).not.toContain('dead letter');
    // Nothing went wrong while stopping (a poll on a closed client would log a failed fetch).
    expect(output.slice(before)).not.toMatch(/WARN|ERROR/);
  });
});

// The same shutdown in process (`app.close()`, what SIGTERM triggers), where the client can
// be watched: the pollers stop first (a fetch in flight settles), then the client closes.
describe('app.close() on the compiled app', () => {
  const require = createRequire(import.meta.url);
  require('reflect-metadata');
  const { NestFactory } = require('@nestjs/core') as typeof import('@nestjs/core');
  const { SmsClient } = require('@sms/core') as typeof import('@sms/core');
  const { AppModule } = require('../dist/app.module.js') as { AppModule: new () => object };
  const { InboxService } = require('../dist/inbox.service.js') as {
    InboxService: new () => { replies: Array<{ mobile: string; content: string }> };
  };

  let platform: Emulator;
  beforeAll(async () => {
    platform = await startEmulator({ port: 0, accounts: [account] });
  });
  afterAll(() => platform?.close());

  it('stops the pollers, then closes the client: no request after close, a later call fails as closed', async () => {
    Object.assign(process.env, {
      SMS_BASE_URL: platform.url,
      SMS_USERID: account.userId,
      SMS_ACCOUNT: account.account,
      SMS_PASSWORD: account.password,
      SMS_POLL_INTERVAL_MS: '50',
    });
    const logs: string[] = [];
    const keep = (message: unknown) => void logs.push(String(message));
    const app = await NestFactory.create(AppModule, {
      logger: { log: keep, error: keep, warn: keep, debug: keep, verbose: keep },
    });
    await app.init();
    const client = app.get(SmsClient);
    const inbox = app.get(InboxService);

    // What the client is asked to do, in order: each fetch's start and end, and close().
    const events: string[] = [];
    for (const method of ['fetchReports', 'fetchReplies', 'close'] as const) {
      const original = (client[method] as (...args: unknown[]) => Promise<unknown>).bind(client);
      Object.assign(client, {
        [method]: async (...args: unknown[]) => {
          events.push(`${method} start`);
          try {
            return await original(...args);
          } finally {
            events.push(`${method} end`);
          }
        },
      });
    }

    platform.setFault({ type: 'latency', ms: 300, path: '/callApi.aspx', times: 1 });
    platform.injectReply({ account: 'demo', mobile: '13800138002', content: '好的' });
    await eventually(
      async () => platform.requests().some((r) => r.fault === 'latency'),
      (seen) => seen,
    );
    await app.close();

    // Pollers first: the fetch in flight ended (its reply handled) before close() began.
    expect(inbox.replies.map((r) => `${r.mobile} ${r.content}`)).toEqual(['13800138002 好的']);
    expect(events.slice(-4)).toEqual([
      'fetchReplies start',
      'fetchReplies end',
      'close start',
      'close end',
    ]);
    expect(events.filter((e) => e === 'close start')).toHaveLength(1);
    const requests = platform.requests();
    expect(requests.at(-1)).toMatchObject({ path: '/callApi.aspx', fault: 'latency' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(platform.requests()).toHaveLength(requests.length);

    // Then the client: closed, so a call after shutdown fails without reaching the platform.
    await expect(client.balance()).rejects.toMatchObject({
      name: 'SmsError',
      code: 'NETWORK',
      message: expect.stringContaining('the client is closed'),
    });
    expect(platform.requests()).toHaveLength(requests.length);
    expect(logs.filter((l) => /failed|dead letter|still running/.test(l))).toEqual([]);
  });
});

describe('an ESM Nest program', () => {
  it('loads @sms/nest, @sms/nest/health and @sms/nest/testing as ESM and works', async () => {
    const script = fileURLToPath(new URL('./fixtures/esm-app.mjs', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 15_000 });
    expect(JSON.parse(stdout)).toEqual({
      sameToken: true,
      successCounts: 1,
      replies: ['esm reply'],
      health: { sms: { status: 'up', payType: 'prepaid', overage: 999, sendTotal: 1000 } },
    });
  });
});
