import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWebhookSecret, webhookHeaders } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { createRelay, jsonLogger, type Relay } from '@sms/webhook-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type RunningApp, startApp } from './start-app';

// The durable path end to end: emulator -> @sms/webhook-relay (SQLite) -> signed POST
// /hooks/sms -> SmsWebhookGuard -> the app's inbox, with the compiled app run as `pnpm start`.
const account = { userId: '12', account: 'demo', password: 'relay-pass-7f3a', balance: 100 };
const secret = generateWebhookSecret();

interface WebhookInbox {
  reports: Array<{ webhookId: string; account: string; taskId: string; status: string }>;
  replies: Array<{ webhookId: string; account: string; mobile: string; content: string }>;
  duplicates: number;
}

let emulator: Emulator;
let running: RunningApp;
let relay: Relay;
let dir: string;
let relayLog = '';

const inbox = async (): Promise<WebhookInbox> =>
  (await (await fetch(`${running.url}/hooks/sms/inbox`)).json()) as WebhookInbox;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nest-app-relay-'));
  emulator = await startEmulator({ port: 0, accounts: [account] });
  running = await startApp({
    SMS_BASE_URL: emulator.url,
    SMS_USERID: account.userId,
    SMS_ACCOUNT: account.account,
    SMS_PASSWORD: account.password,
    SMS_WEBHOOK_SECRET: secret,
  });
  // The relay.json the README runs by hand, with a temp store and test-speed timings.
  const config = JSON.parse(readFileSync(new URL('../relay.json', import.meta.url), 'utf8')) as {
    accounts: object[];
  };
  relay = createRelay(
    {
      ...config,
      store: { sqlite: join(dir, 'relay.db') },
      accounts: config.accounts.map((a) => ({ ...a, pollIntervalMs: 50 })),
      delivery: { timeoutMs: 2000, retrySchedule: ['100ms', '200ms'] },
      http: undefined,
      shutdownGraceMs: 1000,
    },
    {
      env: {
        SMS_BASE_URL: emulator.url,
        SMS_USERID: account.userId,
        SMS_ACCOUNT: account.account,
        SMS_PASSWORD: account.password,
        SMS_WEBHOOK_URL: `${running.url}/hooks/sms`,
        SMS_WEBHOOK_SECRET: secret,
      },
      logger: jsonLogger({
        level: 'debug',
        redact: [secret, account.password],
        write: (line) => {
          relayLog += line;
        },
      }),
    },
  );
  await relay.start();
});

afterAll(async () => {
  await relay?.stop();
  running?.kill();
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('examples/nest-app receiving @sms/webhook-relay webhooks', () => {
  let taskId: string;

  it('gets the delivery report of an SMS sent through POST /sms as a verified sms.report', async () => {
    const response = await fetch(`${running.url}/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mobile: '13800138000', content: '【示例】验证码 5678' }),
    });
    expect(response.status).toBe(201);
    taskId = ((await response.json()) as { taskId: string }).taskId;

    const received = await eventually(inbox, (value) => value.reports.length > 0);
    expect(received.reports).toEqual([
      expect.objectContaining({ account: 'main', taskId, status: 'delivered' }),
    ]);
    expect(received.reports[0]?.webhookId).toMatch(/^msg_/);
  });

  it('gets a reply injected at the platform as a verified sms.reply', async () => {
    emulator.injectReply({ account: 'demo', mobile: '13800138000', content: '收到，谢谢' });
    const received = await eventually(inbox, (value) => value.replies.length > 0);
    expect(received.replies).toEqual([
      expect.objectContaining({ account: 'main', mobile: '13800138000', content: '收到，谢谢' }),
    ]);
    const status = await eventually(
      () => relay.status(),
      (value) => value.delivered === 2,
    );
    expect(status).toMatchObject({ events: 2, delivered: 2, pending: 0, dead: 0 });
  });

  it('does not poll itself: the relay is the only reader of the pull-once queues', async () => {
    // PollingModule (its @OnSmsReport()/@OnSmsReply() handlers and GET /sms/inbox) is absent.
    expect((await fetch(`${running.url}/sms/inbox`)).status).toBe(404);
    expect(running.output()).not.toContain('polling.reports is off');
    expect(emulator.account('demo')).toMatchObject({ pendingReports: 0, pendingReplies: 0 });
  });

  it('acknowledges a redelivery of the same webhook-id without storing it twice', async () => {
    const before = await inbox();
    const first = before.reports[0];
    if (!first) throw new Error('no report received');
    const body = JSON.stringify({
      type: 'sms.report',
      timestamp: new Date().toISOString(),
      data: { ...first, webhookId: undefined },
    });
    const headers = webhookHeaders({
      id: first.webhookId,
      timestamp: Math.floor(Date.now() / 1000),
      body,
      secrets: [secret],
    });
    const response = await fetch(`${running.url}/hooks/sms`, { method: 'POST', headers, body });
    expect(response.status).toBe(204);
    const after = await inbox();
    expect(after.reports).toEqual(before.reports);
    expect(after.duplicates).toBe(before.duplicates + 1);
  });

  it('answers 401 to forged, tampered and unsigned requests and stores nothing', async () => {
    const before = await inbox();
    const body = JSON.stringify({
      type: 'sms.reply',
      timestamp: new Date().toISOString(),
      data: {
        account: 'main',
        mobile: '13900000000',
        taskId: '1',
        content: '退订',
        receivedAt: new Date().toISOString(),
        receiveTime: '2026-01-01 08:00:00',
        extNo: '',
      },
    });
    const sign = (key: string, id: string) =>
      webhookHeaders({ id, timestamp: Math.floor(Date.now() / 1000), body, secrets: [key] });

    const forged = await fetch(`${running.url}/hooks/sms`, {
      method: 'POST',
      headers: sign(generateWebhookSecret(), 'msg_forged'),
      body,
    });
    expect(forged.status).toBe(401);

    const tampered = await fetch(`${running.url}/hooks/sms`, {
      method: 'POST',
      headers: sign(secret, 'msg_tampered'),
      body: body.replace('退订', '好的'),
    });
    expect(tampered.status).toBe(401);

    const unsigned = await fetch(`${running.url}/hooks/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(unsigned.status).toBe(401);

    expect(await inbox()).toEqual(before);
  });

  it('keeps the secret and the password out of both logs', () => {
    const output = running.output();
    expect(output).toContain(`webhook report: task ${taskId} to 13800138000 delivered`);
    expect(output).toContain('webhook reply from 13800138000: 收到，谢谢');
    for (const log of [output, relayLog]) {
      expect(log).not.toContain(secret);
      expect(log).not.toContain(secret.slice('whsec_'.length));
      expect(log).not.toContain(account.password);
    }
  });
});
