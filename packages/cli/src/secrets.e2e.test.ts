import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanEnv, runCli } from './test-utils/harness.js';
import { spellings } from './test-utils/spellings.js';

const PASSWORD = 'Top Secret&密99';
const XML_OPENING = '<?xml version="1.0"?><returnsms><message>';

/**
 * A platform that echoes the request form back: as sent, with lower-case hex, with `+` for
 * spaces and decoded, in an HTML 500 page or in a malformed 200; `pad` places the password
 * where core's 200-character excerpt cuts it off.
 */
function echoServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('latin1');
      const url = new URL(req.url ?? '/', 'http://x');
      const lower = body.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
      const plus = body.replace(/%20/g, '+');
      let decoded = '';
      try {
        decoded = decodeURIComponent(body);
      } catch {
        decoded = body;
      }
      const echo = `${body} | ${lower} | ${plus} | ${decoded}`;
      // Where the password's value starts in the excerpt: 10 characters before its cut, or 20
      // (`Top%20Secret%26%E5%A…`: cut inside the encoded 密).
      const html = url.pathname.startsWith('/html');
      const opening = html ? 3 : XML_OPENING.length;
      const start = url.pathname.includes('/cut/')
        ? 190
        : url.pathname.includes('/cutmb/')
          ? 180
          : 0;
      const at = opening + body.indexOf('password=') + 'password='.length;
      const pad = 'x'.repeat(Math.max(0, start - at));
      if (html) {
        res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<p>${pad}${echo}</p>`);
      } else {
        res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
        res.end(`${XML_OPENING}${pad}${echo}</messa`);
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${port}` });
    }),
  );
}

describe('the password is masked in every encoding a server echoes it in', () => {
  let echo: Awaited<ReturnType<typeof echoServer>>;
  beforeAll(async () => {
    assertBuilt();
    echo = await echoServer();
  });
  afterAll(() => new Promise<void>((resolve) => echo.server.close(() => resolve())));

  const cases = [];
  for (const kind of ['html', 'malformed'])
    for (const where of ['', 'cut/', 'cutmb/'])
      for (const charset of ['utf-8', 'gbk'])
        for (const json of [false, true]) cases.push({ kind, where, charset, json });

  it.each(cases)('%o', async ({ kind, where, charset, json }) => {
    const result = await runCli(
      [
        'send',
        '--to',
        '13800138000',
        '--content',
        '【Acme】hi',
        '--charset',
        charset,
        ...(json ? ['--json'] : []),
      ],
      {
        env: cleanEnv({
          SMS_BASE_URL: `${echo.url}/${kind}/${where}`,
          SMS_ACCOUNT: 'acme',
          SMS_PASSWORD: PASSWORD,
          SMS_DEBUG: '1',
        }),
      },
    );
    const printed = result.stdout + result.stderr;
    expect(result.code).toBe(5);
    // The echo was printed (the test is not vacuous), the password in no form.
    expect(printed).toContain('account=acme');
    expect(printed).toContain('***');
    for (const spelled of spellings(PASSWORD)) expect(printed).not.toContain(spelled);
    expect(printed).not.toMatch(/Sec|%e5%af|%c3%dc|密/i);
  });

  it('balance (retried, read-only) and --password-stdin too', async () => {
    const result = await runCli(['balance', '--password-stdin'], {
      env: cleanEnv({ SMS_BASE_URL: `${echo.url}/html/cut/`, SMS_ACCOUNT: 'acme' }),
      input: `${PASSWORD}\n`,
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('account=acme&password=***…');
    expect(result.stdout + result.stderr).not.toMatch(/Sec|%e5%af|密/i);
  });
});
