/**
 * The console's target actions in headless Chromium: a target its receiver disabled (410
 * Gone) is enabled again from the page, and "Replay all dead" queues every dead delivery of
 * a target again in one action, delivered once the receiver is back.
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
import { launch, watchPage } from './browser.js';

const TOKEN = 'console-token-0123456789abcdef';
const PASSWORD = 'platform-pass-42';

let emulator: Emulator;
let relay: Relay;
let receiver: Server;
/** What the receiver answers now. */
let answer = 410;
let received = 0;
let browser: Browser;
let page: Page;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-console-targets-'));
  emulator = await startEmulator({
    host: '127.0.0.1',
    port: 0,
    accounts: [{ userId: '12', account: 'demo', password: PASSWORD, balance: 100 }],
  });
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (answer === 200) received += 1;
      res.writeHead(answer).end();
    });
  });
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
    // One quick retry, then dead.
    delivery: { retrySchedule: ['50ms'], jitter: 0, timeoutMs: 2000 },
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

it('enables a target its receiver disabled, then replays all its dead deliveries in one action', async () => {
  const watch = watchPage(page, relay.url!);
  emulator.injectReply({ account: 'demo', mobile: '13800138001', content: 'first' });
  await page.goto(`${relay.url}/`);
  await page.getByLabel('Token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();

  const card = page.getByRole('article', { name: 'target app' });
  await card.getByText(/^disabled/).waitFor({ timeout: 10_000 });
  // The receiver is still refusing: enabled again, both deliveries go dead.
  answer = 500;
  emulator.injectReply({ account: 'demo', mobile: '13800138002', content: 'second' });
  await card.getByRole('button', { name: 'Enable' }).click();
  await page.getByText('Enable app: done.').waitFor();
  // The page reloads its overview after the action; the card follows within a refresh.
  await expect.poll(() => card.getByText(/^disabled/).count(), { timeout: 10_000 }).toBe(0);
  await expect
    .poll(() => card.locator('.counts').textContent(), { timeout: 10_000 })
    .toMatch(/dead2/);

  answer = 200;
  await card.getByRole('button', { name: 'Replay all dead' }).click();
  await page.getByText('Replay all dead of app: 2 deliveries queued again.').waitFor();
  await expect
    .poll(() => card.locator('.counts').textContent(), { timeout: 10_000 })
    .toMatch(/delivered2.*dead0/);
  expect(received).toBe(2);
  await expect(card.getByRole('button', { name: 'Replay all dead' }).count()).resolves.toBe(0);
  expect(watch.problems).toEqual([]);
});
