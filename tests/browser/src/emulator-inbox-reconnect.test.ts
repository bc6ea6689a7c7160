/**
 * The inbox stays live across a restart of the emulator: its event stream reconnects by
 * itself, and a message sent to the new process appears without a reload.
 */
import { SmsClient } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launch } from './browser.js';

const ACCOUNT = { userId: '12', account: 'demo', password: 'secret', balance: 100 };

let emulator: Emulator;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  emulator = await startEmulator({ host: '127.0.0.1', port: 0, accounts: [ACCOUNT] });
  browser = await launch();
  page = await browser.newPage();
  page.setDefaultTimeout(5000);
});

afterAll(async () => {
  await browser?.close();
  await emulator?.close();
});

it('reconnects after the emulator restarts and shows what the new process is sent', async () => {
  const { port } = new URL(emulator.url);
  const navigations: string[] = [];
  await page.goto(`${emulator.url}/`);
  page.on('framenavigated', (frame) => navigations.push(frame.url()));
  const connection = page.locator('.connection');
  await expect.poll(() => connection.textContent()).toBe('live');

  await emulator.close();
  await expect.poll(() => connection.textContent()).toBe('reconnecting…');

  emulator = await startEmulator({ host: '127.0.0.1', port: Number(port), accounts: [ACCOUNT] });
  await expect.poll(() => connection.textContent(), { timeout: 10_000 }).toBe('live');
  const client = new SmsClient({ baseUrl: emulator.url, ...ACCOUNT, retry: false });
  try {
    await client.send({ mobiles: '13800138000', content: '【示例】重启之后' });
  } finally {
    await client.close();
  }
  await page.locator('article', { hasText: '重启之后' }).waitFor();
  expect(navigations).toEqual([]);
});

it('connects again after an HTTP error on its event stream (a proxy answering 502 meanwhile)', async () => {
  // A browser retries a dropped stream by itself, but gives up for good after an HTTP error.
  let refused = 0;
  await page.route('**/__emulator/events', (route) => {
    if (refused >= 2) return route.continue();
    refused += 1;
    return route.fulfill({ status: 502, contentType: 'text/plain', body: 'Bad Gateway' });
  });
  await page.goto(`${emulator.url}/`);
  const connection = page.locator('.connection');
  await expect.poll(() => connection.textContent(), { timeout: 10_000 }).toBe('live');
  expect(refused).toBe(2);
  await page.locator('article', { hasText: '重启之后' }).waitFor();
});
