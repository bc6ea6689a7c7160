import { maskSecrets } from '@sms/core';

/** Structured logging: one JSON object per line. */
export interface RelayLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  level?: LogLevel;
  /** Where lines go (default stderr). */
  write?: (line: string) => void;
  /**
   * Values that must never appear in a line (passwords, webhook secrets), however spelled: as
   * typed they read `[redacted]`; percent-encoded, HTML- or JSON-escaped (a platform's error
   * page repeating a form body) they read `***`, as core's `maskSecrets` masks them.
   */
  redact?: readonly string[];
}

function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const error = value as Error & { code?: unknown; status?: unknown; platformMessage?: unknown };
    return {
      name: error.name,
      message: error.message,
      code: error.code,
      status: error.status,
      platformMessage: error.platformMessage,
    };
  }
  return value;
}

/** A logger writing one JSON line per call, with every configured secret scrubbed. */
export function jsonLogger(options: JsonLoggerOptions = {}): RelayLogger {
  const min = RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const secrets = [...new Set(options.redact ?? [])].filter((s) => s.length >= 4);
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < min) return;
    // Masked value by value, before JSON escapes them once more: an excerpt of a page that
    // echoed a form body carries the secret percent-encoded or escaped, not as typed.
    const mask = (text: string) =>
      maskSecrets(
        secrets.reduce((t, s) => t.split(s).join('[redacted]'), text),
        secrets,
      );
    let line = JSON.stringify(
      { time: new Date().toISOString(), level, msg: message, ...fields },
      (_key, value) => {
        const out = plain(value);
        return typeof out === 'string' && secrets.length > 0 ? mask(out) : out;
      },
    );
    for (const secret of secrets) {
      if (line.includes(secret)) line = line.split(secret).join('[redacted]');
      const escaped = JSON.stringify(secret).slice(1, -1);
      if (escaped !== secret && line.includes(escaped))
        line = line.split(escaped).join('[redacted]');
    }
    write(`${line}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
