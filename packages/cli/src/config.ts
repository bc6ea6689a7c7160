import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Flags, stringFlag } from './args.js';
import { type CliError, usageError } from './exit.js';

export type Charset = 'utf-8' | 'gbk';

/** What a config file may hold (`--config file.json` or `./sms.config.json`). */
export interface ConfigFile {
  baseUrl?: string;
  userId?: string;
  account?: string;
  /** Prefer SMS_PASSWORD or the prompt; if you keep it here, `chmod 600` the file. */
  password?: string;
  charset?: Charset;
  timeoutMs?: number;
  /**
   * Several accounts (at one reseller or several): sends go through `@sms/core`'s router,
   * failing over only when a send surely did not go out; `--account NAME` pins one.
   */
  accounts?: AccountEntry[];
  /** `priority` (default), `weighted` or `round-robin`. */
  strategy?: Strategy;
}

export type Strategy = 'priority' | 'weighted' | 'round-robin';

/** One entry of `accounts` in the config file. */
export interface AccountEntry {
  /** Your name for it (`--account NAME`); its password may come from `SMS_PASSWORD_<NAME>`. */
  name: string;
  baseUrl: string;
  userId?: string;
  account: string;
  password?: string;
  charset?: Charset;
  timeoutMs?: number;
  /** `weighted` strategy: share of first tries (default 1). */
  weight?: number;
}

/** A config-file account with its password resolved. */
export interface AccountSettings {
  name: string;
  baseUrl: string;
  userId: string;
  account: string;
  password: string;
  charset: Charset;
  timeoutMs: number | undefined;
  weight: number | undefined;
}

export interface Settings {
  baseUrl: string;
  userId: string;
  account: string;
  password: string | undefined;
  charset: Charset;
  /** Request timeout; undefined = the client's default (15 s). */
  timeoutMs: number | undefined;
  /** The config file that was read, if any. */
  configPath: string | undefined;
  /** Several accounts, none pinned: send through a router over these. */
  accounts?: AccountSettings[] | undefined;
  strategy?: Strategy | undefined;
}

export const DEFAULT_CONFIG_FILE = 'sms.config.json';
const KEYS: ReadonlySet<string> = new Set([
  'baseUrl',
  'userId',
  'userid',
  'account',
  'password',
  'charset',
  'timeoutMs',
  'accounts',
  'strategy',
  '$schema',
]);
const ACCOUNT_KEYS: ReadonlySet<string> = new Set([
  'name',
  'baseUrl',
  'userId',
  'userid',
  'account',
  'password',
  'charset',
  'timeoutMs',
  'weight',
]);

export interface LoadOptions {
  flags: Flags;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Called with warnings (a readable config file that holds a password). */
  warn: (message: string) => void;
}

/** Reads the config file (explicit, or the default one if it exists). */
async function readConfigFile(
  flags: Flags,
  cwd: string,
  warn: (message: string) => void,
): Promise<{ file: ConfigFile; path: string | undefined }> {
  const explicit = stringFlag(flags, 'config');
  const path = resolve(cwd, explicit ?? DEFAULT_CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT')
      return { file: {}, path: undefined };
    throw usageError(
      `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw usageError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw usageError(`config file ${path} must hold a JSON object`);
  }
  const record = raw as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!KEYS.has(key)) {
      throw usageError(
        `config file ${path}: unknown key "${key}" (known: baseUrl, userId, account, password, charset, timeoutMs, accounts, strategy)`,
      );
    }
  }
  const file: ConfigFile = {};
  for (const key of ['baseUrl', 'account', 'password', 'charset'] as const) {
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value !== 'string')
      throw usageError(`config file ${path}: "${key}" must be a string`);
    (file as Record<string, string>)[key] = value;
  }
  const userId = record['userId'] ?? record['userid'];
  if (userId !== undefined) {
    if (typeof userId !== 'string' && typeof userId !== 'number') {
      throw usageError(`config file ${path}: "userId" must be a string`);
    }
    file.userId = String(userId);
  }
  if (record['timeoutMs'] !== undefined) {
    if (typeof record['timeoutMs'] !== 'number')
      throw usageError(`config file ${path}: "timeoutMs" must be a number`);
    file.timeoutMs = record['timeoutMs'];
  }
  if (record['strategy'] !== undefined) {
    const strategy = record['strategy'];
    if (strategy !== 'priority' && strategy !== 'weighted' && strategy !== 'round-robin')
      throw usageError(
        `config file ${path}: "strategy" must be "priority", "weighted" or "round-robin"`,
      );
    file.strategy = strategy;
  }
  if (record['accounts'] !== undefined) file.accounts = parseAccounts(record['accounts'], path);
  const holdsPassword =
    file.password !== undefined || (file.accounts ?? []).some((a) => a.password !== undefined);
  if (holdsPassword && process.platform !== 'win32') {
    const mode = (await stat(path)).mode;
    if ((mode & 0o077) !== 0) {
      warn(
        `${path} holds a password and is readable by others: chmod 600 it (or use SMS_PASSWORD)`,
      );
    }
  }
  return { file, path };
}

function parseAccounts(raw: unknown, path: string): AccountEntry[] {
  const where = `config file ${path}: "accounts"`;
  if (!Array.isArray(raw) || raw.length === 0)
    throw usageError(`${where} must be a non-empty array of { name, baseUrl, account, … }`);
  const names = new Set<string>();
  return raw.map((item, index) => {
    const at = `${where}[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw usageError(`${at} must be an object`);
    const entry = item as Record<string, unknown>;
    for (const key of Object.keys(entry)) {
      if (!ACCOUNT_KEYS.has(key))
        throw usageError(
          `${at}: unknown key "${key}" (known: name, baseUrl, userId, account, password, charset, timeoutMs, weight)`,
        );
    }
    const text = (key: string, required: boolean): string | undefined => {
      const value = entry[key];
      if (value === undefined || value === '') {
        if (required) throw usageError(`${at}: "${key}" is required`);
        return undefined;
      }
      if (typeof value !== 'string') throw usageError(`${at}: "${key}" must be a string`);
      return value;
    };
    const name = text('name', true)!;
    if (names.has(name)) throw usageError(`${where}: the name "${name}" is used twice`);
    names.add(name);
    const account: AccountEntry = {
      name,
      baseUrl: parseBaseUrl(text('baseUrl', true)!, `${at}.baseUrl`),
      account: text('account', true)!,
    };
    const userId = entry['userId'] ?? entry['userid'];
    if (userId !== undefined) {
      if (typeof userId !== 'string' && typeof userId !== 'number')
        throw usageError(`${at}: "userId" must be a string`);
      account.userId = String(userId);
    }
    const password = text('password', false);
    if (password !== undefined) account.password = password;
    const charset = text('charset', false);
    if (charset !== undefined) account.charset = parseCharset(charset, `${at}.charset`);
    for (const key of ['timeoutMs', 'weight'] as const) {
      const value = entry[key];
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
        throw usageError(`${at}: "${key}" must be a number`);
      account[key] = value;
    }
    return account;
  });
}

/** `SMS_PASSWORD_<NAME>`: the name upper-cased, every other character than A-Z and 0-9 as `_`. */
export function passwordEnvName(name: string): string {
  return `SMS_PASSWORD_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function parseCharset(value: string, from: string): Charset {
  const normalized = value.trim().toLowerCase();
  if (normalized === 'utf-8' || normalized === 'utf8') return 'utf-8';
  if (normalized === 'gbk' || normalized === 'gb2312' || normalized === 'gb18030') return 'gbk';
  throw usageError(`${from}: charset must be utf-8 or gbk, got "${value}"`);
}

function parseBaseUrl(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw usageError(`${from}: not a URL: "${value}" (expected e.g. http://127.0.0.1:8888)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw usageError(`${from}: the base URL must start with http:// or https://`);
  }
  if (url.username || url.password) {
    throw usageError(`${from}: do not put credentials in the URL; use --account and SMS_PASSWORD`);
  }
  return value;
}

/** Flags win over the environment, which wins over the config file. */
export async function loadSettings({ flags, env, cwd, warn }: LoadOptions): Promise<Settings> {
  const { file, path } = await readConfigFile(flags, cwd, warn);
  if (file.accounts) return accountsSettings(file, file.accounts, path, flags, env);
  const pick = (flag: string, envName: string, fileValue: string | undefined) => {
    const fromFlag = stringFlag(flags, flag);
    if (fromFlag !== undefined) return { value: fromFlag, from: `--${flag}` };
    const fromEnv = env[envName];
    if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, from: envName };
    if (fileValue !== undefined) return { value: fileValue, from: path ?? 'config file' };
    return undefined;
  };
  const baseUrl = pick('base-url', 'SMS_BASE_URL', file.baseUrl);
  if (!baseUrl)
    throw usageError(
      'no platform address: pass --base-url, set SMS_BASE_URL or add "baseUrl" to sms.config.json',
    );
  const account = pick('account', 'SMS_ACCOUNT', file.account);
  if (!account)
    throw usageError(
      'no account: pass --account, set SMS_ACCOUNT or add "account" to sms.config.json',
    );
  const userId = pick('userid', 'SMS_USERID', file.userId);
  const charset = pick('charset', 'SMS_CHARSET', file.charset);
  const timeout = stringFlag(flags, 'timeout') ?? env['SMS_TIMEOUT'];
  let timeoutMs = file.timeoutMs;
  if (timeout !== undefined && timeout !== '') {
    if (!/^\d+$/.test(timeout) || Number(timeout) < 1)
      throw usageError(`--timeout must be milliseconds, got "${timeout}"`);
    timeoutMs = Number(timeout);
  }
  const password =
    env['SMS_PASSWORD'] !== undefined && env['SMS_PASSWORD'] !== ''
      ? env['SMS_PASSWORD']
      : file.password;
  return {
    baseUrl: parseBaseUrl(baseUrl.value, baseUrl.from),
    account: account.value,
    userId: userId?.value ?? '',
    charset: charset ? parseCharset(charset.value, charset.from) : 'utf-8',
    timeoutMs,
    password,
    configPath: path,
  };
}

/**
 * Settings from the config file's `accounts`: `--account NAME` (or `SMS_ACCOUNT`) pins one,
 * which is then used like a single account; otherwise every account, for a router.
 */
function accountsSettings(
  file: ConfigFile,
  entries: AccountEntry[],
  path: string | undefined,
  flags: Flags,
  env: Readonly<Record<string, string | undefined>>,
): Settings {
  const pin = stringFlag(flags, 'account') ?? (env['SMS_ACCOUNT'] || undefined);
  let chosen = entries;
  if (pin !== undefined) {
    const match = entries.filter((entry) => entry.name === pin);
    if (match.length === 0)
      throw usageError(
        `--account ${pin}: no such account in ${path ?? 'the config file'} (have: ${entries.map((e) => e.name).join(', ')})`,
      );
    chosen = match;
  }
  const timeout = stringFlag(flags, 'timeout') ?? env['SMS_TIMEOUT'];
  if (timeout !== undefined && timeout !== '' && (!/^\d+$/.test(timeout) || Number(timeout) < 1))
    throw usageError(`--timeout must be milliseconds, got "${timeout}"`);
  const accounts = chosen.map((entry): AccountSettings => {
    const envName = passwordEnvName(entry.name);
    const password = env[envName] || entry.password;
    if (!password)
      throw usageError(
        `no password for account ${entry.name}: set ${envName} or add "password" to its entry`,
      );
    return {
      name: entry.name,
      baseUrl: entry.baseUrl,
      userId: entry.userId ?? '',
      account: entry.account,
      password,
      charset: entry.charset ?? 'utf-8',
      timeoutMs: timeout ? Number(timeout) : (entry.timeoutMs ?? file.timeoutMs),
      weight: entry.weight,
    };
  });
  const first = accounts[0]!;
  return {
    baseUrl: first.baseUrl,
    userId: first.userId,
    account: first.account,
    password: first.password,
    charset: first.charset,
    timeoutMs: first.timeoutMs,
    configPath: path,
    ...(pin === undefined ? { accounts, strategy: file.strategy ?? 'priority' } : {}),
  };
}

/** Thrown when no password is available and we may not prompt. */
export function missingPasswordError(): CliError {
  return usageError(
    'no password: set SMS_PASSWORD, add "password" to the config file, pipe it with --password-stdin, or run in a terminal to be prompted',
  );
}
