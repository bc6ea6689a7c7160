/**
 * The emulator's inbox page in headless Chromium against a real emulator: messages sent by
 * SmsClient appear without a reload, and what the page does (reply, fail, deliver now)
 * comes out of the platform endpoints to the same client.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SmsClient } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launch, screenshot, watchPage } from './browser.js';

const DOCS_IMAGE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'docs',
  'images',
  'emulator-inbox.png',
);

let emulator: Emulator;
let client: SmsClient;
let browser: Browser;
let page: Page;
let watch: { problems: string[] };

beforeAll(async () => {
  emulator = await startEmulator({
    host: '127.0.0.1',
    port: 0,
    accounts: [
      { userId: '12', account: 'demo', password: 'secret', balance: 100 },
      { userId: '', account: 'billing', password: 'pw-2', payType: 'postpaid', balance: 0 },
    ],
    // An hour: every report stays pending until the page settles it.
    report: { delayMs: 3_600_000 },
  });
  client = new SmsClient({
    baseUrl: emulator.url,
    userId: '12',
    account: 'demo',
    password: 'secret',
    retry: false,
  });
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Fail with Playwright's own message well within vitest's test timeout.
  page.setDefaultTimeout(5000);
  watch = watchPage(page, emulator.url);
  await page.goto(`${emulator.url}/`);
  await page.getByText('No messages yet').waitFor();
});

afterAll(async () => {
  await browser?.close();
  await client?.close();
  await emulator?.close();
});

const bubble = (content: string) => page.locator('article', { hasText: content });

it('shows a message sent through SmsClient without a reload, then its report as it changes', async () => {
  const navigations: string[] = [];
  page.on('framenavigated', (frame) => navigations.push(frame.url()));

  const first = await client.send({ mobiles: '13800138000', content: '【示例】验证码 4821' });
  const message = bubble('验证码 4821');
  await message.waitFor();
  await expect(message.textContent()).resolves.toContain(first.taskId);
  await expect(message.locator('.badge').textContent()).resolves.toBe('pending');

  const second = await client.send({
    mobiles: ['13900000000'],
    content: '【示例】您的订单已发货',
    extNo: '07',
  });
  const scheduled = await client.send({
    mobiles: '13900000000',
    content: '【示例】明天见',
    sendTime: '2099-01-01 09:00:00',
  });
  await bubble('明天见').waitFor();
  const text = await bubble('明天见').textContent();
  expect(text).toContain('scheduled');
  expect(text).toContain('2099-01-01 09:00:00');
  expect(await bubble('订单已发货').textContent()).toContain('07');

  // Newest conversation first.
  const numbers = await page.locator('.conversation h2').allTextContents();
  expect(numbers).toEqual(['13900000000', '13800138000']);

  // Fail the first with a chosen code.
  await message.getByRole('combobox', { name: 'Failure code' }).fill('MK:0011');
  await message.getByRole('button', { name: 'Fail', exact: true }).click();
  await expect.poll(() => message.locator('.report').textContent()).toMatch(/failed\s*MK:0011/);

  // Deliver the second now.
  await bubble('订单已发货').getByRole('button', { name: 'Deliver now' }).click();
  await expect
    .poll(() => bubble('订单已发货').locator('.report').textContent())
    .toMatch(/delivered\s*DELIVRD/);

  const reports = await client.fetchReports();
  expect(
    reports.map(({ taskId, mobile, status, errorCode }) => ({ taskId, mobile, status, errorCode })),
  ).toEqual([
    { taskId: first.taskId, mobile: '13800138000', status: 'failed', errorCode: 'MK:0011' },
    { taskId: second.taskId, mobile: '13900000000', status: 'delivered', errorCode: 'DELIVRD' },
  ]);
  // The scheduled one is still waiting, on the page and in the platform.
  await expect(bubble('明天见').locator('.badge').textContent()).resolves.toBe('pending');
  expect(emulator.sent().find((m) => m.taskId === scheduled.taskId)?.delivered).toBe(false);
  expect(navigations).toEqual([]);
});

it('sends a reply typed on the page out of callApi.aspx as a reply from that number', async () => {
  const box = page.getByRole('textbox', { name: 'Reply to 13800138000' });
  await box.fill('好的，收到');
  await page
    .getByRole('region', { name: 'Conversation with 13800138000' })
    .getByRole('button', { name: 'Send reply', exact: true })
    .click();
  const reply = page.locator('article', { hasText: '好的，收到' });
  await expect.poll(() => reply.textContent()).toContain('waiting in callApi.aspx');
  await expect(box.inputValue()).resolves.toBe('');

  const replies = await client.fetchReplies();
  expect(replies).toEqual([
    expect.objectContaining({
      mobile: '13800138000',
      content: '好的，收到',
      taskId: emulator.sent()[0]!.taskId,
    }),
  ]);
  await expect.poll(() => reply.textContent()).toContain('pulled by callApi.aspx');
});

it('shows accounts with balance and pay type (password masked) and switches faults and quirks', async () => {
  const accounts = page.getByRole('region', { name: 'Accounts' });
  const text = (await accounts.textContent()) ?? '';
  expect(text).toContain('demo');
  expect(text).toContain('billing');
  expect(text).toContain('••••');
  expect(text).not.toContain('secret');
  expect(text).not.toContain('pw-2');
  await expect(
    accounts.getByRole('combobox', { name: 'Pay type of billing' }).inputValue(),
  ).resolves.toBe('postpaid');
  // 100 - 3 messages of one segment.
  await expect(accounts.locator('.account').first().textContent()).resolves.toContain('97');

  const fault = page.getByRole('region', { name: 'Fault' });
  await fault.getByRole('combobox', { name: /^Type/ }).selectOption('html500');
  await fault.getByRole('spinbutton', { name: /^Times/ }).fill('1');
  await fault.getByRole('button', { name: 'Apply fault' }).click();
  await expect.poll(() => fault.getByRole('status').textContent()).toContain('html500');
  await expect(client.balance()).rejects.toThrow();
  await expect.poll(() => fault.getByRole('status').textContent()).toContain('None');

  const quirks = page.getByRole('region', { name: 'Quirks' });
  await quirks.getByRole('checkbox', { name: /shortPayInfo/ }).check();
  await expect
    .poll(async () => (await fetch(`${emulator.url}/__emulator/quirks`)).json())
    .toEqual({
      shortPayInfo: true,
    });
  await expect(client.balance()).resolves.toMatchObject({ payType: 'prepaid', overage: 97 });

  await page.evaluate('window.scrollTo(0, 0)');
  const path = await screenshot(page, 'emulator-inbox');
  // `UPDATE_DOCS_IMAGES=1` refreshes the README's copy.
  if (process.env['UPDATE_DOCS_IMAGES']) {
    mkdirSync(dirname(DOCS_IMAGE), { recursive: true });
    copyFileSync(path, DOCS_IMAGE);
  }
});

it('shows HTML in a message and in a reply typed on the page as text, never as elements', async () => {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const html = '【示例】<img src=x onerror="alert(1)"><b>bold</b><script>alert(2)</script>';
  await client.send({ mobiles: '13700000000', content: html });
  const sent = bubble('<b>bold</b>');
  await sent.waitFor();
  await expect(sent.locator('.content').textContent()).resolves.toBe(html);

  const typed = '<img src=y onerror="alert(3)"><i>hi</i>';
  await page.getByRole('textbox', { name: 'Reply to 13700000000' }).fill(typed);
  await page
    .getByRole('region', { name: 'Conversation with 13700000000' })
    .getByRole('button', { name: 'Send reply', exact: true })
    .click();
  const reply = page.locator('article', { hasText: '<i>hi</i>' });
  await expect.poll(() => reply.locator('.content').textContent()).toBe(typed);
  await expect(page.locator('main img, main b, main i, main script').count()).resolves.toBe(0);
  expect(dialogs).toEqual([]);
  // The platform hands the reply out as typed.
  await expect(client.fetchReplies()).resolves.toEqual([
    expect.objectContaining({ mobile: '13700000000', content: typed }),
  ]);
});

it('puts the conversation with the newest message or reply first, oldest message at its top', async () => {
  const order = () => page.locator('.conversation h2').allTextContents();
  // The reply just typed is the newest; 13800138000's reply came after 13900000000's messages.
  await expect(order()).resolves.toEqual(['13700000000', '13800138000', '13900000000']);

  // A new message to the number written to longest ago brings it to the top.
  await client.send({ mobiles: '13900000000', content: '【示例】又一条' });
  await expect.poll(order).toEqual(['13900000000', '13700000000', '13800138000']);
  const thread = page.getByRole('region', { name: 'Conversation with 13900000000' });
  const contents = await thread.locator('.content').allTextContents();
  expect(contents.at(-1)).toBe('【示例】又一条');
  expect(contents.indexOf('【示例】您的订单已发货')).toBe(0);

  // So does a reply from that number, arriving through the platform.
  emulator.injectReply({ account: 'demo', mobile: '13800138000', content: '再见' });
  await expect.poll(order).toEqual(['13800138000', '13900000000', '13700000000']);
});

it('loads nothing from elsewhere and logs no errors', () => {
  expect(watch.problems).toEqual([]);
});
