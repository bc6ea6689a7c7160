/**
 * The relay's console in headless Chromium against a real relay: an event goes dead while
 * its receiver is down, the page (after signing in with the token) shows it with its
 * attempts, and "Replay" delivers it once the receiver is up, signed.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateWebhookSecret, verifyWebhook } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { type Relay, createRelay } from '@sms/webhook-relay';
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
  'relay-console.png',
);

const TOKEN = 'console-token-0123456789abcdef';
const PASSWORD = 'platform-pass-42';
const SECRET = generateWebhookSecret();
const MOBILE = '13800138000';
/** Where the page keeps the token (sessionStorage). */
const TOKEN_KEY = 'sms-relay-console-token';

interface Received {
  id: string;
  type: string;
  mobile: unknown;
}

/** A webhook receiver on a fixed port, started only when the test brings it up. */
function receiverOn(port: number) {
  const received: Received[] = [];
  const rejected: string[] = [];
  let server: Server | undefined;
  return {
    received,
    rejected,
    url: `http://127.0.0.1:${port}/hooks/sms`,
    async up() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          try {
            const event = verifyWebhook({
              headers: req.headers as IncomingHttpHeaders as Record<string, string>,
              body,
              secrets: SECRET,
            });
            received.push({
              id: String(req.headers['webhook-id']),
              type: event.type,
              mobile: (event.data as { mobile?: unknown }).mobile,
            });
            res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
          } catch (error) {
            rejected.push(String(error));
            res.writeHead(400).end('bad signature');
          }
        });
      });
      await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (!server) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port free right now (the receiver takes it later). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let emulator: Emulator;
let relay: Relay;
let receiver: ReturnType<typeof receiverOn>;
let browser: Browser;
let page: Page;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'relay-console-'));
  emulator = await startEmulator({
    host: '127.0.0.1',
    port: 0,
    accounts: [{ userId: '12', account: 'demo', password: PASSWORD, balance: 100 }],
  });
  receiver = receiverOn(await freePort());
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
    targets: [{ name: 'app', url: receiver.url, secret: SECRET }],
    // Two quick retries, then dead.
    delivery: { retrySchedule: ['50ms', '100ms'], jitter: 0, timeoutMs: 2000 },
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
  await receiver?.close();
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function api<T>(path: string, token: string | null = TOKEN) {
  const response = await fetch(`${relay.url}/api/console/${path}`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as T };
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

it('shows a dead event with its attempts, and Replay delivers it once the receiver is up', async () => {
  expect((await api('events', null)).status).toBe(401);
  expect((await api('events', 'not-the-token-at-all')).status).toBe(401);

  emulator.injectReply({ account: 'demo', mobile: MOBILE, content: '退订 please' });
  type Events = { events: Array<{ id: string; deliveries: Array<{ state: string }> }> };
  await waitFor(
    async () => (await api<Events>('events?state=dead')).body.events.length === 1,
    'the reply dead while the receiver is down',
  );
  const [dead] = (await api<Events>('events?state=dead')).body.events;

  const watch = watchPage(page, relay.url!);
  await page.goto(`${relay.url}/`);
  await page.getByLabel('Token').fill(TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();

  const row = page.locator(`tr.event[data-id="${dead!.id}"]`);
  await row.waitFor();
  const cells = await row.locator('td').allTextContents();
  expect(cells[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  expect(cells[1]).toBe('sms.reply');
  expect(cells[2]).toBe(MOBILE);
  expect(cells[3]).toBe('main');
  expect(cells[4]).toBe('退订 please');
  expect(cells[5]).toBe('app: dead');

  // The target's card counts it, and its attempts are one click away.
  const card = page.getByRole('article', { name: 'target app' });
  await expect(card.locator('.counts').textContent()).resolves.toMatch(/dead1/);
  await row.getByRole('button', { name: 'Attempts' }).click();
  const attempts = page.locator('tr.detail-row tr.attempt');
  await attempts.nth(2).waitFor();
  const outcomes = await attempts.locator('td:nth-child(3)').allTextContents();
  expect(outcomes).toEqual(['retry', 'retry', 'dead']);
  for (const text of await attempts.allTextContents()) expect(text).toMatch(/ECONNREFUSED/);
  await expect(page.locator('tr.detail-row .data').textContent()).resolves.toContain(MOBILE);

  // The state filter narrows the list to dead events.
  await page.getByLabel('State').selectOption('delivered');
  await page.getByText('No event matches.').waitFor();
  await page.getByLabel('State').selectOption('');
  await row.waitFor();

  await receiver.up();
  await row.getByRole('button', { name: 'Replay' }).click();
  await page.getByText('1 delivery queued again').waitFor();
  await row.getByText('app: delivered').waitFor();
  expect(receiver.received).toEqual([{ id: dead!.id, type: 'sms.reply', mobile: MOBILE }]);
  expect(receiver.rejected).toEqual([]);
  await expect(row.getByRole('button', { name: 'Replay' }).count()).resolves.toBe(0);

  // The latest attempt is the delivery, with the receiver's answer.
  await attempts.nth(3).waitFor();
  const last = await attempts.nth(3).locator('td').allTextContents();
  expect(last[2]).toBe('delivered');
  expect(last[3]).toBe('200');
  expect(last[5]).toBe('thanks');

  // A few more events for the picture: delivered as they come.
  for (let i = 1; i <= 3; i++) {
    emulator.injectReport({
      account: 'demo',
      mobile: `1390000000${i}`,
      taskId: `7301000${i}`,
      status: i === 2 ? 20 : 10,
    });
  }
  await waitFor(() => receiver.received.length === 4, 'three reports delivered');
  await page.locator('tr.event').nth(3).waitFor();
  await expect(card.locator('.counts').textContent()).resolves.toMatch(/delivered4/);
  await expect(card.locator('.counts').textContent()).resolves.toMatch(/dead0/);
  // The chart counts every attempt: three refused, the replay, three reports.
  await card.getByRole('img', { name: 'app: 7 attempts in the window' }).waitFor();

  const shot = await screenshot(page, 'relay-console');
  // `UPDATE_DOCS_IMAGES=1` refreshes the README's copy (each run would rewrite it otherwise).
  if (process.env['UPDATE_DOCS_IMAGES']) {
    mkdirSync(dirname(DOCS_IMAGE), { recursive: true });
    copyFileSync(shot, DOCS_IMAGE);
  }
  expect(watch.problems).toEqual([]);
});

it('shows HTML from a reply and a report code as text, never as elements', async () => {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  // Under the 60 characters the list shows of a reply.
  const html = '<img src=x onerror=alert(1)><b>b</b><script>x</script>';
  emulator.injectReply({ account: 'demo', mobile: '13700000001', content: html });
  emulator.injectReport({
    account: 'demo',
    mobile: '13700000002',
    taskId: '7302',
    status: 20,
    errorCode: '<i>MK</i>',
  });
  await waitFor(() => receiver.received.length === 6, 'the reply and the report delivered');
  const reply = page.locator('tr.event', { hasText: '13700000001' });
  await reply.waitFor();
  await expect(reply.locator('td').nth(4).textContent()).resolves.toBe(html);
  await expect(
    page.locator('tr.event', { hasText: '13700000002' }).locator('td').nth(4).textContent(),
  ).resolves.toBe('failed · <i>MK</i> · 7302');
  await reply.getByRole('button', { name: 'Attempts' }).click();
  const data = page.locator('tr.detail-row .data');
  await expect.poll(() => data.textContent()).toContain(html);
  await expect(page.locator('#app img, #app b, #app i, #app script').count()).resolves.toBe(0);
  expect(dialogs).toEqual([]);
});

it('forgets the token on Sign out, and a refused token leads back to the login form', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Token').waitFor();
  await expect(page.evaluate('JSON.stringify(sessionStorage)')).resolves.toBe('{}');
  expect(await page.content()).not.toContain(TOKEN);

  // A token kept from before (rotated since): the first refusal brings back the form.
  await page.evaluate(`sessionStorage.setItem('${TOKEN_KEY}', 'an-old-rotated-token-000')`);
  await page.reload();
  await page.getByRole('alert').getByText('The token was refused').waitFor();
  await page.getByLabel('Token').waitFor();
  await expect(page.evaluate('JSON.stringify(sessionStorage)')).resolves.toBe('{}');
});

it('says why the console could not load (not "Loading…" forever), and shows it once it can', async () => {
  await page.evaluate(`sessionStorage.setItem('${TOKEN_KEY}', '${TOKEN}')`);
  // The store down: the console API answers 500 with its error.
  await page.route('**/api/console/overview*', (route) =>
    route.fulfill({
      status: 500,
      contentType: 'application/json',
      body: JSON.stringify({ error: 'the store is unreachable' }),
    }),
  );
  await page.reload();
  await page.getByRole('alert').getByText('the store is unreachable').waitFor();
  await page.unroute('**/api/console/overview*');
  await page.getByRole('heading', { name: 'Targets' }).waitFor();
  await expect(page.getByRole('alert').count()).resolves.toBe(0);
});
