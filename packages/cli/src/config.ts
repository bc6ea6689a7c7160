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
  '$schema',
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
        `config file ${path}: unknown key "${key}" (known: baseUrl, userId, account, password, charset, timeoutMs)`,
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
  if (file.password !== undefined && process.platform !== 'win32') {
    const mode = (await stat(path)).mode;
    if ((mode & 0o077) !== 0) {
      warn(
        `${path} holds a password and is readable by others: chmod 600 it (or use SMS_PASSWORD)`,
      );
    }
  }
  return { file, path };
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

/** Thrown when no password is available and we may not prompt. */
export function missingPasswordError(): CliError {
  return usageError(
    'no password: set SMS_PASSWORD, add "password" to the config file, pipe it with --password-stdin, or run in a terminal to be prompted',
  );
}
