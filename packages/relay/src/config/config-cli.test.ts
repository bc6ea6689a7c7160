/** `sms-relay config check`, and every config problem on its own line, through the built CLI. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-utils/cli.js';
import { PASSWORD, secret, tempDir } from '../test-utils/setup.js';

let tmp: ReturnType<typeof tempDir>;
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

const TOKEN = 'tok3n-in-the-url-query';
function config(extra: Record<string, unknown> = {}) {
  return {
    store: { sqlite: 'relay.db' },
    accounts: [
      {
        name: 'main',
        baseUrl: 'http://127.0.0.1:9',
        userId: '12',
        account: 'demo',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${ENV} syntax
        password: '${SMS_PASSWORD}',
      },
    ],
    targets: [{ name: 'app', url: `https://example.test/hook?token=${TOKEN}`, secret }],
    ...extra,
  };
}

function noSecrets(output: string): void {
  for (const value of [PASSWORD, secret, secret.slice(6), TOKEN]) {
    expect(output).not.toContain(value);
  }
}

describe('sms-relay config check', () => {
  it('a valid config: exit 0 and a short summary, no secret in it', async () => {
    const path = await runCli.writeConfig(tmp.dir, config());
    const result = await runCli(['config', 'check', '--config', path], { SMS_PASSWORD: PASSWORD });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${path}: valid`);
    expect(result.stdout).toContain(`sqlite ${join(tmp.dir, 'relay.db')}`);
    expect(result.stdout).toContain('main → http://127.0.0.1:9/');
    expect(result.stdout).toContain(
      'app → https://example.test/hook (sms.report, sms.reply of main; 1 secret)',
    );
    noSecrets(result.stdout);
  });

  it('every problem, one per line, exit 2; run says the same', async () => {
    const path = await runCli.writeConfig(
      tmp.dir,
      config({
        accounts: [{ ...config().accounts[0], baseUrl: 'ftp://x' }],
        delivery: { concurrency: 0 },
      }),
    );
    const expected = [
      'sms-relay: [sms] [relay] config accounts[0].password: environment variable SMS_PASSWORD is not set',
      'sms-relay: [sms] [relay] config accounts[0].baseUrl: must be an http: or https: URL',
      'sms-relay: [sms] [relay] config delivery.concurrency: must be an integer >= 1',
    ];
    for (const args of [['config', 'check'], ['run']]) {
      const result = await runCli([...args, '--config', path]);
      expect(result.code).toBe(2);
      expect(result.stderr.trimEnd().split('\n').sort()).toEqual([...expected].sort());
      expect(result.stdout).toBe('');
    }
  });

  it('--json: the issues as data', async () => {
    const path = await runCli.writeConfig(
      tmp.dir,
      config({ targets: [{ name: 'app', url: 'https://example.test/', secret: PASSWORD }] }),
    );
    const bad = await runCli(['config', 'check', '--json', '--config', path], {
      SMS_PASSWORD: PASSWORD,
    });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toEqual({
      valid: false,
      issues: [
        { field: 'targets[0].secret', message: 'must be a whsec_ secret (whsec_ + base64)' },
      ],
    });
    noSecrets(bad.stdout + bad.stderr);
    const good = await runCli(
      ['config', 'check', '--json', '--config', await runCli.writeConfig(tmp.dir, config())],
      { SMS_PASSWORD: PASSWORD, SMS_RELAY_DELIVERY_CONCURRENCY: '4' },
    );
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({
      valid: true,
      accounts: ['main'],
      targets: ['app'],
      fromEnv: ['SMS_RELAY_DELIVERY_CONCURRENCY'],
      warnings: [],
    });
  });

  it('warns, naming the field, about a password too short to be masked inside free text', async () => {
    const path = await runCli.writeConfig(tmp.dir, config());
    for (const password of ['17', 'p', 'secret', '123456']) {
      const result = await runCli(['config', 'check', '--config', path], {
        SMS_PASSWORD: password,
      });
      expect(result.code, password).toBe(0);
      expect(result.stdout).toContain(`${path}: valid`);
      if (password.length < 6) {
        expect(result.stderr).toBe(
          'sms-relay: warning: config accounts[0].password is shorter than 6 characters: it is ' +
            "masked where it is a whole value, but not inside free text such as a receiver's " +
            'answer (it would match inside numbers and words)\n',
        );
      } else expect(result.stderr, password).toBe('');
      const json = await runCli(['config', 'check', '--json', '--config', path], {
        SMS_PASSWORD: password,
      });
      expect(JSON.parse(json.stdout).warnings.map((w: { field: string }) => w.field)).toEqual(
        password.length < 6 ? ['accounts[0].password'] : [],
      );
    }
  });

  it('SMS_RELAY_* variables count, and are named when they are wrong', async () => {
    const path = await runCli.writeConfig(tmp.dir, config());
    const ok = await runCli(['config', 'check', '--config', path], {
      SMS_RELAY_ACCOUNTS_0_PASSWORD: PASSWORD,
      SMS_RELAY_HTTP_PORT: '9465',
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('http      0.0.0.0:9465');
    expect(ok.stdout).toContain('from env  SMS_RELAY_ACCOUNTS_0_PASSWORD, SMS_RELAY_HTTP_PORT');
    noSecrets(ok.stdout);
    const bad = await runCli(['config', 'check', '--config', path], {
      SMS_PASSWORD: PASSWORD,
      SMS_RELAY_HTTP_PORT: 'eighty',
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'sms-relay: [sms] [relay] config http.port: must be an integer >= 0 (from SMS_RELAY_HTTP_PORT)\n',
    );
  });

  it('usage mistakes exit 2', async () => {
    expect(await runCli(['config'])).toMatchObject({ code: 2 });
    const unknown = await runCli(['config', 'lint']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('sms-relay: unknown config subcommand "lint" (config check)\n');
    expect((await runCli(['--help'])).stdout).toContain('sms-relay config check');
  });
});
