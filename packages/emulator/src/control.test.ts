/** The JSON control API under /__emulator/, driven over raw HTTP. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CONTROL_ROUTES } from './control.js';
import { type Emulator, startEmulator } from './index.js';
import { boxes, post, raw, tag } from './test-utils/raw.js';

const auth = { userid: '12', account: 'demo', password: 'secret' };

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [{ userId: '12', account: 'demo', password: 'secret', balance: 50 }],
  });
});
afterAll(() => emulator.close());
afterEach(() => emulator.reset());

async function control(method: string, route: string, body?: unknown) {
  const res = await raw(emulator.url, {
    method,
    path: `/__emulator/${route}`,
    contentType: 'application/json',
    ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body), 'utf8') }),
  });
  expect(res.contentType).toBe('application/json; charset=utf-8');
  return { status: res.status, json: JSON.parse(res.text) as unknown };
}

it('GET /__emulator/ lists the routes (the address the CLI prints answered 404)', async () => {
  for (const route of ['', '/']) {
    const index = await control('GET', route);
    expect(index.status).toBe(200);
    const { routes } = index.json as { routes: string[] };
    expect(routes).toContain('GET messages[?account=]');
    expect(routes).toContain('POST reset');
    // Each plain GET it names answers.
    for (const entry of routes.filter((r) => /^GET [a-z]+$/.test(r) && r !== 'GET events')) {
      expect((await control('GET', entry.slice(4))).status, entry).toBe(200);
    }
  }
  // The README's table names the same routes.
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  for (const entry of CONTROL_ROUTES) expect(readme, entry).toContain(entry.split(/[?[<]/)[0]!);
});

it('GET messages lists what was sent, optionally for one account', async () => {
  await post(emulator.url, '/sms.aspx', {
    action: 'send',
    ...auth,
    mobile: '13800138000',
    content: '【签名】你好',
  });
  const all = await control('GET', 'messages');
  expect(all.status).toBe(200);
  expect(all.json).toEqual([
    expect.objectContaining({
      account: 'demo',
      mobiles: ['13800138000'],
      content: '【签名】你好',
      taskId: expect.stringMatching(/^\d+$/),
    }),
  ]);
  expect((await control('GET', 'messages?account=demo')).json).toHaveLength(1);
  expect((await control('GET', 'messages?account=other')).json).toHaveLength(0);
});

it('GET requests shows raw requests with secrets redacted', async () => {
  await post(emulator.url, '/sms.aspx', { action: 'overage', ...auth });
  const { json } = await control('GET', 'requests');
  const [request] = json as Array<{ params: Record<string, string>; action: string; path: string }>;
  expect(request).toMatchObject({
    action: 'overage',
    path: '/sms.aspx',
    params: { account: 'demo', password: '***' },
  });
  expect(JSON.stringify(json)).not.toContain('secret');
});

it('GET requests masks the password in the raw url too, whatever the case or encoding of its name', async () => {
  const query = [
    'action=overage',
    'userid=12',
    'account=demo',
    'password=secret',
    'PassWord=secret',
    'pass%77ord=secret',
    'newpwd=n3w-secret',
    'RENEWPWD=n3w-secret',
    'sign=0123abcd-sign',
  ].join('&');
  await raw(emulator.url, { method: 'GET', path: `/sms.aspx?${query}` });
  const { json } = await control('GET', 'requests');
  const [request] = json as Array<{ url: string; params: Record<string, string> }>;
  expect(request!.url).toBe(
    '/sms.aspx?action=overage&userid=12&account=demo&password=***&PassWord=***&pass%77ord=***&newpwd=***&RENEWPWD=***&sign=***',
  );
  expect(request!.params['password']).toBe('***');
  const text = JSON.stringify(json);
  for (const secret of ['secret', 'n3w-secret', '0123abcd-sign'])
    expect(text).not.toContain(`=${secret}`);
  expect(emulator.requests()[0]!.url).not.toContain('=secret');
});

it('GET/POST accounts reads, creates and updates accounts', async () => {
  expect((await control('GET', 'accounts')).json).toEqual([
    expect.objectContaining({ account: 'demo', balance: 50, payType: 'prepaid' }),
  ]);
  expect((await control('GET', 'accounts/demo')).json).toMatchObject({ userId: '12', balance: 50 });
  expect((await control('GET', 'accounts/ghost')).status).toBe(404);

  const topped = await control('POST', 'accounts', {
    account: 'demo',
    topUp: 25,
    reportsAllowed: false,
  });
  expect(topped.json).toMatchObject({ balance: 75, recharged: 75, reportsAllowed: false });
  const barred = await post(emulator.url, '/statusApi.aspx', { action: 'query', ...auth });
  expect(tag(barred.text, 'error')).toBe('3');

  const created = await control('POST', 'accounts', [
    { userId: '', account: 'new', password: 'pw', payType: 'postpaid', balance: 0 },
  ]);
  expect(created.json).toEqual([
    expect.objectContaining({ account: 'new', payType: 'postpaid', balance: 0 }),
  ]);
  const res = await post(emulator.url, '/sms.aspx', {
    action: 'overage',
    userid: '',
    account: 'new',
    password: 'pw',
  });
  expect(tag(res.text, 'payinfo')).toBe('后付费');
  expect((await control('POST', 'accounts', { account: 'nopw' })).status).toBe(400);
});

it('POST reports and POST replies inject into the pull-once queues; GET peeks', async () => {
  const injected = await control('POST', 'reports', [
    {
      account: 'demo',
      mobile: '13800138000',
      taskId: '9007199254740993',
      status: 20,
      errorCode: 'REJECTD',
    },
  ]);
  expect(injected.json).toEqual([
    expect.objectContaining({ taskId: '9007199254740993', status: 20 }),
  ]);
  await control('POST', 'replies', {
    account: 'demo',
    mobile: '13800138000',
    content: '好的',
    extNo: '01',
  });
  expect((await control('GET', 'reports?account=demo')).json).toHaveLength(1);
  expect((await control('GET', 'replies?account=demo')).json).toHaveLength(1);
  expect((await control('GET', 'reports')).status).toBe(400);

  const reports = boxes(
    (await post(emulator.url, '/statusApi.aspx', { action: 'query', ...auth })).text,
    'statusbox',
  );
  expect(reports).toEqual([
    expect.objectContaining({ taskid: '9007199254740993', status: '20', errorcode: 'REJECTD' }),
  ]);
  const replies = boxes(
    (await post(emulator.url, '/callApi.aspx', { action: 'query', ...auth })).text,
    'callbox',
  );
  expect(replies).toEqual([expect.objectContaining({ content: '好的', extno: '01' })]);
  expect((await control('GET', 'replies?account=demo')).json).toHaveLength(0);
  expect(
    (await control('POST', 'replies', { account: 'ghost', mobile: '1', content: 'x' })).status,
  ).toBe(404);
});

it('POST/GET/DELETE fault sets, reads and clears a fault', async () => {
  const set = await control('POST', 'fault', { type: 'html500', path: '/sms.aspx', times: 2 });
  expect(set.json).toMatchObject({ type: 'html500', times: 2 });
  expect((await post(emulator.url, '/sms.aspx', { action: 'overage', ...auth })).status).toBe(500);
  expect((await control('GET', 'fault')).json).toMatchObject({ times: 1 });
  await control('DELETE', 'fault');
  expect((await control('GET', 'fault')).json).toBeNull();
  expect((await post(emulator.url, '/sms.aspx', { action: 'overage', ...auth })).status).toBe(200);
  expect((await control('POST', 'fault', { type: 'nope' })).status).toBe(400);
  await control('POST', 'fault', { type: 'html500' });
  await control('POST', 'fault', null);
  expect((await control('GET', 'fault')).json).toBeNull();
});

it('POST flush runs pending timers; POST reset restores the start', async () => {
  await post(emulator.url, '/sms.aspx', {
    action: 'send',
    ...auth,
    mobile: '13800138000',
    content: '【签名】hi',
    sendTime: '2099-01-01 00:00:00',
  });
  expect(emulator.account('demo').pendingReports).toBe(0);
  await control('POST', 'flush');
  expect(emulator.account('demo').pendingReports).toBe(1);
  expect(emulator.account('demo').balance).toBe(49);
  expect((await control('POST', 'reset')).json).toEqual({ ok: true });
  expect(emulator.account('demo')).toMatchObject({ balance: 50, pendingReports: 0 });
  expect(emulator.sent()).toHaveLength(0);
});

it('answers 404 for unknown routes and 400 for bad JSON', async () => {
  expect((await control('GET', 'nothing')).status).toBe(404);
  const bad = await raw(emulator.url, {
    method: 'POST',
    path: '/__emulator/replies',
    body: '{nope',
    contentType: 'application/json',
  });
  expect(bad.status).toBe(400);
  expect(JSON.parse(bad.text)).toEqual({ error: 'body is not JSON' });
});

it('requests() keeps only the last maxRecordedRequests', async () => {
  const small = await startEmulator({
    accounts: [{ userId: '12', account: 'demo', password: 'secret' }],
    maxRecordedRequests: 3,
  });
  try {
    for (const action of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) {
      await post(small.url, '/sms.aspx', { action, ...auth });
    }
    expect(small.requests().map((request) => request.action)).toEqual(['e', 'f', 'g']);
  } finally {
    await small.close();
  }
});

it('POST accounts refuses bad numbers and pay types without changing anything', async () => {
  for (const update of [
    { account: 'demo', topUp: 'lots' },
    { account: 'demo', balance: null },
    { account: 'demo', password: 'changed', payType: 'free' },
  ]) {
    const res = await control('POST', 'accounts', update);
    expect(res.status).toBe(400);
  }
  expect(emulator.account('demo')).toMatchObject({
    balance: 50,
    password: 'secret',
    payType: 'prepaid',
  });
  expect((await control('POST', 'accounts', { account: 'demo', topUp: '5' })).json).toMatchObject({
    balance: 55,
  });
});

it('GET/POST accounts show passwords masked (the handle still has them)', async () => {
  const list = await control('GET', 'accounts');
  expect(list.json).toEqual([expect.objectContaining({ account: 'demo', password: '••••' })]);
  expect((await control('GET', 'accounts/demo')).json).toMatchObject({ password: '••••' });
  const updated = await control('POST', 'accounts', { account: 'demo', password: 'n3w-pw' });
  expect(updated.json).toMatchObject({ password: '••••' });
  const created = await control('POST', 'accounts', [{ account: 'x', password: 'pw-x' }]);
  expect(created.json).toEqual([expect.objectContaining({ password: '••••' })]);
  const everything = JSON.stringify([
    list.json,
    updated.json,
    created.json,
    (await control('GET', 'accounts')).json,
  ]);
  for (const password of ['secret', 'n3w-pw', 'pw-x']) expect(everything).not.toContain(password);
  expect(emulator.account('demo').password).toBe('n3w-pw');
});

describe('a web page cannot drive the control API', () => {
  const own = () => `http://${new URL(emulator.url).host}`;

  it('refuses a cross-origin text/plain POST (no preflight in a browser) with 403', async () => {
    await emulator.setAccount({ account: 'demo', topUp: 5 });
    const res = await raw(emulator.url, {
      method: 'POST',
      path: '/__emulator/reset',
      body: '{}',
      contentType: 'text/plain;charset=UTF-8',
      headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).error).toContain('https://evil.example');
    expect(emulator.account('demo').balance).toBe(55);
  });

  it('refuses any foreign Origin, even with application/json, and a cross-site GET', async () => {
    for (const origin of ['https://evil.example', 'null', `${own()}.evil.example`]) {
      const res = await raw(emulator.url, {
        method: 'POST',
        path: '/__emulator/replies',
        body: JSON.stringify({ account: 'demo', mobile: '13800138000', content: 'x' }),
        contentType: 'application/json',
        headers: { origin },
      });
      expect(res.status).toBe(403);
    }
    expect(emulator.pendingReplies('demo')).toHaveLength(0);
    const read = await raw(emulator.url, {
      path: '/__emulator/messages',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(read.status).toBe(403);
  });

  it('refuses a page whose own name points here (DNS rebinding: Origin matches Host)', async () => {
    const { port } = new URL(emulator.url);
    const res = await raw(emulator.url, {
      method: 'POST',
      path: '/__emulator/reset',
      contentType: 'application/json',
      headers: {
        host: `rebind.evil.example:${port}`,
        origin: `http://rebind.evil.example:${port}`,
      },
    });
    expect(res.status).toBe(403);
  });

  it('refuses text/plain and form POSTs without an Origin too (415): only application/json', async () => {
    await emulator.setAccount({ account: 'demo', topUp: 5 });
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      null,
    ]) {
      const res = await raw(emulator.url, {
        method: 'POST',
        path: '/__emulator/reset',
        body: '{}',
        contentType,
      });
      expect(res.status).toBe(415);
      expect(JSON.parse(res.text).error).toContain('application/json');
    }
    expect(emulator.account('demo').balance).toBe(55);
  });

  it('answers its own origin (the page it serves) and programs without an Origin', async () => {
    const same = await raw(emulator.url, {
      method: 'POST',
      path: '/__emulator/reset',
      contentType: 'application/json; charset=utf-8',
      headers: { origin: own(), 'sec-fetch-site': 'same-origin' },
    });
    expect(same.status).toBe(200);
    const typed = await raw(emulator.url, {
      path: '/__emulator/messages',
      headers: { 'sec-fetch-site': 'none' },
    });
    expect(typed.status).toBe(200);
    const local = await raw(emulator.url, {
      path: '/__emulator/messages',
      headers: { host: `localhost:${emulator.port}`, origin: `http://localhost:${emulator.port}` },
    });
    expect(local.status).toBe(200);
  });
});
