/**
 * The console's Messages section in headless Chromium against a real relay and emulator: a
 * message sent through `POST /v1/messages` shows up with each number's status, `sent` and
 * then `delivered` once the platform's report arrives; a send whose answer was lost is
 * `unknown`, and the page's Resend sends it once more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWebhookSecret } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { type Relay, createRelay } from '@sms/webhook-relay';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launch, screenshot, watchPage } from './browser.js';

const TOKEN = 'console-token-0123456789abcdef';
const PASSWORD = 'platform-pass-42';
const REPORT_DELAY_MS = 4000;

let emulator: Emulator;
let relay: Relay;
let receiver: Server;
let browser: Browser;
let page: Page;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-console-messages-'));
  emulator = await startEmulator({
    host: '127.0.0.1',
    port: 0,
    accounts: [{ userId: '12', account: 'demo', password: PASSWORD, balance: 100 }],
    // Long enough to see a number `sent` before its report makes it `delivered`.
    report: { delayMs: REPORT_DELAY_MS },
  });
  receiver = createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as { port: number };
  relay = createRelay({
    store: { sqlite: join(dir, 'relay.db') },
    accounts: [
      {
        name: 'main',
        baseUrl: emulator.url,
        userId: '12',
        account: 'demo',
        password: PASSWORD,
        pollIntervalMs: 100,
      },
    ],
    targets: [
      { name: 'app', url: `http://127.0.0.1:${port}/hooks`, secret: generateWebhookSecret() },
    ],
    gateway: { idleMs: 50 },
    http: { port: 0, host: '127.0.0.1', token: TOKEN },
    log: { level: 'error' },
  });
  await relay.start();
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(5000);
});

afterAll(async () => {
  await browser?.close();
  await relay?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function send(body: Record<string, unknown>): Promise<string> {
  const response = await fetch(`${relay.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

const sentTo = (mobile: string) => emulator.sent().filter((m) => m.mobiles.includes(mobile)).length;

it('shows a message sent through POST /v1/messages with each number delivered, and resends an unknown one', async () => {
  const watch = watchPage(page, relay.url!);
  await page.goto(`${relay.url}/`);
  await page.getByLabel('Token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const section = page
    .locator('section')
    .filter({ has: page.getByRole('heading', { name: 'Messages' }) });
  await section.getByText('No messages.').waitFor();

  const id = await send({
    to: ['13800138000', '13900139000'],
    content: '【测试】您的验证码是 1234',
    metadata: { order: 1001 },
  });
  const row = page.locator(`tr.message[data-id="${id}"]`);
  await row.waitFor();
  await row.getByText('sent', { exact: true }).waitFor();
  const cells = await row.locator('td').allTextContents();
  expect(cells[0]).toBe(id);
  expect(cells[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  expect(cells[2]).toBe('main');
  expect(cells[3]).toBe('13800138000, 13900139000');
  expect(cells[4]).toBe('sent');
  expect(cells[5]).toBe(emulator.sent()[0]!.taskId);
  await expect(row.getByRole('button', { name: 'Resend' }).count()).resolves.toBe(0);

  // Each number's status: sent, then delivered once the report has come in.
  await row.getByRole('button', { name: 'Numbers' }).click();
  const numbers = page.locator('tr.detail-row tr.recipient');
  await numbers.nth(1).waitFor();
  const status = async () => (await numbers.locator('td:nth-child(2)').allTextContents()).join(' ');
  expect(await status()).toBe('sent sent');
  await expect
    .poll(status, { timeout: REPORT_DELAY_MS + 8000, interval: 100 })
    .toBe('delivered delivered');
  const first = await numbers.nth(0).locator('td').allTextContents();
  expect(first.slice(0, 3)).toEqual(['13800138000', 'delivered', 'DELIVRD']);
  expect(first[3]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  await expect(page.locator('tr.detail-row .data').textContent()).resolves.toContain(
    '{"order":1001}',
  );
  await screenshot(page, 'relay-console-messages');

  // The platform records a send and loses its answer: unknown, waiting for the operator.
  emulator.setFault({ type: 'reset', action: 'send', times: 1 });
  const lost = await send({ to: '13700137000', content: '【测试】lost answer' });
  const lostRow = page.locator(`tr.message[data-id="${lost}"]`);
  await lostRow.getByText('unknown', { exact: true }).waitFor();
  await lostRow.getByRole('button', { name: 'Mark failed' }).waitFor();
  expect(sentTo('13700137000')).toBe(1);

  // The status filter narrows the list.
  await page.getByLabel('Status').selectOption('unknown');
  await row.waitFor({ state: 'detached' });
  await expect(page.locator('tr.message').count()).resolves.toBe(1);
  await page.getByLabel('Status').selectOption('');
  await row.waitFor();

  await lostRow.getByRole('button', { name: 'Resend' }).click();
  await page.getByText(`Resend ${lost}: now queued.`).waitFor();
  await lostRow.getByText('sent', { exact: true }).waitFor();
  await expect(lostRow.getByRole('button', { name: 'Resend' }).count()).resolves.toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(sentTo('13700137000')).toBe(2);
  expect(watch.problems).toEqual([]);
}, 40_000);
