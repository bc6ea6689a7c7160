/**
 * The console's Sending accounts panel in headless Chromium against a real relay and two
 * emulated resellers: reseller a stops taking the relay's password, so its breaker opens after
 * two refusals and later messages skip it for b (the panel shows the breaker open and the
 * failovers away from a and to b); once a takes the password again and the cool-down is over,
 * the next message is a's probe and the panel shows the breaker closed again.
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
const A = { userId: '21', account: 'alpha', password: 'alpha-secret' };
const B = { userId: '', account: 'beta', password: 'beta-secret' };
// Long enough for the page (refreshed every 2 s) to show the breaker open on a slow machine.
const COOL_DOWN_MS = 5000;

let resellerA: Emulator;
let resellerB: Emulator;
let relay: Relay;
let receiver: Server;
let browser: Browser;
let page: Page;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-console-accounts-'));
  resellerA = await startEmulator({
    host: '127.0.0.1',
    port: 0,
    accounts: [{ ...A, balance: 100 }],
  });
  resellerB = await startEmulator({
    host: '127.0.0.1',
    port: 0,
    accounts: [{ ...B, balance: 100 }],
  });
  receiver = createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as { port: number };
  relay = createRelay({
    store: { sqlite: join(dir, 'relay.db') },
    accounts: [
      { name: 'a', baseUrl: resellerA.url, ...A, pollIntervalMs: 200 },
      { name: 'b', baseUrl: resellerB.url, ...B, pollIntervalMs: 200 },
    ],
    targets: [
      { name: 'app', url: `http://127.0.0.1:${port}/hooks`, secret: generateWebhookSecret() },
    ],
    // One send at a time: each refusal is counted before the next message is tried.
    gateway: {
      idleMs: 50,
      concurrency: 1,
      breaker: { failures: 2, windowMs: 60_000, coolDownMs: COOL_DOWN_MS },
    },
    http: { port: 0, host: '127.0.0.1', token: TOKEN },
    log: { level: 'error' },
  });
  await relay.start();
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.setDefaultTimeout(8000);
});

afterAll(async () => {
  await browser?.close();
  await relay?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
  await resellerA?.close();
  await resellerB?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function send(content: string): Promise<string> {
  const response = await fetch(`${relay.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: '13800138000', content }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

const sends = (emulator: Emulator) => emulator.requests().filter((r) => r.action === 'send').length;

it('shows the breaker open and the failovers to b while a refuses, and closed after a probe once a is back', async () => {
  const watch = watchPage(page, relay.url!);
  await page.goto(`${relay.url}/`);
  await page.getByLabel('Token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const section = page
    .locator('section')
    .filter({ has: page.getByRole('heading', { name: 'Sending accounts' }) });
  const rowA = section.locator('tr.sending-account[data-account="a"]');
  const rowB = section.locator('tr.sending-account[data-account="b"]');
  await rowA.locator('.breaker-closed').waitFor();
  await rowB.locator('.breaker-closed').waitFor();
  expect(await rowA.locator('td').allTextContents()).toEqual([
    'a',
    'closed',
    expect.stringMatching(/^\d+ s ago$/),
    '0 / 2',
    '–',
    '0 ',
    '0',
  ]);

  // Reseller a no longer takes the relay's password: 6 messages without an account.
  resellerA.setAccount({ account: A.account, password: 'rotated-elsewhere' });
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push(await send(`【测试】down ${i}`));
  await expect.poll(() => resellerB.sent().length, { timeout: 10_000 }).toBe(6);
  // Where each went, read from the gateway's own API: refused twice on a, then skipped.
  const codes: string[] = [];
  for (const id of ids) {
    const response = await fetch(`${relay.url}/v1/messages/${id}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const message = (await response.json()) as {
      account: string;
      failovers: Array<{ code: string }>;
    };
    expect(message.account).toBe('b');
    codes.push(message.failovers[0]!.code);
  }
  expect(codes).toEqual([
    'AUTH_FAILED',
    'AUTH_FAILED',
    'CIRCUIT_OPEN',
    'CIRCUIT_OPEN',
    'CIRCUIT_OPEN',
    'CIRCUIT_OPEN',
  ]);

  await rowA.locator('.breaker-open').waitFor();
  await rowA.locator('td.away', { hasText: 'CIRCUIT_OPEN × 4' }).waitFor();
  const open = await rowA.locator('td').allTextContents();
  expect(open[1]).toBe('open');
  expect(open[3]).toBe('2 / 2');
  expect(open[4]).toMatch(/^in \d s$/);
  expect(open[5]).toBe('6 AUTH_FAILED × 2CIRCUIT_OPEN × 4');
  await rowB.locator('td.to', { hasText: '6' }).waitFor();
  await expect(rowB.locator('td.away').textContent()).resolves.toBe('0 ');
  // Exactly the two refused tries reached a; nothing went out there.
  expect(sends(resellerA)).toBe(2);
  expect(resellerA.sent()).toHaveLength(0);
  await screenshot(page, 'relay-console-accounts-open');

  // a takes the password again; after the cool-down the panel shows it half-open...
  resellerA.setAccount({ account: A.account, password: A.password });
  await rowA.locator('.breaker-half-open').waitFor({ timeout: COOL_DOWN_MS + 8000 });
  await expect(rowA.locator('td.probe').textContent()).resolves.toBe('next message');
  // ...and the next message is its probe: sent on a, and the breaker closes.
  await send('【测试】probe');
  await rowA.locator('.breaker-closed').waitFor();
  expect(resellerA.sent().map((m) => m.content)).toEqual(['【测试】probe']);
  expect(resellerB.sent()).toHaveLength(6);
  expect(await rowA.locator('td.failures').textContent()).toBe('0 / 2');
  // The failovers stay counted: they are the stored messages'.
  expect(await rowA.locator('td.away strong').textContent()).toBe('6');
  await screenshot(page, 'relay-console-accounts-closed');
  expect(watch.problems).toEqual([]);
}, 60_000);
