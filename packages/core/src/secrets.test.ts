import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeForm } from './charset.js';
import { SmsClient } from './client.js';
import { SmsError } from './errors.js';
import { maskSecrets, secretVariants } from './secrets.js';

const PASSWORD = 'Top Secret&99';
const CHINESE = '密码 Ab&1';

/** Every way the brief says a password reaches a page or a log. */
function spellings(secret: string): string[] {
  const utf8 = encodeURIComponent(secret);
  const gbk = [...iconv.encode(secret, 'gbk')]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
  const lower = (text: string) => text.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
  const plus = (text: string) => text.replace(/%20/g, '+');
  return [
    secret,
    utf8,
    lower(utf8),
    plus(utf8),
    plus(lower(utf8)),
    new URLSearchParams({ p: secret }).toString().slice(2),
    gbk,
    lower(gbk),
    plus(gbk),
    secret.replace(/&/g, '&amp;'),
    secret.replace(/&/g, '&#38;'),
    JSON.stringify(secret).slice(1, -1).replace(/&/g, '\\u0026'),
  ];
}

describe('maskSecrets', () => {
  it('masks the password raw, percent-encoded (upper and lower hex, + or %20), GBK-encoded, HTML and JSON escaped', () => {
    expect(spellings(PASSWORD)).toContain('Top%20Secret%2699');
    for (const secret of [PASSWORD, CHINESE]) {
      for (const spelled of spellings(secret)) {
        const masked = maskSecrets(`before ${spelled} after`, [secret]);
        expect(masked, spelled).toBe('before *** after');
      }
    }
  });

  it('secretVariants lists the plain spellings, and maskSecrets masks each', () => {
    const variants = secretVariants(CHINESE);
    expect(variants).toContain(CHINESE);
    expect(variants).toContain(encodeURIComponent(CHINESE));
    expect(variants).toContain(spellings(CHINESE)[6]);
    expect(variants).toContain(spellings(CHINESE)[7]);
    expect(secretVariants(PASSWORD)).toEqual(
      expect.arrayContaining([PASSWORD, 'Top%20Secret%2699', 'Top+Secret%2699']),
    );
    for (const variant of [...variants, ...secretVariants(PASSWORD)]) {
      expect(maskSecrets(`<p>${variant}</p>`, [CHINESE, PASSWORD])).toBe('<p>***</p>');
    }
    expect(secretVariants('')).toEqual([]);
  });

  it('leaves text without the secret alone, and stays linear on hostile input', () => {
    expect(maskSecrets('Top Secret 99', [PASSWORD])).toBe('Top Secret 99');
    expect(maskSecrets('nothing here', [])).toBe('nothing here');
    const bait = `${'Top%20Secret%26'.repeat(20_000)}9`;
    const started = performance.now();
    maskSecrets(bait, [PASSWORD]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('standalone: a short secret is masked where it stands alone, never inside a number or a word', () => {
    const opts = { standalone: true };
    expect(maskSecrets('{"now":1796533045033,"n":17}', ['17'], opts)).toBe(
      '{"now":1796533045033,"n":***}',
    );
    expect(maskSecrets('"type":"sms.report"', ['p'], opts)).toBe('"type":"sms.report"');
    expect(maskSecrets('password=123456&x=1234567', ['123456'], opts)).toBe(
      'password=***&x=1234567',
    );
    // Percent-encoded, after an encoded separator, or as JSON escapes: still masked.
    expect(maskSecrets('pw%3D%31%32%33%34%35%36&', ['123456'], opts)).toBe('pw%3D***&');
    expect(maskSecrets('"\\u0073ecret"', ['secret'], opts)).toBe('"***"');
    expect(maskSecrets('a secret, secrets, secret.', ['secret'], opts)).toBe(
      'a ***, secrets, ***.',
    );
    // A cut excerpt still loses the start of a secret that stands alone.
    expect(maskSecrets('password=1234…', ['123456'], opts)).toBe('password=***…');
    expect(maskSecrets('id=991234…', ['123456'], opts)).toBe('id=991234…');
  });

  it('any secret, written any of those ways, is gone from the text', () => {
    fc.assert(
      fc.property(
        fc
          .string({ minLength: 1, maxLength: 24, unit: 'grapheme' })
          .filter((s) => !s.includes('*')),
        fc.nat({ max: 11 }),
        (secret, which) => {
          const gbkable = iconv.decode(iconv.encode(secret, 'gbk'), 'gbk') === secret;
          fc.pre(gbkable || which < 6 || which > 8);
          const spelled = spellings(secret)[which]!;
          for (const standalone of [false, true]) {
            const masked = maskSecrets(`x=${spelled}&y`, [secret], { standalone });
            expect(masked).not.toContain(spelled);
            expect(masked).toContain('***');
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

/**
 * A platform that echoes the request form back: in an HTML 500 page (the ASP.NET yellow
 * screen), in a malformed 200, and in the Chinese message of a refusal.
 */
let server: Server;
let baseUrl: string;
let answer: 'html500' | 'malformed200' | 'refusal' | 'json200' = 'html500';
const clients: SmsClient[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const form = Buffer.concat(chunks).toString('latin1');
      const charset = /charset=gb/i.test(req.headers['content-type'] ?? '') ? 'gbk' : 'utf-8';
      const decoded = decodeForm(Buffer.concat(chunks), charset).get('password') ?? '';
      res.setHeader('content-type', 'text/xml; charset=utf-8');
      if (answer === 'html500') {
        res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' });
        res.end(
          `<html><body><h1>Server Error</h1><p>Request form: ${form}</p><p>password=${decoded.replace(/&/g, '&amp;')}</p><p>lower: ${form.toLowerCase()}</p></body></html>`,
        );
      } else if (answer === 'malformed200') {
        res.end(`<returnsms><message>bad request ${form} (${decoded})</message`);
      } else if (answer === 'json200') {
        res.end(`{"message": ${JSON.stringify(`echo ${decoded} ${form}`)}, `);
      } else {
        res.end(
          `<returnsms><returnstatus>Faild</returnstatus><message>用户名或密码错误 ${decoded} ${form}</message></returnsms>`,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function everythingPrinted(error: SmsError): string {
  const printed: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => printed.push(args.map((a) => inspect(a)).join(' '));
  try {
    console.log(error);
  } finally {
    console.log = original;
  }
  return [
    error.message,
    error.stack ?? '',
    error.excerpt ?? '',
    error.platformMessage ?? '',
    JSON.stringify(error),
    JSON.stringify(error.toJSON()),
    inspect(error),
    inspect(error, { depth: 10 }),
    String(error),
    ...printed,
  ].join('\n');
}

describe('SmsError.response', () => {
  it('keeps the raw bytes but is never printed by inspect, console.log or toJSON', () => {
    const error = new SmsError('overage: HTTP 500', { code: 'HTTP', status: 500 });
    const body = Buffer.from('<p>password=Top%20Secret%2699</p>');
    error.response = { status: 500, contentType: 'text/html', body, receivedAt: new Date() };
    expect(error.response.body).toBe(body);
    expect(Object.keys(error)).not.toContain('response');
    const shown = everythingPrinted(error);
    expect(shown).not.toMatch(/response|<Buffer|Top%20Secret/);
  });
});

describe('a server that echoes the password back', () => {
  for (const [charset, password] of [
    ['utf-8', PASSWORD],
    ['gbk', CHINESE],
    ['utf-8', CHINESE],
  ] as const) {
    for (const kind of ['html500', 'malformed200', 'refusal', 'json200'] as const) {
      it(`${kind} (${charset}, ${JSON.stringify(password)}): no spelling of it in the error or the logs; response keeps the bytes`, async () => {
        answer = kind;
        const logged: string[] = [];
        const log = (message: string, fields?: Record<string, unknown>) =>
          logged.push(`${message} ${JSON.stringify(fields)}`);
        const sms = new SmsClient({
          baseUrl,
          account: 'demo',
          password,
          charset,
          retry: false,
          logger: { debug: log, info: log, warn: log, error: log },
        });
        clients.push(sms);
        const error = await sms.balance().then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(error).toBeInstanceOf(SmsError);
        const smsError = error as SmsError;
        const shown = `${everythingPrinted(smsError)}\n${logged.join('\n')}`;
        for (const spelled of spellings(password)) {
          expect(shown, `${spelled} leaked`).not.toContain(spelled);
        }
        expect(shown).toContain('***');
        if (kind !== 'refusal') {
          // The raw bytes stay whole for whoever must keep them (the relay's quarantine)...
          const raw = smsError.response?.body.toString('latin1') ?? '';
          expect(raw).toContain(spellings(password)[charset === 'gbk' ? 6 : 1]!);
          // ...but are not an enumerable property: inspect and JSON skip them.
          expect(Object.keys(smsError)).not.toContain('response');
        }
        if (kind === 'refusal')
          expect(smsError.platformMessage).toMatch(/^用户名或密码错误 \*\*\* /);
      });
    }
  }

  it('masks a new password echoed back by changePassword', async () => {
    answer = 'refusal';
    const sms = new SmsClient({ baseUrl, account: 'demo', password: 'old-pass', retry: false });
    clients.push(sms);
    const error = (await sms.changePassword('N3w Pass&word').catch((e: unknown) => e)) as SmsError;
    expect(error).toBeInstanceOf(SmsError);
    const shown = everythingPrinted(error);
    for (const spelled of [...spellings('N3w Pass&word'), 'old-pass']) {
      expect(shown).not.toContain(spelled);
    }
  });
});
