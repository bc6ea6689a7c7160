import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, loadStoreConfig, parseConfig } from './load.js';
import { DEFAULT_RETRY_SCHEDULE } from '../delivery/config.js';
import { RelayConfigError } from '../shared/config-error.js';
import { openStore } from '../store/open.js';
import { runCli } from '../test-utils/cli.js';
import { tempDir } from '../test-utils/setup.js';

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
    expect(config.http).toEqual({ port: 9464, host: '0.0.0.0', protectMetrics: false });
    expect(parseConfig(config, { env: {} })).toEqual(config);
  });

  it('http.protectMetrics without http.token is a config error (it would answer 401 to everyone)', () => {
    expect(fieldOf({ ...valid(), http: { port: 9464, protectMetrics: true } })).toBe(
      'http.protectMetrics',
    );
    const guarded = { ...valid(), http: { protectMetrics: true, token: 'a-token-of-16-chars+' } };
    expect(parseConfig(guarded, { env }).http?.protectMetrics).toBe(true);
    // The token may come from the environment.
    const fromEnv = parseConfig(
      { ...valid(), http: { protectMetrics: true } },
      { env: { ...env, SMS_RELAY_HTTP_TOKEN: 'a-token-of-16-chars+' }, envOverrides: true },
    );
    expect(fromEnv.http?.token).toBe('a-token-of-16-chars+');
  });

  it('gateway.callbackAllow takes CIDRs and host[:port] names, from the file or SMS_RELAY_*', () => {
    expect(parseConfig(valid(), { env }).gateway.callbackAllow).toEqual([]);
    const allow = ['127.0.0.1', '::1/128', 'localhost:8080'];
    expect(
      parseConfig({ ...valid(), gateway: { callbackAllow: allow } }, { env }).gateway,
    ).toMatchObject({ callbackAllow: allow });
    expect(fieldOf({ ...valid(), gateway: { callbackAllow: ['127.0.0.1/33'] } })).toBe(
      'gateway.callbackAllow[0]',
    );
    expect(fieldOf({ ...valid(), gateway: { callbackAllow: ['ok.host', 'http://x'] } })).toBe(
      'gateway.callbackAllow[1]',
    );
    const fromEnv = parseConfig(valid(), {
      env: { ...env, SMS_RELAY_GATEWAY_CALLBACK_ALLOW: '127.0.0.1,localhost:8080' },
      envOverrides: true,
    });
    expect(fromEnv.gateway.callbackAllow).toEqual(['127.0.0.1', 'localhost:8080']);
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

  it('reports every problem at once, in config order, the first as `field`', () => {
    const input = {
      ...valid(),
      accounts: [valid().accounts[0], { ...valid().accounts[0], name: 'b', baseUrl: 'ftp://x' }],
      delivery: { concurrency: 0, jitter: 2 },
      targets: [{ ...valid().targets[0], secret: undefined, accounts: ['main', 'nope'] }],
      log: { level: 'loud' },
      extra: 1,
    };
    let error: RelayConfigError | undefined;
    try {
      parseConfig(input, { env });
    } catch (caught) {
      error = caught as RelayConfigError;
    }
    expect(error).toBeInstanceOf(RelayConfigError);
    expect(error!.issues).toEqual([
      { field: 'accounts[1].baseUrl', message: 'must be an http: or https: URL' },
      { field: 'targets[0].secret', message: 'is required (a whsec_ secret)' },
      { field: 'targets[0].accounts[1]', message: 'no account is named "nope"' },
      { field: 'delivery.jitter', message: 'must be a number from 0 to below 1' },
      { field: 'delivery.concurrency', message: 'must be an integer >= 1' },
      { field: 'log.level', message: 'must be debug, info, warn or error' },
      { field: 'extra', message: 'is not a known setting' },
    ]);
    expect(error!.field).toBe('accounts[1].baseUrl');
    expect(error!.message.split('\n')).toHaveLength(7);
    expect(error!.message.split('\n')[0]).toBe(
      '[sms] [relay] config accounts[1].baseUrl: must be an http: or https: URL',
    );
  });

  it('the issue example: a bad baseUrl and a bad delivery.concurrency are both reported', () => {
    const input = {
      ...valid(),
      accounts: [{ ...valid().accounts[0], baseUrl: 'not a url' }],
      delivery: { concurrency: 'many' },
    };
    expect(() => parseConfig(input, { env })).toThrow(RelayConfigError);
    try {
      parseConfig(input, { env });
    } catch (error) {
      expect((error as RelayConfigError).issues.map((i) => i.field)).toEqual([
        'accounts[0].baseUrl',
        'delivery.concurrency',
      ]);
    }
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: relay.json's ${ENV} syntax
  it('a missing ${VAR} is reported once, beside the other problems, never with a value', () => {
    const input = { ...valid(), http: { port: -1 } };
    try {
      parseConfig(input, { env: { SMS_PASSWORD: 'hunter2-secret' } });
      expect.unreachable();
    } catch (error) {
      expect((error as RelayConfigError).issues).toEqual([
        { field: 'targets[0].secret', message: 'environment variable WEBHOOK_SECRET is not set' },
        { field: 'http.port', message: 'must be an integer >= 0' },
      ]);
    }
  });

  it('suggests the key a typo meant, at every level', () => {
    const account = { ...valid().accounts[0], pollInterval: 1000 } as Record<string, unknown>;
    expect(() => parseConfig({ ...valid(), accounts: [account] }, { env })).toThrow(
      'config accounts[0].pollInterval: is not a known setting (did you mean "pollIntervalMs"?)',
    );
    expect(() => parseConfig({ ...valid(), jornal: { fsync: false } }, { env })).toThrow(
      'config jornal: is not a known setting (did you mean "journal"?)',
    );
    expect(() =>
      parseConfig({ ...valid(), store: { sqlite: 'a.db', Postgres: 'x' } }, { env }),
    ).toThrow('config store.Postgres: is not a known setting (did you mean "postgres"?)');
  });

  it('keeps the semantics: defaults, journal beside the store, retention, relative paths', () => {
    const config = parseConfig(
      { ...valid(), journal: { fsync: false }, retention: '1d', delivery: { timeoutMs: 1000 } },
      { env, baseDir: '/srv/relay' },
    );
    expect(config.journal).toEqual({ dir: '/srv/relay/relay.db.pull-journal', fsync: false });
    expect(config.retentionMs).toBe(86_400_000);
    expect(config.delivery).toMatchObject({ timeoutMs: 1000, leaseMs: 7000, concurrency: 64 });
    expect(config.targets[0]!.timeoutMs).toBe(1000);
    expect(config.log).toEqual({ level: 'info' });
    expect(config.shutdownGraceMs).toBe(10_000);
    const pg = parseConfig(
      {
        ...valid(),
        store: { postgres: 'postgres://127.0.0.1/x' },
        journal: { dir: 'j' },
        http: null,
      },
      { env, baseDir: '/srv/relay' },
    );
    expect(pg.journal.dir).toBe('/srv/relay/j');
    expect(pg.http).toBeNull();
    const { targets, ...rest } = valid();
    const all = parseConfig(
      { ...rest, targets: [{ name: 'app', url: targets[0]!.url, secrets: [SECRET] }] },
      { env },
    );
    expect(all.targets[0]).toMatchObject({
      accounts: ['main'],
      events: ['sms.report', 'sms.reply'],
    });
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
    // `status` reads only the store (one `run` made: it creates none): no passwords needed.
    const made = await openStore({ sqlite: join(tmp.dir, 'cli.db') });
    await made.init();
    await made.close();
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

describe('SMS_RELAY_* variables set and override keys (loadConfig)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());
  const file = (config: unknown) => {
    const path = join(tmp.dir, `relay-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(config));
    return path;
  };
  const load = (config: unknown, vars: Record<string, string>) =>
    loadConfig(file(config), { ...env, ...vars });
  const issuesOf = (config: unknown, vars: Record<string, string>) => {
    try {
      load(config, vars);
    } catch (error) {
      expect(error).toBeInstanceOf(RelayConfigError);
      return (error as RelayConfigError).issues;
    }
    throw new Error('expected the config to be rejected');
  };

  it('the environment wins over the file, typed as the schema wants', () => {
    const config = load(valid(), {
      SMS_RELAY_STORE_SQLITE: 'data/other.db',
      SMS_RELAY_ACCOUNTS_0_PASSWORD: 'from-env-password',
      SMS_RELAY_ACCOUNTS_0_BASE_URL: 'http://127.0.0.1:8888',
      SMS_RELAY_ACCOUNTS_0_USER_ID: '0012',
      SMS_RELAY_ACCOUNTS_0_POLL_INTERVAL_MS: '250',
      SMS_RELAY_ACCOUNTS_0_REPLIES: 'false',
      SMS_RELAY_DELIVERY_CONCURRENCY: '8',
      SMS_RELAY_DELIVERY_RETRY_SCHEDULE: '1s, 5m,2000',
      SMS_RELAY_JOURNAL_FSYNC: 'false',
      SMS_RELAY_HTTP_PORT: '0',
      SMS_RELAY_HTTP_TOKEN: 'console-token-from-env',
      SMS_RELAY_HTTP_PROTECT_METRICS: 'true',
      SMS_RELAY_LOG_LEVEL: 'debug',
      SMS_RELAY_RETENTION_MS: '60000',
      SMS_RELAY_SHUTDOWN_GRACE_MS: '500',
    });
    expect(config.store).toEqual({ sqlite: join(tmp.dir, 'data/other.db') });
    expect(config.journal).toEqual({
      dir: join(tmp.dir, 'data/other.db.pull-journal'),
      fsync: false,
    });
    expect(config.accounts[0]).toMatchObject({
      password: 'from-env-password',
      baseUrl: 'http://127.0.0.1:8888',
      userId: '0012',
      pollIntervalMs: 250,
      replies: false,
      reports: true,
    });
    expect(config.delivery).toMatchObject({ concurrency: 8, retrySchedule: [1000, 300_000, 2000] });
    expect(config.http).toEqual({
      port: 0,
      host: '0.0.0.0',
      token: 'console-token-from-env',
      protectMetrics: true,
    });
    expect(config.log.level).toBe('debug');
    expect(config.retentionMs).toBe(60_000);
    expect(config.shutdownGraceMs).toBe(500);
  });

  it('an overridden reference need not be set, and an env value is taken literally', () => {
    const literal = '$' + '{NOT_A_VAR}';
    const vars = { SMS_RELAY_ACCOUNTS_0_PASSWORD: literal };
    const config = loadConfig(file(valid()), { WEBHOOK_SECRET: SECRET, ...vars });
    expect(config.accounts[0]!.password).toBe(literal);
  });

  it('builds a whole config from the environment alone ({} in the file)', () => {
    const config = load(
      {},
      {
        SMS_RELAY_STORE_POSTGRES: 'postgres://relay:pw@db:5432/relay',
        SMS_RELAY_STORE_SCHEMA: 'relay_a',
        SMS_RELAY_ACCOUNTS_0_NAME: 'main',
        SMS_RELAY_ACCOUNTS_0_BASE_URL: 'http://127.0.0.1:8080',
        SMS_RELAY_ACCOUNTS_0_ACCOUNT: 'demo',
        SMS_RELAY_ACCOUNTS_0_PASSWORD: 'pw',
        SMS_RELAY_ACCOUNTS_1_NAME: 'second',
        SMS_RELAY_ACCOUNTS_1_BASE_URL: 'http://127.0.0.1:8081',
        SMS_RELAY_ACCOUNTS_1_ACCOUNT: 'other',
        SMS_RELAY_ACCOUNTS_1_PASSWORD: 'pw2',
        SMS_RELAY_ACCOUNTS_1_CHARSET: 'gbk',
        SMS_RELAY_TARGETS_0_NAME: 'app',
        SMS_RELAY_TARGETS_0_URL: 'https://example.test/hook',
        SMS_RELAY_TARGETS_0_SECRET: `${SECRET},${SECRET.replace('Mf', 'Ab')}`,
        SMS_RELAY_TARGETS_0_EVENTS: 'sms.reply',
        SMS_RELAY_TARGETS_0_ACCOUNTS: 'second',
      },
    );
    expect(config.store).toEqual({
      postgres: 'postgres://relay:pw@db:5432/relay',
      schema: 'relay_a',
    });
    expect(config.accounts.map((a) => [a.name, a.charset])).toEqual([
      ['main', 'utf-8'],
      ['second', 'gbk'],
    ]);
    expect(config.targets[0]).toMatchObject({
      secrets: [SECRET, SECRET.replace('Mf', 'Ab')],
      events: ['sms.reply'],
      accounts: ['second'],
    });
  });

  it('a variable naming a section or list takes JSON', () => {
    const config = load(valid(), {
      SMS_RELAY_HTTP: 'null',
      SMS_RELAY_TARGETS: JSON.stringify([
        { name: 'json', url: 'https://example.test/j', secret: SECRET },
      ]),
      SMS_RELAY_TARGETS_0_TIMEOUT_MS: '700',
    });
    expect(config.http).toBeNull();
    expect(config.targets).toMatchObject([{ name: 'json', timeoutMs: 700 }]);
  });

  it('names the variable behind a bad value, refuses unknown ones, never echoes a secret', () => {
    expect(
      issuesOf(valid(), {
        SMS_RELAY_DELIVERY_CONCURRENCY: 'lots',
        SMS_RELAY_TARGETS_0_SECRET: 'hunter2-secret',
        SMS_RELAY_ACOUNTS_0_PASSWORD: 'typo',
        SMS_RELAY_ACCOUNTS_0_PASWORD: 'typo',
      }),
    ).toEqual([
      {
        field: 'targets[0].secret',
        message: 'must be a whsec_ secret (whsec_ + base64) (from SMS_RELAY_TARGETS_0_SECRET)',
      },
      {
        field: 'delivery.concurrency',
        message: 'must be an integer >= 1 (from SMS_RELAY_DELIVERY_CONCURRENCY)',
      },
      {
        field: 'SMS_RELAY_ACOUNTS_0_PASSWORD',
        message: expect.stringContaining('is not a known setting'),
      },
      {
        field: 'SMS_RELAY_ACCOUNTS_0_PASWORD',
        message: expect.stringContaining('is not a known setting'),
      },
    ]);
  });

  it('parseConfig ignores them unless asked (a library caller passes its own object)', () => {
    const vars = { ...env, SMS_RELAY_DELIVERY_CONCURRENCY: '3' };
    expect(parseConfig(valid(), { env: vars }).delivery.concurrency).toBe(64);
    expect(parseConfig(valid(), { env: vars, envOverrides: true }).delivery.concurrency).toBe(3);
  });

  it('loadStoreConfig reads SMS_RELAY_STORE_* too, and only the store', () => {
    const path = file({ store: { sqlite: './a.db' }, accounts: 'not checked here' });
    expect(loadStoreConfig(path, {})).toEqual({ sqlite: join(tmp.dir, 'a.db') });
    expect(
      loadStoreConfig(path, {
        SMS_RELAY_STORE: '{"postgres":"postgres://127.0.0.1/x"}',
        SMS_RELAY_ACCOUNTS_0_PASSWORD: 'unused',
      }),
    ).toEqual({ postgres: 'postgres://127.0.0.1/x' });
    expect(() => loadStoreConfig(path, { SMS_RELAY_STORE_POSTGRES: 'mysql://x' })).toThrow(
      'config store: give "sqlite" or "postgres", not both',
    );
  });
});

describe('every key has its SMS_RELAY_ name', () => {
  it('each leaf of relay.schema.json is reachable as SMS_RELAY_<PATH>, and none is ambiguous', () => {
    type Node = { properties?: Record<string, Node>; items?: Node; anyOf?: Node[] };
    const schema = JSON.parse(
      readFileSync(new URL('../../relay.schema.json', import.meta.url), 'utf8'),
    ) as Node;
    const names: string[] = [];
    const walk = (node: Node, path: string[]) => {
      const objects = [node, ...(node.anyOf ?? [])].filter((n) => n.properties);
      const lists = [node, ...(node.anyOf ?? [])].filter((n) => n.items);
      if (path.length) names.push(`SMS_RELAY_${path.join('_')}`);
      for (const o of objects) {
        for (const [key, child] of Object.entries(o.properties!)) {
          if (!key.startsWith('$')) {
            walk(child, [...path, key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()]);
          }
        }
      }
      for (const l of lists) if (l.items!.properties) walk(l.items!, [...path, '0']);
    };
    walk(schema, []);
    expect(names).toContain('SMS_RELAY_ACCOUNTS_0_MAX_RESPONSE_BYTES');
    expect(names).toContain('SMS_RELAY_DELIVERY_LEASE_MS');
    expect(names.length).toBeGreaterThan(40);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      try {
        parseConfig({}, { env: { [name]: 'x' }, envOverrides: true });
      } catch (error) {
        expect(
          (error as RelayConfigError).issues.map((i) => i.field),
          name,
        ).not.toContain(name);
      }
    }
  });
});
