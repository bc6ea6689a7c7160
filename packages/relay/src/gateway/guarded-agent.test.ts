/** The callback dispatcher over real sockets and the system resolver: only loopback is used. */
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Receiver, startReceiver } from '../test-utils/receiver.js';
import { secret } from '../test-utils/setup.js';
import { callbackPolicy } from '../shared/address-policy.js';
import { guardedAgent } from './guarded-agent.js';

let rx: Receiver;
beforeAll(async () => {
  rx = await startReceiver({ secret });
});
afterAll(() => rx.close());
afterEach(() => {
  rx.received.length = 0;
});

async function post(allow: string[], url: string) {
  const agent = guardedAgent(callbackPolicy(allow), { connectTimeoutMs: 2000 });
  try {
    const response = await request(url, { method: 'POST', body: '{}', dispatcher: agent });
    await response.body.dump();
    return { status: response.statusCode };
  } catch (error) {
    return { error: error as Error & { code?: string } };
  } finally {
    await agent.close();
  }
}

describe('guardedAgent', () => {
  it('refuses loopback by default, checked on the address a name resolves to (localhost, from the system resolver)', async () => {
    const port = new URL(rx.url).port;
    for (const host of ['localhost', '127.0.0.1', '[::ffff:127.0.0.1]', '2130706433']) {
      const { error } = await post([], `http://${host}:${port}/cb`);
      expect(error?.code, host).toBe('CALLBACK_REFUSED');
      expect(error?.message, host).toMatch(/is loopback/);
    }
    expect(rx.received).toEqual([]);
  });

  it('connects where callbackAllow opens it: a CIDR (only to the allowed addresses of a name) or a trusted host:port', async () => {
    const port = new URL(rx.url).port;
    // localhost may resolve to ::1 first: only 127.0.0.1 is allowed, so only it is tried.
    expect(await post(['127.0.0.1'], `http://localhost:${port}/a`)).toEqual({ status: 204 });
    expect(await post(['127.0.0.0/8'], `http://2130706433:${port}/b`)).toEqual({ status: 204 });
    expect(await post([`localhost:${port}`], `http://localhost:${port}/c`)).toEqual({
      status: 204,
    });
    // Another port of a trusted name is not trusted.
    const other = await post(['localhost:1'], `http://localhost:${port}/d`);
    expect(other.error?.code).toBe('CALLBACK_REFUSED');
    expect(rx.received).toHaveLength(3);
  });
});
