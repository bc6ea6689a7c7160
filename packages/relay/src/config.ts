import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SmsWebhookEventType } from '@sms/core';

/** One platform account to poll. */
export interface AccountConfig {
  /** The relay's name for it: in event bodies (`data.account`), logs and metrics. */
  name: string;
  /** The platform's address, e.g. `http://203.0.113.5:8888`. */
  baseUrl: string;
  /** 企业ID; may be empty. */
  userId: string;
  account: string;
  password: string;
  charset: 'utf-8' | 'gbk';
  /** `password` (default), or `signed` for platforms with the v2 endpoints (no password on the wire). */
  auth: 'password' | 'signed';
  /** Wait between polls that found nothing new (default 5000 ms). */
  pollIntervalMs: number;
  /** Reports per pull (`statusNum`, default 4000). */
  statusNum: number;
  /** Pull delivery reports (default true). */
  reports: boolean;
  /** Pull replies (default true). */
  replies: boolean;
  /** Deadline of a whole platform request, headers and body (default 15000 ms). */
  timeoutMs: number;
  /** Largest answer accepted from the platform (default 32 MiB; 4,000 reports are about 1 MiB). */
  maxResponseBytes: number;
}

/** Where pull answers are written before they are parsed (see docs/relay.md). */
export interface JournalConfig {
  /** Default: `<sqlite file>.pull-journal`, or `sms-relay-pull-journal` beside relay.json for PostgreSQL. One per replica. */
  dir: string;
  /** fdatasync each answer so it also survives a power loss (default true). */
  fsync: boolean;
}

/** One webhook receiver. */
export interface TargetConfig {
  name: string;
  url: string;
  /** `whsec_` secrets; each one signs (several during a rotation). */
  secrets: string[];
  events: SmsWebhookEventType[];
  /** Account names whose events go here (default: all). */
  accounts: string[];
  /** Request timeout (default: `delivery.timeoutMs`). */
  timeoutMs: number;
}

export interface DeliveryConfig {
  /** Per-request timeout (default 15000 ms). */
  timeoutMs: number;
  /** Delays before each retry, in ms (default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h). */
  retrySchedule: number[];
  /** Random spread of each delay, as a fraction (default 0.2: ±20%). */
  jitter: number;
  /** Requests in flight at once (default 64). */
  concurrency: number;
  /** Deliveries claimed per store round trip (default 500). */
  batchSize: number;
  /** How long a claim is exclusive (default 2 × timeout + 5 s); a crashed holder's claim then expires. */
  leaseMs: number;
  /** Idle wait before looking for due deliveries again (default 250 ms). */
  idleMs: number;
  /** Sockets per target (default 32). */
  connections: number;
}

export type StoreConfig = { sqlite: string } | { postgres: string; schema?: string };

export interface RelayConfig {
  store: StoreConfig;
  accounts: AccountConfig[];
  targets: TargetConfig[];
  /** Health and metrics server; omit `http` to run without one. Port 0 picks a free one. */
  http: { port: number; host: string } | null;
  delivery: DeliveryConfig;
  journal: JournalConfig;
  /** How long SIGTERM waits for deliveries in flight (default 10000 ms). */
  shutdownGraceMs: number;
  /** Fully delivered events older than this are deleted (default 7 days; 0 keeps them). */
  retentionMs: number;
  log: { level: 'debug' | 'info' | 'warn' | 'error' };
}

/** Thrown for an invalid configuration; `field` names the bad value (`targets[0].url`). */
export class RelayConfigError extends Error {
  override readonly name = 'RelayConfigError';
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super(`[sms] [relay] config ${field}: ${message}`, options);
    this.field = field;
  }
}

export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [
  5_000,
  5 * 60_000,
  30 * 60_000,
  2 * 3_600_000,
  5 * 3_600_000,
  10 * 3_600_000,
  10 * 3_600_000,
];

const EVENT_TYPES: readonly SmsWebhookEventType[] = ['sms.report', 'sms.reply'];
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Replaces `${NAME}` in every string value with the environment variable. */
function substitute(
  value: unknown,
  env: Record<string, string | undefined>,
  path: string,
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const found = env[name];
      if (found === undefined) {
        throw new RelayConfigError(path, `environment variable ${name} is not set`);
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => substitute(item, env, `${path}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        substitute(item, env, path ? `${path}.${key}` : key),
      ]),
    );
  }
  return value;
}

type Obj = Record<string, unknown>;

function object(value: unknown, field: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RelayConfigError(field, 'must be an object');
  }
  return value as Obj;
}

function string(value: unknown, field: string, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value === '') {
    throw new RelayConfigError(field, 'must be a non-empty string');
  }
  return value;
}

function integer(value: unknown, field: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RelayConfigError(field, `must be an integer >= ${min}`);
  }
  return value;
}

function boolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new RelayConfigError(field, 'must be true or false');
  return value;
}

/** `5000`, `"5s"`, `"5m"`, `"2h"`, `"250ms"` → milliseconds. */
function duration(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
    if (match) return Number(match[1]) * UNITS[match[2]!]!;
  }
  throw new RelayConfigError(
    field,
    'must be milliseconds or a duration like "5s", "5m", "2h", "7d"',
  );
}

function httpUrl(value: unknown, field: string): string {
  const text = string(value, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RelayConfigError(field, 'is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RelayConfigError(field, 'must be an http: or https: URL');
  }
  if (url.username || url.password) {
    throw new RelayConfigError(field, 'must not carry credentials');
  }
  return text;
}

/**
 * Refuses a setting this level does not know: a typo (`userid` for `userId`, `pollInterval`)
 * would otherwise fall back to the default without a word. `prefix` is the path the user wrote.
 */
function knownKeys(value: Obj, prefix: string, keys: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (keys.includes(key)) continue;
    const near = keys.find((k) => k.toLowerCase() === key.toLowerCase());
    throw new RelayConfigError(
      prefix ? `${prefix}.${key}` : key,
      `is not a known setting${near ? ` (did you mean "${near}"?)` : ''}`,
    );
  }
}

const ACCOUNT_KEYS = [
  'name',
  'baseUrl',
  'userId',
  'account',
  'password',
  'charset',
  'auth',
  'pollIntervalMs',
  'statusNum',
  'reports',
  'replies',
  'timeoutMs',
  'maxResponseBytes',
] as const;
const TARGET_KEYS = ['name', 'url', 'secret', 'secrets', 'events', 'accounts', 'timeoutMs'];
const DELIVERY_KEYS = [
  'timeoutMs',
  'retrySchedule',
  'jitter',
  'concurrency',
  'batchSize',
  'leaseMs',
  'idleMs',
  'connections',
];

function unique(names: string[], field: string): void {
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name))
      throw new RelayConfigError(`${field}[${i}].name`, `duplicate name "${name}"`);
    seen.add(name);
  });
}

function parseAccount(value: unknown, field: string): AccountConfig {
  const a = object(value, field);
  knownKeys(a, field, ACCOUNT_KEYS);
  const name = string(a['name'], `${field}.name`);
  if (!NAME.test(name)) throw new RelayConfigError(`${field}.name`, `must match ${NAME}`);
  const charset = a['charset'] ?? 'utf-8';
  if (charset !== 'utf-8' && charset !== 'gbk') {
    throw new RelayConfigError(`${field}.charset`, 'must be "utf-8" or "gbk"');
  }
  const auth = a['auth'] ?? 'password';
  if (auth !== 'password' && auth !== 'signed') {
    throw new RelayConfigError(`${field}.auth`, 'must be "password" or "signed"');
  }
  const userId = a['userId'] ?? '';
  if (typeof userId !== 'string') throw new RelayConfigError(`${field}.userId`, 'must be a string');
  return {
    name,
    baseUrl: httpUrl(a['baseUrl'], `${field}.baseUrl`),
    userId,
    account: string(a['account'], `${field}.account`),
    password: string(a['password'], `${field}.password`),
    charset,
    auth,
    pollIntervalMs: integer(a['pollIntervalMs'], `${field}.pollIntervalMs`, 5000, 10),
    statusNum: integer(a['statusNum'], `${field}.statusNum`, 4000, 1),
    reports: boolean(a['reports'], `${field}.reports`, true),
    replies: boolean(a['replies'], `${field}.replies`, true),
    timeoutMs: integer(a['timeoutMs'], `${field}.timeoutMs`, 15_000, 1),
    maxResponseBytes: integer(a['maxResponseBytes'], `${field}.maxResponseBytes`, 32 << 20, 1024),
  };
}

function parseJournal(
  value: unknown,
  store: StoreConfig,
  baseDir: string | undefined,
): JournalConfig {
  const j = value === undefined ? {} : object(value, 'journal');
  knownKeys(j, 'journal', ['dir', 'fsync']);
  const fallback =
    'sqlite' in store
      ? `${store.sqlite}.pull-journal`
      : resolve(baseDir ?? '.', 'sms-relay-pull-journal');
  const dir =
    j['dir'] === undefined ? fallback : resolve(baseDir ?? '.', string(j['dir'], 'journal.dir'));
  return { dir, fsync: boolean(j['fsync'], 'journal.fsync', true) };
}

function parseTarget(
  value: unknown,
  field: string,
  accounts: string[],
  timeoutMs: number,
): TargetConfig {
  const t = object(value, field);
  knownKeys(t, field, TARGET_KEYS);
  const name = string(t['name'], `${field}.name`);
  if (!NAME.test(name)) throw new RelayConfigError(`${field}.name`, `must match ${NAME}`);
  // Errors name the key the user wrote: `secret` (the documented one, also when neither is
  // there) or `secrets`.
  if (t['secret'] !== undefined && t['secrets'] !== undefined) {
    throw new RelayConfigError(`${field}.secrets`, 'give "secret" or "secrets", not both');
  }
  const plural = t['secret'] === undefined && t['secrets'] !== undefined;
  const secretField = plural ? `${field}.secrets` : `${field}.secret`;
  const rawSecrets = plural ? t['secrets'] : t['secret'];
  if (rawSecrets === undefined || rawSecrets === null) {
    throw new RelayConfigError(secretField, 'is required (a whsec_ secret)');
  }
  const list = Array.isArray(rawSecrets) ? rawSecrets : [rawSecrets];
  if (list.length === 0) throw new RelayConfigError(secretField, 'needs at least one secret');
  const secrets = list.map((secret, i) => {
    const f = Array.isArray(rawSecrets) ? `${secretField}[${i}]` : secretField;
    // The message never repeats the value: it is a secret.
    if (typeof secret !== 'string' || !/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
      throw new RelayConfigError(f, 'must be a whsec_ secret (whsec_ + base64)');
    }
    if (Buffer.from(secret.slice(6), 'base64').length < 16) {
      throw new RelayConfigError(f, 'must hold at least 16 bytes of key');
    }
    return secret;
  });
  const events = t['events'] ?? EVENT_TYPES;
  if (!Array.isArray(events) || events.length === 0) {
    throw new RelayConfigError(`${field}.events`, 'must be a non-empty array');
  }
  events.forEach((type, i) => {
    if (!EVENT_TYPES.includes(type)) {
      throw new RelayConfigError(
        `${field}.events[${i}]`,
        `must be one of ${EVENT_TYPES.join(', ')}`,
      );
    }
  });
  const targetAccounts = t['accounts'] ?? accounts;
  if (!Array.isArray(targetAccounts)) {
    throw new RelayConfigError(`${field}.accounts`, 'must be an array of account names');
  }
  targetAccounts.forEach((account, i) => {
    if (!accounts.includes(account)) {
      throw new RelayConfigError(
        `${field}.accounts[${i}]`,
        `no account is named "${String(account)}"`,
      );
    }
  });
  return {
    name,
    url: httpUrl(t['url'], `${field}.url`),
    secrets,
    events: [...new Set(events as SmsWebhookEventType[])],
    accounts: targetAccounts as string[],
    timeoutMs: integer(t['timeoutMs'], `${field}.timeoutMs`, timeoutMs, 1),
  };
}

function parseStore(value: unknown, baseDir = '.'): StoreConfig {
  const storeValue = object(value, 'store');
  knownKeys(storeValue, 'store', ['sqlite', 'postgres', 'schema']);
  if (storeValue['sqlite'] !== undefined && storeValue['postgres'] !== undefined) {
    throw new RelayConfigError('store', 'give "sqlite" or "postgres", not both');
  }
  if (storeValue['sqlite'] !== undefined) {
    return { sqlite: resolve(baseDir, string(storeValue['sqlite'], 'store.sqlite')) };
  }
  if (storeValue['postgres'] !== undefined) {
    const url = string(storeValue['postgres'], 'store.postgres');
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new RelayConfigError('store.postgres', 'must be a postgres:// URL');
    }
    const schema = storeValue['schema'];
    if (
      schema !== undefined &&
      (typeof schema !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    ) {
      throw new RelayConfigError('store.schema', 'must be a lower-case SQL identifier');
    }
    return schema === undefined ? { postgres: url } : { postgres: url, schema };
  }
  throw new RelayConfigError('store', 'needs "sqlite" (a file path) or "postgres" (a URL)');
}

/**
 * Validates a parsed relay.json and fills in defaults. `${ENV}` references are replaced
 * from `env`; relative SQLite paths are resolved against `baseDir`.
 */
export function parseConfig(
  input: unknown,
  options: { env?: Record<string, string | undefined>; baseDir?: string } = {},
): RelayConfig {
  const root = object(substitute(input, options.env ?? process.env, ''), '(root)');

  knownKeys(root, '', [
    'store',
    'accounts',
    'targets',
    'http',
    'delivery',
    'shutdownGraceMs',
    'retention',
    'retentionMs',
    'log',
    'journal',
    '$schema',
  ]);
  const store = parseStore(root['store'], options.baseDir);

  if (!Array.isArray(root['accounts']) || root['accounts'].length === 0) {
    throw new RelayConfigError('accounts', 'must be a non-empty array');
  }
  const accounts = root['accounts'].map((a, i) => parseAccount(a, `accounts[${i}]`));
  unique(
    accounts.map((a) => a.name),
    'accounts',
  );

  const d = root['delivery'] === undefined ? {} : object(root['delivery'], 'delivery');
  knownKeys(d, 'delivery', DELIVERY_KEYS);
  const timeoutMs = integer(d['timeoutMs'], 'delivery.timeoutMs', 15_000, 1);
  let retrySchedule = [...DEFAULT_RETRY_SCHEDULE];
  if (d['retrySchedule'] !== undefined) {
    if (!Array.isArray(d['retrySchedule'])) {
      throw new RelayConfigError('delivery.retrySchedule', 'must be an array of durations');
    }
    retrySchedule = d['retrySchedule'].map((v, i) => duration(v, `delivery.retrySchedule[${i}]`));
  }
  const jitter = d['jitter'] ?? 0.2;
  if (typeof jitter !== 'number' || jitter < 0 || jitter >= 1) {
    throw new RelayConfigError('delivery.jitter', 'must be a number from 0 to below 1');
  }
  const delivery: DeliveryConfig = {
    timeoutMs,
    retrySchedule,
    jitter,
    concurrency: integer(d['concurrency'], 'delivery.concurrency', 64, 1),
    batchSize: integer(d['batchSize'], 'delivery.batchSize', 500, 1),
    leaseMs: integer(d['leaseMs'], 'delivery.leaseMs', timeoutMs * 2 + 5000, 1),
    idleMs: integer(d['idleMs'], 'delivery.idleMs', 250, 1),
    connections: integer(d['connections'], 'delivery.connections', 32, 1),
  };

  if (!Array.isArray(root['targets']) || root['targets'].length === 0) {
    throw new RelayConfigError('targets', 'must be a non-empty array');
  }
  const names = accounts.map((a) => a.name);
  const targets = root['targets'].map((t, i) => parseTarget(t, `targets[${i}]`, names, timeoutMs));
  unique(
    targets.map((t) => t.name),
    'targets',
  );

  let http: RelayConfig['http'] = null;
  if (root['http'] !== undefined && root['http'] !== null) {
    const h = object(root['http'], 'http');
    knownKeys(h, 'http', ['port', 'host']);
    const port = integer(h['port'], 'http.port', 9464, 0);
    if (port > 65535) throw new RelayConfigError('http.port', 'must be at most 65535');
    http = { port, host: string(h['host'], 'http.host', '0.0.0.0') };
  }

  const log = root['log'] === undefined ? {} : object(root['log'], 'log');
  knownKeys(log, 'log', ['level']);
  const level = log['level'] ?? 'info';
  if (level !== 'debug' && level !== 'info' && level !== 'warn' && level !== 'error') {
    throw new RelayConfigError('log.level', 'must be debug, info, warn or error');
  }

  return {
    store,
    accounts,
    targets,
    http,
    delivery,
    journal: parseJournal(root['journal'], store, options.baseDir),
    shutdownGraceMs: integer(root['shutdownGraceMs'], 'shutdownGraceMs', 10_000, 0),
    retentionMs:
      root['retentionMs'] !== undefined
        ? duration(root['retentionMs'], 'retentionMs')
        : root['retention'] !== undefined
          ? duration(root['retention'], 'retention')
          : 7 * 86_400_000,
    log: { level },
  };
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RelayConfigError('(file)', `cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new RelayConfigError('(file)', `${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads and validates a relay.json file. */
export function loadConfig(
  path: string,
  env: Record<string, string | undefined> = process.env,
): RelayConfig {
  return parseConfig(readJson(path), { env, baseDir: dirname(resolve(path)) });
}

/**
 * Reads only the `store` of a relay.json file: what `status`, `dead`, `replay` and `enable`
 * need, so operators can run them without the accounts' passwords in their environment.
 */
/**
 * The target names a config file lists, read without validating the rest (the CLI's
 * maintenance commands run without the secrets in their environment); undefined if none.
 */
export function loadTargetNames(path: string): string[] | undefined {
  const root = readJson(path);
  if (root === null || typeof root !== 'object') return undefined;
  const targets = (root as Record<string, unknown>)['targets'];
  if (!Array.isArray(targets)) return undefined;
  return targets.flatMap((t: unknown) => {
    const name = t !== null && typeof t === 'object' ? (t as Record<string, unknown>)['name'] : t;
    return typeof name === 'string' ? [name] : [];
  });
}

export function loadStoreConfig(
  path: string,
  env: Record<string, string | undefined> = process.env,
): StoreConfig {
  const root = object(readJson(path), '(root)');
  return parseStore(substitute(root['store'], env, 'store'), dirname(resolve(path)));
}
