import { createRequire } from 'node:module';
import { SECRET_MASK } from '@sms/core';
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';
import { RelayConfigError } from './config-error.js';
import { type Masker, masker, textSecrets } from './mask.js';

/**
 * What the relay calls to log: a message and structured fields. `jsonLogger()` (pino) and
 * `pinoLogger(yourPino)` make one; any object with these four methods will do.
 */
export interface RelayLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** pino's level names (`silent` logs nothing). */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** What a secret typed as is reads as in a line (other spellings read `***`, as core masks). */
const REDACTED = '[redacted]';

/**
 * Field paths pino's `redact` censors whatever their value, for a secret the relay does not
 * know as a value (a header or a password someone adds to a log call). The relay logs none
 * of these today; values it knows are masked wherever they appear (see `pinoLogger`).
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
  'token',
  '*.token',
  'authorization',
  'headers.authorization',
  '*.headers.authorization',
  'headers["webhook-signature"]',
  '*.headers["webhook-signature"]',
];

export interface PinoLoggerOptions {
  /**
   * Values that must never appear in a line (passwords, webhook secrets), however spelled: as
   * typed they read `[redacted]`; percent-encoded, HTML- or JSON-escaped (a platform's error
   * page repeating a form body) they read `***`, as core's `maskSecrets` masks them.
   */
  redact?: readonly string[];
}

export interface JsonLoggerOptions extends PinoLoggerOptions {
  /**
   * Default `info`. When the logger writes to stderr (no `write`), a `LOG_LEVEL` environment
   * variable overrides it, as it overrides `log.level` for the `sms-relay` command.
   */
  level?: LogLevel;
  /** Where `LOG_LEVEL` is read when writing to stderr (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Where lines go (default stderr). */
  write?: (line: string) => void;
  /**
   * Human-readable lines through `pino-pretty` (an optional peer: without it, JSON). Default:
   * when writing to stderr and stderr is a terminal.
   */
  pretty?: boolean;
}

const masks = new WeakMap<RelayLogger, ReadonlySet<string>>();

function usable(secrets: readonly string[] | undefined): string[] {
  return [...new Set(secrets ?? [])].filter((s) => typeof s === 'string' && s !== '');
}

const typedPatterns = new Map<string, RegExp>();

/** A secret as typed where it stands alone (not inside a longer word or number). */
function typedPattern(secret: string): RegExp {
  let pattern = typedPatterns.get(secret);
  if (!pattern) {
    const word = /[A-Za-z0-9]/;
    const chars = Array.from(secret);
    const before = word.test(chars[0] ?? '') ? '(?<![A-Za-z0-9])' : '';
    const after = word.test(chars[chars.length - 1] ?? '') ? '(?![A-Za-z0-9])' : '';
    const body = secret.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
    pattern = new RegExp(`${before}${body}${after}`, 'g');
    if (typedPatterns.size > 256) typedPatterns.clear();
    typedPatterns.set(secret, pattern);
  }
  pattern.lastIndex = 0;
  return pattern;
}

/**
 * Every spelling of every secret in `text`: `[redacted]` as typed, `***` otherwise. A whole
 * value that is a secret is masked whatever its length; inside text, only secrets of at least
 * `MIN_TEXT_SECRET` characters, where they stand alone (see `masker`).
 */
function maskText(text: string, secrets: readonly string[]): string {
  if (secrets.length === 0 || text === '') return text;
  if (secrets.includes(text)) return REDACTED;
  const mask = maskerFor(secrets);
  if (mask.isSecret(text)) return SECRET_MASK;
  let out = text;
  for (const secret of textSecrets(secrets)) {
    if (out.includes(secret)) out = out.replace(typedPattern(secret), REDACTED);
  }
  return mask.text(out);
}

const maskers = new Map<string, Masker>();

function maskerFor(secrets: readonly string[]): Masker {
  const key = secrets.join('\u0000');
  let mask = maskers.get(key);
  if (!mask) {
    mask = masker(secrets);
    if (maskers.size > 16) maskers.clear();
    maskers.set(key, mask);
  }
  return mask;
}

/** An error as the fields worth a line (no stack: it can quote a request). */
function plainError(error: Error): Record<string, unknown> {
  const e = error as Error & { code?: unknown; status?: unknown; platformMessage?: unknown };
  return {
    name: e.name,
    message: e.message,
    code: e.code,
    status: e.status,
    platformMessage: e.platformMessage,
  };
}

/** A copy of `value` with errors made plain and every string masked, whatever the depth. */
function scrub(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return maskText(value, secrets);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[too deep]';
  if (value instanceof Error) return scrub(plainError(value), secrets, depth + 1);
  if (Array.isArray(value)) return value.map((item) => scrub(item, secrets, depth + 1));
  if (value instanceof Date) return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return scrub((value as { toJSON(): unknown }).toJSON(), secrets, depth + 1);
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = scrub(item, secrets, depth + 1);
  return out;
}

/**
 * The relay's lines through a pino logger: yours (`createRelay(config, { logger })` does this
 * for you, on a child bound to `component: "sms-relay"`) or `jsonLogger()`'s. pino's `redact` works
 * by field path, so the values of `redact` are masked here, in the message and in every string
 * of every field (an excerpt of a platform page that echoed a form body, an error message),
 * before pino serializes the line: your logger's own redaction, serializers and transports
 * then apply as usual.
 */
export function pinoLogger(logger: PinoLogger, options: PinoLoggerOptions = {}): RelayLogger {
  return adapt(logger, usable(options.redact), false);
}

/**
 * `messageFirst`: `msg` as the object's first key, so the line reads `level, time, msg,
 * fields` as the relay's lines always have (pino writes a message argument last).
 */
function adapt(logger: PinoLogger, secrets: string[], messageFirst: boolean): RelayLogger {
  const log =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields?: Record<string, unknown>) => {
      if (!logger.isLevelEnabled(level)) return;
      const obj = fields === undefined ? {} : (scrub(fields, secrets) as Record<string, unknown>);
      const msg = maskText(message, secrets);
      if (messageFirst) logger[level]({ msg, ...obj });
      else logger[level](obj, msg);
    };
  const relayLogger: RelayLogger = {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
  };
  masks.set(relayLogger, new Set(secrets));
  return relayLogger;
}

/** Whether `value` is a pino logger (rather than the four-method `RelayLogger`). */
export function isPinoLogger(value: unknown): value is PinoLogger {
  const candidate = value as Partial<PinoLogger> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.child === 'function' &&
    typeof candidate.isLevelEnabled === 'function' &&
    typeof candidate.levels === 'object'
  );
}

/**
 * Any logger the relay is given, with `secrets` masked in every line: a pino logger through
 * `pinoLogger` (on a child bound to `component: "sms-relay"`), a `RelayLogger` wrapped unless it
 * already masks all of them (`jsonLogger` and `pinoLogger` made with them).
 */
export function toRelayLogger(
  logger: RelayLogger | PinoLogger,
  secrets: readonly string[],
): RelayLogger {
  if (isPinoLogger(logger))
    return pinoLogger(logger.child({ component: 'sms-relay' }), { redact: secrets });
  const wanted = usable(secrets);
  const known = masks.get(logger);
  if (wanted.length === 0 || (known && wanted.every((s) => known.has(s)))) return logger;
  const wrap = (level: keyof RelayLogger) => (message: string, fields?: Record<string, unknown>) =>
    logger[level](
      maskText(message, wanted),
      fields === undefined ? undefined : (scrub(fields, wanted) as Record<string, unknown>),
    );
  const wrapped: RelayLogger = {
    debug: wrap('debug'),
    info: wrap('info'),
    warn: wrap('warn'),
    error: wrap('error'),
  };
  masks.set(wrapped, new Set([...(known ?? []), ...wanted]));
  return wrapped;
}

/** `LOG_LEVEL` from the environment, when set; a value pino does not know is a config error. */
export function envLogLevel(
  env: Record<string, string | undefined> = process.env,
): LogLevel | undefined {
  const value = env['LOG_LEVEL']?.trim().toLowerCase();
  if (!value) return undefined;
  if (!LEVELS.includes(value)) {
    throw new RelayConfigError('LOG_LEVEL', `must be one of ${LEVELS.join(', ')} (got "${value}")`);
  }
  return value as LogLevel;
}

/** `pino-pretty`'s line formatter, when it is installed (an optional peer dependency). */
function prettifier(): ((line: string) => string) | undefined {
  try {
    const here = typeof __filename === 'string' ? __filename : import.meta.url;
    const { prettyFactory } = createRequire(here)('pino-pretty') as {
      prettyFactory(options: Record<string, unknown>): (line: string) => string;
    };
    return prettyFactory({
      colorize: process.stderr.hasColors?.() ?? false,
      translateTime: 'SYS:HH:MM:ss.l',
    });
  } catch {
    return undefined;
  }
}

/**
 * The relay's default logger, on pino: one JSON object per line (`level` as a name, `time` in
 * ISO 8601, `msg`), pino's `redact` on `REDACT_PATHS`, every value of `redact` masked in every
 * spelling. On a terminal, with `pino-pretty` installed, human-readable lines instead.
 */
export function jsonLogger(options: JsonLoggerOptions = {}): RelayLogger {
  const secrets = usable(options.redact);
  const toStderr = options.write === undefined;
  const level = (toStderr ? envLogLevel(options.env) : undefined) ?? options.level ?? 'info';
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const pretty =
    (options.pretty ?? (toStderr && process.stderr.isTTY === true)) ? prettifier() : undefined;
  // A last pass over the serialized line: a secret that only JSON's own escaping spelled
  // out (a quote or a backslash in it) is caught here.
  // Only secrets long enough for free text, where they stand alone: the line is JSON, and a
  // short one (`17`) would be found inside its numbers and keys.
  const long = textSecrets(secrets);
  const escaped = long
    .map((secret) => JSON.stringify(secret).slice(1, -1))
    .filter((form, i) => form !== long[i]);
  const destination: DestinationStream = {
    write(line: string) {
      let out = line;
      for (const form of [...long, ...escaped]) {
        if (out.includes(form)) out = out.replace(typedPattern(form), REDACTED);
      }
      write(pretty ? pretty(out) : out);
    },
  };
  const instance = pino(
    {
      level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    destination,
  );
  return adapt(instance, secrets, true);
}
