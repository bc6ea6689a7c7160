import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE, RelayConfigError, loadConfig, parseConfig } from './config.js';
import { runCli } from './test-utils/cli.js';
import { tempDir } from './test-utils/setup.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const valid = () => ({
  store: { sqlite: './relay.db' },
  accounts: [
    {
      name: 'main',
      baseUrl: 'http://127.0.0.1:8080',
      userId: '12',
      account: 'demo',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${ENV} syntax
      password: '${SMS_PASSWORD}',
      charset: 'utf-8',
      pollIntervalMs: 5000,
      statusNum: 4000,
    },
  ],
  targets: [
    {
      name: 'app',
      url: 'https://example.test/hooks/sms',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${ENV} syntax
      secret: '${WEBHOOK_SECRET}',
      events: ['sms.report', 'sms.reply'],
      accounts: ['main'],
    },
  ],
  http: { port: 9464 },
});
const env = { SMS_PASSWORD: 'hunter2-secret', WEBHOOK_SECRET: SECRET };

function fieldOf(input: unknown, e: Record<string, string> = env): string {
  try {
    parseConfig(input, { env: e });
  } catch (error) {
    expect(error).toBeInstanceOf(RelayConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain('hunter2-secret');
    expect(message).not.toContain(SECRET);
    return (error as RelayConfigError).field;
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${ENV} syntax
  it('reads the issue example, substitutes ${ENV} and fills in defaults', () => {
    const config = parseConfig(valid(), { env, baseDir: '/srv/relay' });
    expect(config.store).toEqual({ sqlite: '/srv/relay/relay.db' });
    expect(config.accounts[0]).toMatchObject({
      password: 'hunter2-secret',
      statusNum: 4000,
      reports: true,
      replies: true,
    });
    expect(config.targets[0]).toMatchObject({ secrets: [SECRET], timeoutMs: 15_000 });
    expect(config.delivery.retrySchedule).toEqual(DEFAULT_RETRY_SCHEDULE);
    expect(config.delivery.timeoutMs).toBe(15_000);
    expect(config.http).toEqual({ port: 9464, host: '0.0.0.0' });
    expect(parseConfig(config, { env: {} })).toEqual(config);
  });

  it('accepts durations, secret lists and a postgres store', () => {
    const input = {
      ...valid(),
      store: { postgres: 'postgres://postgres@127.0.0.1:5432/test', schema: 'relay_a' },
      delivery: { retrySchedule: ['250ms', '5s', '5m', '2h', 100] },
    };
    input.targets[0]!.secret = [SECRET, SECRET.replace('Mf', 'Ab')] as unknown as string;
    const config = parseConfig(input, { env });
    expect(config.delivery.retrySchedule).toEqual([250, 5000, 300_000, 7_200_000, 100]);
    expect(config.targets[0]!.secrets).toHaveLength(2);
    expect(config.store).toEqual({
      postgres: 'postgres://postgres@127.0.0.1:5432/test',
      schema: 'relay_a',
    });
  });

  it('names the bad field, and never echoes a secret', () => {
    type Config = ReturnType<typeof valid>;
    const cases: Array<[(c: Config) => unknown, string]> = [
      [(c) => ({ ...c, store: {} }), 'store'],
      [(c) => ({ ...c, accounts: [] }), 'accounts'],
      [
        (c) => ({ ...c, accounts: [{ ...c.accounts[0], baseUrl: 'ftp://x' }] }),
        'accounts[0].baseUrl',
      ],
      [
        (c) => ({ ...c, accounts: [{ ...c.accounts[0], charset: 'latin1' }] }),
        'accounts[0].charset',
      ],
      [(c) => ({ ...c, accounts: [{ ...c.accounts[0], statusNum: 0 }] }), 'accounts[0].statusNum'],
      [(c) => ({ ...c, accounts: [c.accounts[0], c.accounts[0]] }), 'accounts[1].name'],
      [
        (c) => ({ ...c, targets: [{ ...c.targets[0], secret: 'hunter2-secret' }] }),
        'targets[0].secret',
      ],
      [(c) => ({ ...c, targets: [{ ...c.targets[0], url: 'not a url' }] }), 'targets[0].url'],
      [
        (c) => ({ ...c, targets: [{ ...c.targets[0], events: ['sms.sent'] }] }),
        'targets[0].events[0]',
      ],
      [
        (c) => ({ ...c, targets: [{ ...c.targets[0], accounts: ['nope'] }] }),
        'targets[0].accounts[0]',
      ],
      [(c) => ({ ...c, delivery: { retrySchedule: ['soon'] } }), 'delivery.retrySchedule[0]'],
      [(c) => ({ ...c, http: { port: 70000 } }), 'http.port'],
      [(c) => ({ ...c, extra: true }), 'extra'],
    ];
    for (const [make, field] of cases) expect(fieldOf(make(valid()))).toBe(field);
    expect(fieldOf(valid(), { WEBHOOK_SECRET: SECRET })).toBe('accounts[0].password');
  });

  it('the CLI reports a bad config file with the field and exit code 2', async () => {
    const path = join(tmp.dir, 'bad.json');
    writeFileSync(
      path,
      JSON.stringify({
        ...valid(),
        store: { sqlite: join(tmp.dir, 'cli.db') },
        targets: [{ ...valid().targets[0], url: 'nope' }],
      }),
    );
    // `status` reads only the store: no passwords needed in its environment.
    const status = await runCli(['status', '--config', path, '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ pending: 0, dead: 0 });
    const result = await runCli(['run', '--config', path], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('targets[0].url');
    expect(result.stderr).not.toContain('hunter2-secret');
    writeFileSync(path, '{ not json');
    expect(() => loadConfig(path, env)).toThrow(/not valid JSON/);
    expect((await runCli(['status', '--config', join(tmp.dir, 'missing.json')])).stderr).toContain(
      'cannot read',
    );
  });
});
