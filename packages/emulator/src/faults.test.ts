/** Injected faults, seen from a raw HTTP client. */
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './index.js';
import { form, post, tag } from './test-utils/raw.js';

const auth = { userid: '12', account: 'demo', password: 'secret' };
const sendFields = { action: 'send', ...auth, mobile: '13800138000', content: '【签名】hi' };

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [{ userId: '12', account: 'demo', password: 'secret', balance: 10 }],
  });
});
afterAll(() => emulator.close());
afterEach(() => emulator.reset());

interface Outcome {
  status?: number;
  headers?: Record<string, unknown>;
  received: Buffer;
  complete: boolean;
  error?: NodeJS.ErrnoException;
}

/** A POST that reports whatever happened: partial bodies and errors included. */
function attempt(path: string, body: string): Promise<Outcome> {
  const url = new URL(emulator.url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const outcome: Outcome = { received: Buffer.alloc(0), complete: false };
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        outcome.status = res.statusCode;
        outcome.headers = res.headers;
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => {
          outcome.error = error;
        });
        res.on('close', () => {
          outcome.received = Buffer.concat(chunks);
          outcome.complete = res.complete;
          resolve(outcome);
        });
      },
    );
    req.on('error', (error) => {
      outcome.error = error;
      resolve(outcome);
    });
    req.end(body);
  });
}

describe('faults', () => {
  it('latency delays the normal answer', async () => {
    emulator.setFault({ type: 'latency', ms: 300 });
    const started = Date.now();
    const res = await post(emulator.url, '/sms.aspx', sendFields);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(tag(res.text, 'returnstatus')).toBe('Success');
  });

  it('html500 answers an HTML error page and does not handle the request', async () => {
    emulator.setFault({ type: 'html500' });
    const res = await post(emulator.url, '/sms.aspx', sendFields);
    expect(res.status).toBe(500);
    expect(res.contentType).toContain('text/html');
    expect(res.text).toContain("Server Error in '/' Application.");
    expect(emulator.sent()).toHaveLength(0);
    expect(emulator.account('demo').balance).toBe(10);
    expect(emulator.requests()[0]?.fault).toBe('html500');
  });

  it('html500 and malformed answer a custom body when given one', async () => {
    emulator.setFault({ type: 'html500', body: '<h1>oops</h1>', times: 1 });
    expect((await post(emulator.url, '/sms.aspx', sendFields)).text).toBe('<h1>oops</h1>');
    emulator.setFault({ type: 'malformed', body: 'garbage', times: 1 });
    expect((await post(emulator.url, '/sms.aspx', sendFields)).text).toBe('garbage');
  });

  it('malformed answers broken XML after handling the request', async () => {
    emulator.setFault({ type: 'malformed' });
    const res = await post(emulator.url, '/smsGBK.aspx', sendFields, 'gbk');
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('text/xml; charset=gb2312');
    expect(res.text.startsWith('<?xml')).toBe(true);
    expect(res.text.trimEnd().endsWith('</returnsms>')).toBe(false);
    expect(res.text).toContain('</mesage>');
    expect(emulator.sent()).toHaveLength(1);
    expect(emulator.account('demo').balance).toBe(9);
  });

  it('reset destroys the connection without an answer, after the send was recorded and billed', async () => {
    emulator.setFault({ type: 'reset' });
    const outcome = await attempt('/sms.aspx', form(sendFields));
    expect(outcome.status).toBeUndefined();
    expect(outcome.error?.code).toMatch(/ECONNRESET|EPIPE/);
    expect(emulator.sent()).toHaveLength(1);
    expect(emulator.account('demo').balance).toBe(9);
  });

  it('truncate promises more bytes than it sends, then closes', async () => {
    emulator.setFault({ type: 'truncate' });
    const outcome = await attempt('/sms.aspx', form(sendFields));
    expect(outcome.status).toBe(200);
    const promised = Number(outcome.headers?.['content-length']);
    expect(outcome.received.length).toBeGreaterThan(0);
    expect(outcome.received.length).toBeLessThan(promised);
    expect(outcome.complete).toBe(false);
    expect(outcome.received.toString('utf8')).not.toContain('</returnsms>');
    expect(emulator.sent()).toHaveLength(1);
  });

  it('can be limited to a path, an action and a number of requests', async () => {
    emulator.setFault({ type: 'html500', path: '/statusApi.aspx' });
    expect((await post(emulator.url, '/sms.aspx', sendFields)).status).toBe(200);
    expect((await post(emulator.url, '/statusapi.aspx', { action: 'query', ...auth })).status).toBe(
      500,
    );

    emulator.setFault({ type: 'html500', action: 'send', times: 2 });
    expect((await post(emulator.url, '/sms.aspx', { action: 'overage', ...auth })).status).toBe(
      200,
    );
    expect((await post(emulator.url, '/sms.aspx', sendFields)).status).toBe(500);
    expect((await post(emulator.url, '/smsGBK.aspx', sendFields, 'gbk')).status).toBe(500);
    expect((await post(emulator.url, '/sms.aspx', sendFields)).status).toBe(200);
  });

  it('setFault(null) and reset() clear the fault; bad faults are refused', async () => {
    emulator.setFault({ type: 'html500' });
    emulator.setFault(null);
    expect((await post(emulator.url, '/sms.aspx', sendFields)).status).toBe(200);
    emulator.setFault({ type: 'html500' });
    emulator.reset();
    expect((await post(emulator.url, '/sms.aspx', sendFields)).status).toBe(200);
    expect(() => emulator.setFault({ type: 'explode' } as never)).toThrow(/fault type/);
    expect(() => emulator.setFault({ type: 'latency', ms: -1 })).toThrow(/ms/);
  });

  it('close() does not wait for a pending latency fault', async () => {
    const slow = await startEmulator({
      accounts: [{ userId: '12', account: 'demo', password: 'secret' }],
    });
    slow.setFault({ type: 'latency', ms: 60_000 });
    const pending = post(slow.url, '/sms.aspx', sendFields).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await slow.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(Error);
  });
});
