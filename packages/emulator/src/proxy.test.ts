/**
 * The emulator as an HTTP proxy: a client whose platform host is hard-coded (the official
 * Java demo classes) is pointed at the emulator through its proxy setting, and then sends the
 * absolute form `POST http://host:port/sms.aspx HTTP/1.1` (RFC 9112 §3.2.2). The target's host
 * is a loopback port where nothing listens: had the proxying failed, the call would be refused.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './index.js';
import { form, raw, tag } from './test-utils/raw.js';

/** Port 9 (discard) on loopback: nothing answers there. */
const HARD_CODED = 'http://127.0.0.1:9';
const auth = { userid: '12', account: 'demo', password: 'secret' };
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());
afterEach(() => emulator.reset());

describe('absolute-form request targets', () => {
  const body = (fields: Record<string, string>) => form({ ...auth, ...fields });

  it.each([
    ['http', `${HARD_CODED}/sms.aspx`],
    ['upper-case scheme and path', `HTTP://127.0.0.1:9/SMS.aspx`],
    ['no port', 'http://localhost/sms.aspx'],
  ])('answers a send whose target is absolute (%s) as the origin form does', async (_, target) => {
    const proxied = await raw(emulator.url, {
      path: target,
      body: body({ action: 'send', mobile: '13800138000', content: '【测试】代理' }),
    });
    expect(proxied.status).toBe(200);
    expect(tag(proxied.text, 'returnstatus')).toBe('Success');
    expect(emulator.sent().map((message) => message.content)).toEqual(['【测试】代理']);
  });

  it('takes the query of an absolute target as it takes an origin one', async () => {
    const direct = await raw(emulator.url, { path: `/sms.aspx?action=overage&${form(auth)}` });
    const proxied = await raw(emulator.url, {
      path: `${HARD_CODED}/sms.aspx?action=overage&${form(auth)}`,
    });
    expect(proxied.status).toBe(200);
    expect(proxied.text).toBe(direct.text);
    expect(tag(proxied.text, 'overage')).toBe('1000');
  });

  it('records the target as the client sent it', async () => {
    await raw(emulator.url, {
      path: `${HARD_CODED}/callApi.aspx`,
      body: body({ action: 'query' }),
    });
    const [request] = emulator.requests();
    expect(request?.path).toBe('/callApi.aspx');
    expect(request?.url).toBe(`${HARD_CODED}/callApi.aspx`);
  });

  it('keeps the inbox and the control API to their own origin', async () => {
    for (const path of [`${HARD_CODED}/`, `${HARD_CODED}/__emulator/accounts`]) {
      const answer = await raw(emulator.url, { path });
      expect(answer.status, path).toBe(404);
      expect(answer.text).not.toContain('secret');
    }
    // and the origin form still reaches them
    expect((await raw(emulator.url, { path: '/__emulator/accounts' })).status).toBe(200);
  });

  it('refuses a target that is neither form, and sends nothing', async () => {
    const send = body({ action: 'send', mobile: '13800138000', content: '【测试】代理' });
    for (const path of ['*', 'ftp://127.0.0.1/sms.aspx', 'file:///sms.aspx']) {
      expect((await raw(emulator.url, { path, body: send })).status, path).toBe(404);
    }
    // Node's own parser refuses a target that is no URL at all
    expect((await raw(emulator.url, { path: 'sms.aspx', body: send })).status).toBe(400);
    expect(emulator.sent()).toEqual([]);
  });
});

describe('a Java client with the emulator as its HTTP proxy', () => {
  const run = promisify(execFile);
  let classes: string;
  beforeAll(async () => {
    // compiled once: a JVM that compiles the source at every start takes a second each time
    classes = await mkdtemp(join(tmpdir(), 'sms-java-'));
    const source = fileURLToPath(new URL('./test-utils/PlatformClient.java', import.meta.url));
    await run('javac', ['-d', classes, source], { timeout: 60_000 }).catch((error: unknown) => {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      // never skipped: .ci/run installs a JDK where there is none
      throw missing ? new Error('no javac: apt-get install -y default-jdk-headless') : error;
    });
  }, 90_000);
  afterAll(() => rm(classes, { recursive: true, force: true }));

  async function java(viaProxy: boolean, url: string, fields: Record<string, string>) {
    const proxy = viaProxy
      ? // an empty nonProxyHosts: the JDK would otherwise go straight to a loopback host
        [`-Dhttp.proxyHost=127.0.0.1`, `-Dhttp.proxyPort=${emulator.port}`, '-Dhttp.nonProxyHosts=']
      : [];
    const params = Object.entries({ ...auth, ...fields }).map(([k, v]) => `${k}=${v}`);
    const { stdout } = await run(
      'java',
      [...proxy, '-cp', classes, 'PlatformClient', url, ...params],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const newline = stdout.indexOf('\n');
    return { status: Number(stdout.slice(0, newline)), body: stdout.slice(newline + 1) };
  }

  it('gets the same answers as one that calls the emulator directly', async () => {
    const calls: Array<Record<string, string>> = [
      { action: 'overage' },
      { action: 'checkkeyword', content: '【测试】六合彩' },
      { action: 'send', mobile: '13800138000,12345', content: '' },
      { action: 'send', mobile: '13800138000', content: '【测试】验证码 1234' },
    ];
    for (const fields of calls) {
      const direct = await java(false, `${emulator.url}/sms.aspx`, fields);
      const proxied = await java(true, `${HARD_CODED}/sms.aspx`, fields);
      expect(proxied.status, fields.action).toBe(200);
      // a send's task ID and the balance it leaves differ; everything else is the same
      const stable = (xml: string) =>
        xml
          .replace(/<taskID>\d+<\/taskID>/, '<taskID/>')
          .replace(/<remainpoint>\d+</, '<remainpoint><');
      expect(stable(proxied.body), fields.action).toBe(stable(direct.body));
    }
    expect(emulator.sent().map((message) => message.content)).toEqual([
      '【测试】验证码 1234',
      '【测试】验证码 1234',
    ]);
    const paths = emulator.requests().map((request) => request.url.replace(/\?.*/, ''));
    expect(paths.filter((url) => url === `${HARD_CODED}/sms.aspx`)).toHaveLength(calls.length);
  }, 60_000);
});

describe('startEmulator() with no options', () => {
  it('has the documented default account (12 / demo / secret, 1000 points)', async () => {
    const answer = await raw(emulator.url, {
      path: '/sms.aspx',
      body: form({ ...auth, action: 'overage' }),
    });
    expect(tag(answer.text, 'returnstatus')).toBe('Sucess');
    expect(emulator.accounts()).toEqual([
      expect.objectContaining({ userId: '12', account: 'demo', balance: 1000 }),
    ]);
  });

  it('keeps an explicit empty account list empty', async () => {
    const empty = await startEmulator({ accounts: [] });
    try {
      expect(empty.accounts()).toEqual([]);
    } finally {
      await empty.close();
    }
  });
});
