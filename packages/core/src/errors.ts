import type { PlatformErrorCode } from './messages.js';
import { maskSecrets } from './secrets.js';
import type { Reply, StatusReport } from './types.js';

/** Every code an `SmsError` can carry. */
export type SmsErrorCode =
  | PlatformErrorCode
  | 'VALIDATION'
  | 'HTTP'
  | 'PROTOCOL'
  | 'TIMEOUT'
  | 'NETWORK'
  | 'UNKNOWN_OUTCOME'
  /** A router tried every account and none sent the message (each surely did not). */
  | 'ALL_ACCOUNTS_FAILED';

/** The operation that failed. */
export type SmsAction =
  | 'send'
  | 'overage'
  | 'checkkeyword'
  | 'changespwd'
  | 'queryReports'
  | 'queryReplies';

/** The answer a failed call received, kept whole for consumers that must not lose it. */
export interface SmsRawResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
  receivedAt: Date;
}

export interface SmsErrorOptions {
  code: SmsErrorCode;
  action?: SmsAction | undefined;
  /** What the platform said, verbatim (Chinese), where it said something. */
  platformMessage?: string | undefined;
  /** HTTP status of the response, where there was one. */
  status?: number | undefined;
  /** A short, secret-free excerpt of an unparseable response body. */
  excerpt?: string | undefined;
  /** Blocked words parsed from `包含非法字符：…`. */
  words?: string[] | undefined;
  /** Which field failed validation. */
  field?: string | undefined;
  /** A router's error: the account whose attempt this is (the last one tried). */
  account?: string | undefined;
  /** A router's error: every account tried, in order, and what it came to. */
  attempts?: RouteAttempt[] | undefined;
  cause?: unknown;
}

/** One account a router tried for a send, and why it did not send there. */
export interface RouteAttempt {
  account: string;
  /** The error's code, or `CIRCUIT_OPEN` when the account's breaker skipped it (nothing sent). */
  code: SmsErrorCode | 'CIRCUIT_OPEN';
  /** The error's message (secret-free), for logs and the all-failed error. */
  message?: string | undefined;
}

/**
 * The one error type of `@sms/core`. Branch on `code`; `platformMessage` keeps what the
 * platform said. It never holds the password.
 */
export class SmsError extends Error {
  override readonly name: string = 'SmsError';
  readonly code: SmsErrorCode;
  readonly action: SmsAction | undefined;
  readonly platformMessage: string | undefined;
  readonly status: number | undefined;
  readonly excerpt: string | undefined;
  readonly words: string[];
  readonly field: string | undefined;
  /** Set by a router: the account this error happened on (for `UNKNOWN_OUTCOME`: where it may have gone out). */
  account: string | undefined;
  /** Set by a router: the accounts tried, in order, with their codes (empty otherwise). */
  attempts: RouteAttempt[];
  /**
   * The raw answer, on `HTTP` and `PROTOCOL` errors of `SmsClient` calls. For a pull it may
   * hold records that exist nowhere else: keep the bytes (the relay quarantines them). The
   * bytes are exactly as received, so they may hold a password a server echoed: the property
   * is not enumerable, and neither `toJSON()` nor `util.inspect` / `console.log` show it.
   */
  declare response: SmsRawResponse | undefined;
  /**
   * Complete records read from a pull answer that failed anyway (cut off mid-body, over a
   * limit, or carrying an error element next to its records). The platform will not hand
   * them out again: process them like any fetched record.
   */
  records: ReadonlyArray<StatusReport | Reply>;

  constructor(message: string, options: SmsErrorOptions) {
    super(`[sms] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.action = options.action;
    this.platformMessage = options.platformMessage;
    this.status = options.status;
    this.excerpt = options.excerpt;
    this.words = options.words ?? [];
    this.field = options.field;
    this.account = options.account;
    this.attempts = options.attempts ?? [];
    Object.defineProperty(this, 'response', {
      value: undefined,
      writable: true,
      enumerable: false,
      configurable: true,
    });
    this.records = [];
  }

  /** True when the platform itself refused the request (it answered, and said no). */
  get isPlatformRefusal(): boolean {
    return !TRANSPORT_CODES.has(this.code) && this.code !== 'VALIDATION';
  }

  /**
   * True when a send may have been accepted: do not resend blindly, check the reports
   * or the platform's console first.
   */
  get outcomeUnknown(): boolean {
    return this.code === 'UNKNOWN_OUTCOME';
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      action: this.action,
      message: this.message,
      platformMessage: this.platformMessage,
      status: this.status,
      excerpt: this.excerpt,
      words: this.words.length > 0 ? this.words : undefined,
      field: this.field,
      account: this.account,
      attempts: this.attempts.length > 0 ? this.attempts : undefined,
      records: this.records.length > 0 ? this.records.length : undefined,
    };
  }
}

const TRANSPORT_CODES: ReadonlySet<SmsErrorCode> = new Set([
  'HTTP',
  'PROTOCOL',
  'TIMEOUT',
  'NETWORK',
  'UNKNOWN_OUTCOME',
  'ALL_ACCOUNTS_FAILED',
]);

export function isSmsError(value: unknown): value is SmsError {
  return value instanceof SmsError;
}

/**
 * Masks `secrets` (every spelling `maskSecrets` knows) in everything an `SmsError` prints:
 * message, stack, platform message, excerpt, words, and the messages of its causes.
 * `response` keeps the raw bytes (it is never printed). Returns the same error.
 */
export function maskErrorSecrets(error: SmsError, secrets: readonly string[]): SmsError {
  const mask = (text: string | undefined) =>
    text === undefined ? undefined : maskSecrets(text, secrets);
  const writable = error as { -readonly [K in keyof SmsError]: SmsError[K] };
  writable.message = maskSecrets(error.message, secrets);
  if (typeof error.stack === 'string') writable.stack = maskSecrets(error.stack, secrets);
  writable.platformMessage = mask(error.platformMessage);
  writable.excerpt = mask(error.excerpt);
  writable.words = error.words.map((word) => maskSecrets(word, secrets));
  writable.field = mask(error.field);
  if (error.cause !== undefined) {
    Object.defineProperty(error, 'cause', {
      value: maskCause(error.cause, secrets, 0),
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
  return error;
}

/** A cause whose text holds a secret is replaced by a plain `Error` with the text masked. */
function maskCause(cause: unknown, secrets: readonly string[], depth: number): unknown {
  if (cause instanceof SmsError) return maskErrorSecrets(cause, secrets);
  if (!(cause instanceof Error)) {
    return typeof cause === 'string' ? maskSecrets(cause, secrets) : cause;
  }
  const inner =
    depth < 4 && cause.cause !== undefined
      ? maskCause(cause.cause, secrets, depth + 1)
      : cause.cause;
  const message = maskSecrets(cause.message, secrets);
  const stack = typeof cause.stack === 'string' ? maskSecrets(cause.stack, secrets) : cause.stack;
  if (message === cause.message && stack === cause.stack && inner === cause.cause) return cause;
  const copy = new Error(message, inner === undefined ? undefined : { cause: inner });
  copy.name = cause.name;
  copy.stack = stack;
  const code = (cause as { code?: unknown }).code;
  if (code !== undefined) Object.assign(copy, { code });
  return copy;
}

export function validationError(field: string, message: string, action?: SmsAction): SmsError {
  return new SmsError(message, { code: 'VALIDATION', field, action });
}

/** Turns anything thrown into an `SmsError`, keeping an existing one as it is. */
export function toSmsError(error: unknown, action?: SmsAction): SmsError {
  if (error instanceof SmsError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SmsError(`unexpected failure: ${message}`, {
    code: 'NETWORK',
    action,
    cause: error,
  });
}
