import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanEnv, platformEnv, runCli, startPlatform } from './test-utils/harness.js';

/** A platform whose checkkeyword answer is the path's last segment (URL-encoded). */
function answeringServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const [, answer = ''] = /^\/([^/]*)\//.exec(req.url ?? '') ?? [];
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      res.end(decodeURIComponent(answer));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${port}` });
    }),
  );
}

const returnsms = (body: string) =>
  encodeURIComponent(`<?xml version="1.0" encoding="utf-8"?><returnsms>${body}</returnsms>`);

describe('sms check prints the words the platform names', () => {
  let platform: Awaited<ReturnType<typeof answeringServer>>;
  beforeAll(async () => {
    assertBuilt();
    platform = await answeringServer();
  });
  afterAll(() => new Promise<void>((resolve) => platform.server.close(() => resolve())));

  const check = (answer: string, json = false) =>
    runCli(['check', ...(json ? ['--json'] : []), '【示例】六合彩开奖'], {
      env: cleanEnv({
        SMS_BASE_URL: `${platform.url}/${answer}/`,
        SMS_ACCOUNT: 'demo',
        SMS_PASSWORD: 'secret',
      }),
    });

  it('as docs/cli.md shows it: blocked: <words> (<platform message>)', async () => {
    const answer = returnsms('<message>包含非法字符：六合彩,赌博</message>');
    const human = await check(answer);
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(
      /^keywords {3}blocked: 六合彩, 赌博 \(包含非法字符：六合彩,赌博\)$/m,
    );
    const json = await check(answer, true);
    expect(JSON.parse(json.stdout)).toMatchObject({ blocked: true, words: ['六合彩', '赌博'] });
  });

  it('--json says "ok": false with exit 3 when blocked (it said true), "ok": true with exit 0 when clean', async () => {
    const blocked = await check(returnsms('<message>包含非法字符：六合彩</message>'), true);
    expect(blocked.code).toBe(3);
    expect(JSON.parse(blocked.stdout)).toMatchObject({ ok: false, exitCode: 3, blocked: true });
    const clean = await check(returnsms('<message>没有包含屏蔽词</message>'), true);
    expect(clean.code).toBe(0);
    const doc = JSON.parse(clean.stdout);
    expect(doc).toMatchObject({ ok: true, blocked: false });
    expect(doc).not.toHaveProperty('exitCode');
  });

  it('in the send failure form (returnstatus Faild) too', async () => {
    const human = await check(
      returnsms('<returnstatus>Faild</returnstatus><message>包含非法字符：六合彩</message>'),
    );
    expect(human.code).toBe(3);
    expect(human.stdout).toContain('blocked: 六合彩 (包含非法字符：六合彩)');
  });

  it('a platform that names none: blocked, and the message as it came', async () => {
    const human = await check(returnsms('<message>包含非法字符</message>'));
    expect(human.code).toBe(3);
    expect(human.stdout).toMatch(/^keywords {3}blocked \(包含非法字符\)$/m);
  });
});

describe('docs/cli.md', () => {
  it('shows `sms check` as it prints against the emulator (default keywords)', async () => {
    const docs = await readFile(new URL('../../../docs/cli.md', import.meta.url), 'utf8');
    const [, command, shown] = /```\n\$ sms check "([^"]+)"\n([\s\S]*?)```/.exec(docs) ?? [];
    expect(command).toBeDefined();
    assertBuilt();
    const emulator = await startPlatform({ keywords: undefined });
    try {
      const result = await runCli(['check', command!], { env: platformEnv(emulator.url) });
      expect(result.code).toBe(3);
      expect(result.stdout).toBe(shown);
    } finally {
      await emulator.close();
    }
  });
});
