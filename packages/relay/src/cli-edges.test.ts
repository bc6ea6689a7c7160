/**
 * The edges a newcomer reaches first: usage mistakes, a store that cannot be opened, a
 * config key named differently from what the user wrote. All through the built CLI.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './test-utils/cli.js';
import { PASSWORD, secret, tempDir } from './test-utils/setup.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

function config(store: unknown, target: Record<string, unknown> = { secret }) {
  return {
    store,
    accounts: [
      {
        name: 'main',
        baseUrl: 'http://127.0.0.1:9',
        userId: '12',
        account: 'demo',
        password: PASSWORD,
      },
    ],
    targets: [{ name: 'app', url: 'http://127.0.0.1:9/hook', ...target }],
  };
}

/** One line on stderr, the usage text not dumped after it. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('usage errors exit 2 with one line', () => {
  it('an unknown flag (run --verbose)', async () => {
    const path = await runCli.writeConfig(tmp.dir, config({ sqlite: join(tmp.dir, 'a.db') }));
    const result = await runCli(['run', '--verbose', '--config', path]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toMatch(
      /^sms-relay: Unknown option '--verbose' \(see: sms-relay --help\)$/,
    );
  });

  it('--config without its value', async () => {
    const result = await runCli(['status', '--config']);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toContain("'-c, --config <value>' argument missing");
  });

  it('an unknown command, and a stray argument', async () => {
    const unknown = await runCli(['statsu']);
    expect(unknown.code).toBe(2);
    expect(oneLine(unknown.stderr)).toBe(
      'sms-relay: unknown command "statsu" (commands: run, status, dead, replay, enable, message, secret)',
    );
    const stray = await runCli(['status', 'now']);
    expect(stray.code).toBe(2);
    expect(oneLine(stray.stderr)).toContain('unexpected argument "now"');
  });

  it('a config file that is not there', async () => {
    const result = await runCli(['status', '--config', join(tmp.dir, 'nope.json')]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toContain('cannot read');
  });

  it('--help and --version still exit 0', async () => {
    expect((await runCli(['--help'])).code).toBe(0);
    expect((await runCli(['--version'])).code).toBe(0);
  });
});

describe('a store that cannot be opened is a config error naming the field', () => {
  it('store.sqlite in a folder that does not exist', async () => {
    const file = join(tmp.dir, 'no-such-folder', 'relay.db');
    const path = await runCli.writeConfig(tmp.dir, config({ sqlite: file }));
    for (const args of [['status'], ['run']]) {
      const result = await runCli([...args, '--config', path]);
      expect(result.code).toBe(2);
      const line = oneLine(result.stderr);
      expect(line).toContain('config store.sqlite: cannot open');
      expect(line).toContain(file);
      expect(line).toMatch(/directory does not exist/);
    }
  });

  it('a SQLite file that does not exist: said so, exit 2, and no empty store created (status reported zeros)', async () => {
    const file = join(tmp.dir, 'mistyped.db');
    const path = await runCli.writeConfig(tmp.dir, config({ sqlite: file }));
    for (const args of [
      ['status'],
      ['status', '--json'],
      ['dead'],
      ['replay'],
      ['enable', '--target', 'app'],
    ]) {
      const result = await runCli([...args, '--config', path]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(oneLine(result.stderr)).toContain(
        `config store.sqlite: ${file} does not exist (sms-relay run creates it; check the path)`,
      );
      expect(existsSync(file)).toBe(false);
      expect(existsSync(`${file}-wal`)).toBe(false);
    }
  });

  it('store.postgres on the wrong port: host:port, never the password', async () => {
    const url = 'postgres://admin:Sup3r-S3cret@127.0.0.1:1/test';
    const path = await runCli.writeConfig(tmp.dir, config({ postgres: url }));
    for (const args of [['status'], ['run']]) {
      const result = await runCli([...args, '--config', path]);
      expect(result.code).toBe(2);
      const line = oneLine(result.stderr);
      expect(line).toContain('config store.postgres: cannot open 127.0.0.1:1/test');
      expect(line).toContain('ECONNREFUSED');
      expect(line).not.toContain('Sup3r-S3cret');
      expect(line).not.toContain('admin');
    }
  });
});

describe('config errors use the name the user wrote', () => {
  async function runWith(target: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const path = await runCli.writeConfig(tmp.dir, {
      ...config({ sqlite: join(tmp.dir, 'names.db') }, target),
      ...extra,
    });
    const result = await runCli(['run', '--config', path]);
    expect(result.code).toBe(2);
    return oneLine(result.stderr);
  }

  it('a missing secret is targets[0].secret', async () => {
    expect(await runWith({})).toContain('config targets[0].secret: is required');
    expect(await runWith({ secret: null })).toContain('config targets[0].secret: is required');
    expect(await runWith({ secrets: ['nope'] })).toContain('config targets[0].secrets[0]:');
    expect(await runWith({ secret, secrets: [secret] })).toContain('not both');
  });

  it('a key spelled as the protocol spells it (userid) is named, not silently ignored', async () => {
    const path = await runCli.writeConfig(tmp.dir, {
      ...config({ sqlite: join(tmp.dir, 'names.db') }),
      accounts: [
        {
          name: 'main',
          baseUrl: 'http://127.0.0.1:9',
          userid: '12',
          account: 'demo',
          password: PASSWORD,
        },
      ],
    });
    const result = await runCli(['run', '--config', path]);
    expect(result.code).toBe(2);
    expect(oneLine(result.stderr)).toContain(
      'config accounts[0].userid: is not a known setting (did you mean "userId"?)',
    );
    expect(await runWith({ secret, secretz: 'x' })).toContain('targets[0].secretz');
    expect(await runWith({ secret }, { http: { port: 0, hots: 'x' } })).toContain('http.hots');
    expect(await runWith({ secret }, { delivery: { retries: 3 } })).toContain('delivery.retries');
  });
});

describe('sms-relay secret', () => {
  it('prints a new Standard Webhooks secret (whsec_ + base64 of 24 to 32 bytes) that a target accepts', async () => {
    const first = await runCli(['secret']);
    const second = await runCli(['secret']);
    for (const result of [first, second]) {
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(result.stdout).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}\n$/);
      const bytes = Buffer.from(result.stdout.trim().slice('whsec_'.length), 'base64');
      expect(bytes.length).toBeGreaterThanOrEqual(24);
      expect(bytes.length).toBeLessThanOrEqual(32);
    }
    expect(first.stdout).not.toBe(second.stdout);
    const secret = first.stdout.trim();

    // The reference implementation takes it, and the relay's config does too.
    const body = '{"type":"sms.report"}';
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
    };
    const webhook = new Webhook(secret);
    const signature = webhook.sign(
      'msg_1',
      new Date(Number(headers['webhook-timestamp']) * 1000),
      body,
    );
    expect(webhook.verify(body, { ...headers, 'webhook-signature': signature })).toEqual({
      type: 'sms.report',
    });
    const path = await runCli.writeConfig(
      tmp.dir,
      config({ sqlite: join(tmp.dir, 's.db') }, { secret }),
    );
    const check = await runCli(['config', 'check', '--config', path]);
    expect(check.code, check.stderr).toBe(0);

    const json = await runCli(['secret', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
  });
});
