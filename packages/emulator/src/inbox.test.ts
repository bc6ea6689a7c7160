/** The inbox page's server side over raw HTTP: event stream, deliver/fail, replies, assets, origins. */
import { type IncomingMessage, createServer, request } from 'node:http';
import { type AddressInfo, type Socket, connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveInboxPage } from './inbox.js';
import { type Emulator, type SentMessage, startEmulator } from './index.js';
import { boxes, post, raw, tag } from './test-utils/raw.js';

const auth = { userid: '12', account: 'demo', password: 'secret' };

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [{ userId: '12', account: 'demo', password: 'secret', balance: 50 }],
    // An hour: reports wait until the test settles them.
    report: { delayMs: 3_600_000 },
    autoReplies: [{ contains: '回复', reply: '自动回复' }],
  });
});
afterAll(() => emulator.close());
afterEach(() => emulator.reset());

function send(fields: Record<string, string>) {
  return post(emulator.url, '/sms.aspx', { action: 'send', ...auth, ...fields });
}

async function control(route: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await raw(emulator.url, {
    method: 'POST',
    path: `/__emulator/${route}`,
    body: Buffer.from(JSON.stringify(body), 'utf8'),
    contentType: 'application/json',
    headers,
  });
  return { status: res.status, json: JSON.parse(res.text) as unknown };
}

interface Snapshot {
  messages: Array<Omit<SentMessage, 'deliverAt' | 'submittedAt'> & { submittedAt: string }>;
  replies: Array<{ mobile: string; content: string; pulled: boolean }>;
  accounts: Array<{ account: string; password: string; balance: number }>;
  fault: unknown;
  quirks: Record<string, boolean>;
}

/** A raw reader of `GET /__emulator/events`: each `snapshot` event, in order. */
async function openEvents(headers: Record<string, string> = {}, base = emulator.url) {
  const url = new URL(base);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: '/__emulator/events', headers, agent: false },
      resolve,
    );
    req.on('error', reject);
    req.end();
  });
  const events: Snapshot[] = [];
  const waiting: Array<() => void> = [];
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n');
      if (!lines.includes('event: snapshot')) continue;
      const data = lines.find((line) => line.startsWith('data: '));
      events.push(JSON.parse(data!.slice('data: '.length)) as Snapshot);
      for (const wake of waiting.splice(0)) wake();
    }
  });
  let read = 0;
  return {
    res,
    /** Snapshots received so far. */
    count: () => events.length,
    /** The next snapshot not yet read (waits up to 3 s). */
    async next(): Promise<Snapshot> {
      const deadline = Date.now() + 3000;
      while (events.length <= read) {
        if (Date.now() > deadline) throw new Error('no snapshot event within 3 s');
        await new Promise<void>((wake) => {
          waiting.push(wake);
          setTimeout(wake, 100);
        });
      }
      return events[read++]!;
    },
    /** The next snapshot for which `check` holds. */
    async until(check: (snapshot: Snapshot) => boolean): Promise<Snapshot> {
      for (;;) {
        const snapshot = await this.next();
        if (check(snapshot)) return snapshot;
      }
    },
    close: () => res.destroy(),
  };
}

describe('GET /__emulator/events', () => {
  it('sends a snapshot at once and another after a send, with passwords masked', async () => {
    const events = await openEvents();
    try {
      expect(events.res.statusCode).toBe(200);
      expect(events.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      const first = await events.next();
      expect(first.messages).toEqual([]);
      expect(first.accounts).toEqual([
        expect.objectContaining({ account: 'demo', balance: 50, password: '••••' }),
      ]);

      expect(
        tag((await send({ mobile: '13800138000', content: '【签名】你好' })).text, 'returnstatus'),
      ).toBe('Success');
      const after = await events.until((s) => s.messages.length === 1);
      expect(after.messages[0]).toMatchObject({
        content: '【签名】你好',
        mobiles: ['13800138000'],
        reports: [{ mobile: '13800138000', status: 'pending', errorCode: '', receiveTime: '' }],
      });
      expect(after.accounts[0]).toMatchObject({ balance: 49 });
      expect(JSON.stringify(after)).not.toContain('secret');
    } finally {
      events.close();
    }
  });

  it('sends the latest messages up to 5000 recipients (a batch of 1000 numbers is one message)', async () => {
    emulator.setAccount({ account: 'demo', payType: 'postpaid' });
    const thousand = Array.from({ length: 1000 }, (_, i) => `138${String(i).padStart(8, '0')}`);
    for (let i = 0; i < 6; i++)
      await send({ mobile: thousand.join(','), content: `【签名】批次 ${i}` });
    await send({ mobile: '13800138000', content: '【签名】最后一条' });
    const events = await openEvents();
    try {
      const { messages } = await events.next();
      expect(messages.map((m) => m.content)).toEqual([
        '【签名】批次 2',
        '【签名】批次 3',
        '【签名】批次 4',
        '【签名】批次 5',
        '【签名】最后一条',
      ]);
    } finally {
      events.close();
    }
  });

  it('has a client limit: one stream more is a 503, and a closed one frees its place', async () => {
    const small = await startEmulator({ events: { maxClients: 2 } });
    try {
      const a = await openEvents({}, small.url);
      const b = await openEvents({}, small.url);
      expect([a.res.statusCode, b.res.statusCode]).toEqual([200, 200]);
      const c = await openEvents({}, small.url);
      expect(c.res.statusCode).toBe(503);
      expect(c.res.headers['retry-after']).toBe('5');
      c.close();
      a.close();
      const deadline = Date.now() + 5000;
      for (;;) {
        const d = await openEvents({}, small.url);
        d.close();
        if (d.res.statusCode === 200) break;
        if (Date.now() > deadline) throw new Error('the closed stream kept its place');
        await new Promise((r) => setTimeout(r, 50));
      }
      b.close();
    } finally {
      await small.close();
    }
  });

  it('drops a client that stops reading, after holding at most the latest snapshot for it', async () => {
    const small = await startEmulator({
      accounts: [{ userId: '12', account: 'demo', password: 'secret', balance: 100_000 }],
      report: { delayMs: 3_600_000 },
      events: { stallMs: 300 },
    });
    const sendTo = (i: number) =>
      post(small.url, '/sms.aspx', {
        action: 'send',
        ...auth,
        mobile: `138${String(i).padStart(8, '0')}`,
        content: `【签名】${'长'.repeat(300)}`,
      });
    const paused: Array<{ socket: Socket; bytes: () => number; ended: Promise<void> }> = [];
    try {
      // A full inbox first: each snapshot is then a few hundred kB.
      for (let i = 0; i < 400; i++) await sendTo(i);
      const { port } = new URL(small.url);
      for (let i = 0; i < 3; i++) {
        const socket = connect(Number(port), '127.0.0.1');
        await new Promise((r) => socket.once('connect', r));
        socket.write(`GET /__emulator/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
        socket.pause();
        let bytes = 0;
        socket.on('data', (d: Buffer) => {
          bytes += d.length;
        });
        const ended = new Promise<void>((resolve) => {
          socket.on('end', resolve);
          socket.on('close', () => resolve());
          socket.on('error', () => resolve());
        });
        socket.pause();
        paused.push({ socket, bytes: () => bytes, ended });
      }
      const reader = await openEvents({}, small.url);
      let readerBytes = 0;
      reader.res.on('data', (d: string) => {
        readerBytes += Buffer.byteLength(d);
      });
      await reader.next();
      // One snapshot per send, each after the reader saw the last: 60 frames of ~300 kB.
      for (let i = 0; i < 60; i++) {
        const seen = reader.count();
        await sendTo(1000 + i);
        while (reader.count() === seen) await new Promise((r) => setTimeout(r, 5));
      }
      reader.close();
      // The paused clients, reading again: they were closed, having been sent a bounded amount.
      for (const client of paused) client.socket.resume();
      const closed = await Promise.race([
        Promise.all(paused.map((c) => c.ended)).then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 10_000)),
      ]);
      const got = paused.map((c) => c.bytes());
      expect(closed, `paused clients still open after ${got.join(', ')} bytes`).toBe(true);
      for (const bytes of got) expect(bytes).toBeLessThan(readerBytes / 2);
    } finally {
      for (const client of paused) client.socket.destroy();
      await small.close();
    }
  });

  it('reports fault and quirk changes', async () => {
    const events = await openEvents();
    try {
      await events.next();
      await control('fault', { type: 'latency', ms: 5 });
      expect((await events.until((s) => s.fault !== null)).fault).toMatchObject({
        type: 'latency',
      });
      await control('quirks', { bom: true });
      expect((await events.until((s) => s.quirks['bom'] === true)).quirks).toEqual({ bom: true });
    } finally {
      events.close();
    }
  });
});

describe('POST /__emulator/messages/<taskId>/deliver and /fail', () => {
  it('settle a pending report now; statusApi.aspx then hands it out once', async () => {
    const taskId = tag(
      (await send({ mobile: '13800138000,13900000000', content: '【签名】两个号码', extno: '07' }))
        .text,
      'taskID',
    )!;
    expect(emulator.account('demo').pendingReports).toBe(0);

    const failed = await control(`messages/${taskId}/fail`, {
      mobile: '13900000000',
      errorCode: 'MK:0011',
    });
    expect(failed.status).toBe(200);
    expect(failed.json).toEqual([
      expect.objectContaining({ taskId, mobile: '13900000000', status: 20, errorCode: 'MK:0011' }),
    ]);
    // The rest stay pending until told.
    expect(emulator.sent()[0]!.reports.map((r) => r.status)).toEqual(['pending', 'failed']);

    const delivered = await control(`messages/${taskId}/deliver`, {});
    expect(delivered.json).toEqual([
      expect.objectContaining({ mobile: '13800138000', status: 10, errorCode: 'DELIVRD' }),
    ]);
    expect(emulator.sent()[0]!.reports).toEqual([
      expect.objectContaining({ mobile: '13800138000', status: 'delivered', errorCode: 'DELIVRD' }),
      expect.objectContaining({ mobile: '13900000000', status: 'failed', errorCode: 'MK:0011' }),
    ]);
    // Settled reports are not settled twice, and their own timers queue nothing more.
    expect((await control(`messages/${taskId}/deliver`, {})).json).toEqual([]);
    emulator.flush();

    const pulled = boxes(
      (await post(emulator.url, '/statusApi.aspx', { action: 'query', ...auth })).text,
      'statusbox',
    );
    expect(pulled).toEqual([
      expect.objectContaining({
        mobile: '13900000000',
        taskid: taskId,
        status: '20',
        errorcode: 'MK:0011',
        extno: '07',
      }),
      expect.objectContaining({
        mobile: '13800138000',
        taskid: taskId,
        status: '10',
        errorcode: 'DELIVRD',
        extno: '07',
      }),
    ]);
    const again = await post(emulator.url, '/statusApi.aspx', { action: 'query', ...auth });
    expect(boxes(again.text, 'statusbox')).toEqual([]);
  });

  it('deliver now sends a scheduled message at once (with its auto-reply); fail now does not reply', async () => {
    const later = { sendtime: '2099-01-01 09:00:00' };
    const delivered = tag(
      (await send({ mobile: '13800138000', content: '【签名】请回复', ...later })).text,
      'taskID',
    )!;
    const failed = tag(
      (await send({ mobile: '13900000000', content: '【签名】请回复', ...later })).text,
      'taskID',
    )!;
    expect(emulator.sent().map((m) => m.delivered)).toEqual([false, false]);

    await control(`messages/${delivered}/deliver`, {});
    await control(`messages/${failed}/fail`, {});
    expect(emulator.sent().map((m) => m.delivered)).toEqual([true, true]);
    expect(emulator.pendingReports('demo')).toEqual([
      expect.objectContaining({ taskId: delivered, status: 10 }),
      expect.objectContaining({ taskId: failed, status: 20, errorCode: 'UNDELIV' }),
    ]);
    expect(emulator.pendingReplies('demo')).toEqual([
      expect.objectContaining({ mobile: '13800138000', taskId: delivered, content: '自动回复' }),
    ]);
    // The scheduled time comes (flush): nothing is delivered or reported a second time.
    emulator.flush();
    expect(emulator.pendingReports('demo')).toHaveLength(2);
    expect(emulator.pendingReplies('demo')).toHaveLength(1);
  });

  it('answers 404 for an unknown task, 400 for a number the task was not sent to', async () => {
    expect((await control('messages/123/deliver', {})).status).toBe(404);
    const taskId = tag(
      (await send({ mobile: '13800138000', content: '【签名】hi' })).text,
      'taskID',
    )!;
    const wrong = await control(`messages/${taskId}/fail`, { mobile: '13700000000' });
    expect(wrong.status).toBe(400);
    expect((await control(`messages/${taskId}/bounce`, {})).status).toBe(404);
    expect(emulator.sent()[0]!.reports[0]!.status).toBe('pending');
  });
});

it('a reply from the page (POST replies) comes out of callApi.aspx and the inbox sees it pulled', async () => {
  await send({ mobile: '13800138000', content: '【签名】hi', extno: '01' });
  const events = await openEvents();
  try {
    await events.next();
    await control('replies', { account: 'demo', mobile: '13800138000', content: '好的' });
    const queued = await events.until((s) => s.replies.length === 1);
    expect(queued.replies[0]).toMatchObject({
      mobile: '13800138000',
      content: '好的',
      pulled: false,
    });
    const replies = boxes(
      (await post(emulator.url, '/callApi.aspx', { action: 'query', ...auth })).text,
      'callbox',
    );
    expect(replies).toEqual([
      expect.objectContaining({ mobile: '13800138000', content: '好的', extno: '01' }),
    ]);
    const pulled = await events.until((s) => s.replies[0]?.pulled === true);
    expect(pulled.replies).toHaveLength(1);
  } finally {
    events.close();
  }
});

describe('the page and its assets', () => {
  it('serves / as HTML that loads only its own assets, with their content types', async () => {
    const page = await raw(emulator.url, { path: '/' });
    expect(page.status).toBe(200);
    expect(page.contentType).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    const sources = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual(['data:,', '/__emulator/inbox/app.css', '/__emulator/inbox/app.js']);

    const js = await raw(emulator.url, { path: '/__emulator/inbox/app.js' });
    expect(js.status).toBe(200);
    expect(js.contentType).toBe('text/javascript; charset=utf-8');
    expect(js.text).toContain('/__emulator/events');
    expect(js.text).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    const css = await raw(emulator.url, { path: '/__emulator/inbox/app.css' });
    expect(css.status).toBe(200);
    expect(css.contentType).toBe('text/css; charset=utf-8');
    expect(css.text).not.toMatch(/@import|url\(/);

    for (const path of [
      '/__emulator/inbox/../index.js',
      '/__emulator/inbox/app.js.map',
      '/__emulator/inbox/',
    ]) {
      expect((await raw(emulator.url, { path })).status).toBe(404);
    }
  });

  it('answers 503 with how to build when the assets are missing', async () => {
    const server = createServer((_req, res) => serveInboxPage(res, undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await raw(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
        path: '/',
      });
      expect(res.status).toBe(503);
      expect(res.contentType).toBe('text/plain; charset=utf-8');
      expect(res.text).toContain('pnpm build');
    } finally {
      server.close();
    }
  });
});

describe('only its own origin', () => {
  it('refuses cross-origin and text/plain POSTs to deliver/fail', async () => {
    const taskId = tag(
      (await send({ mobile: '13800138000', content: '【签名】hi' })).text,
      'taskID',
    )!;
    const plain = await raw(emulator.url, {
      method: 'POST',
      path: `/__emulator/messages/${taskId}/fail`,
      body: '{}',
      contentType: 'text/plain',
    });
    expect(plain.status).toBe(415);
    const foreign = await control(
      `messages/${taskId}/deliver`,
      {},
      {
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
      },
    );
    expect(foreign.status).toBe(403);
    expect(emulator.sent()[0]!.reports[0]!.status).toBe('pending');
  });

  it('refuses a cross-site event stream or page, and any request naming a foreign host (DNS rebinding)', async () => {
    const crossSite = await raw(emulator.url, {
      path: '/__emulator/events',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    const rebound = { host: `rebind.evil.example:${emulator.port}` };
    // A same-origin GET or EventSource from the rebound page carries no Origin at all.
    for (const path of [
      '/',
      '/__emulator/events',
      '/__emulator/messages',
      '/__emulator/inbox/app.js',
    ]) {
      const res = await raw(emulator.url, { path, headers: rebound });
      expect(res.status, path).toBe(403);
      expect(res.text).toContain('rebind.evil.example');
    }
    const page = await raw(emulator.url, {
      path: '/',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(page.status).toBe(403);
    for (const host of [
      `localhost:${emulator.port}`,
      `[::1]:${emulator.port}`,
      `app.localhost:${emulator.port}`,
    ]) {
      expect((await raw(emulator.url, { path: '/', headers: { host } })).status).toBe(200);
    }
  });

  it('answers a host named in allowedHosts (or the host option)', async () => {
    const named = await startEmulator({
      accounts: [{ userId: '12', account: 'demo', password: 'secret' }],
      allowedHosts: ['SMS-Emulator'],
    });
    try {
      const host = (name: string) => ({ host: `${name}:${named.port}` });
      expect(
        (await raw(named.url, { path: '/__emulator/messages', headers: host('sms-emulator') }))
          .status,
      ).toBe(200);
      expect((await raw(named.url, { path: '/', headers: host('sms-emulator') })).status).toBe(200);
      expect(
        (await raw(named.url, { path: '/__emulator/messages', headers: host('other') })).status,
      ).toBe(403);
      // The platform endpoints answer any name, as before.
      const overage = await raw(named.url, {
        path: '/sms.aspx?action=overage&account=demo&password=secret',
        headers: host('other'),
      });
      expect(tag(overage.text, 'returnstatus')).toBe('Sucess');
    } finally {
      await named.close();
    }
  });
});
