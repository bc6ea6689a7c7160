import { type SmsError, toSmsError } from '@sms/core';

/** The Nodemailer error codes this transport produces. */
export type NodemailerErrorCode =
  | 'EAUTH'
  | 'EENVELOPE'
  | 'EMESSAGE'
  | 'ETIMEDOUT'
  | 'ECONNECTION'
  | 'EPROTOCOL'
  | 'ECONFIG';

export interface SmsTransportErrorOptions {
  code: NodemailerErrorCode;
  /** `send` or `verify`, like Nodemailer's SMTP `command`. */
  command: 'send' | 'verify';
  /** What the platform said (its Chinese message), or a short excerpt of a broken answer. */
  response?: string | undefined;
  /** The HTTP status, when there was an answer. */
  responseCode?: number | undefined;
  /** Numbers that were not sent (invalid ones, and chunks the platform refused). */
  rejected?: string[] | undefined;
  /** Numbers whose send may or may not have happened (`UNKNOWN_OUTCOME`): do not resend blindly. */
  pending?: string[] | undefined;
  cause?: unknown;
}

/**
 * An error shaped the way Nodemailer reports its own: a `code` (`EAUTH`, `EENVELOPE`, …),
 * `command`, `response`, `responseCode`. The `SmsError` from `@sms/core` is the `cause`.
 */
export class SmsTransportError extends Error {
  override readonly name: string = 'SmsTransportError';
  readonly code: NodemailerErrorCode;
  readonly command: 'send' | 'verify';
  readonly response: string | undefined;
  readonly responseCode: number | undefined;
  readonly rejected: string[];
  readonly pending: string[];

  constructor(message: string, options: SmsTransportErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.command = options.command;
    this.response = options.response;
    this.responseCode = options.responseCode;
    this.rejected = options.rejected ?? [];
    this.pending = options.pending ?? [];
  }
}

const CONFIG_FIELDS = new Set(['baseUrl', 'account', 'password', 'userId', 'charset']);

/** The Nodemailer code for an `SmsError` code. */
export function nodemailerCode(error: SmsError): NodemailerErrorCode {
  switch (error.code) {
    case 'AUTH_MISSING':
    case 'AUTH_FAILED':
      return 'EAUTH';
    case 'MOBILE_EMPTY':
      return 'EENVELOPE';
    case 'CONTENT_EMPTY':
    case 'ILLEGAL_KEYWORD':
    case 'SIGNATURE_REQUIRED':
    case 'SQL_INJECTION':
    case 'INSUFFICIENT_BALANCE':
    case 'PLATFORM_ERROR':
      return 'EMESSAGE';
    case 'TIMEOUT':
    case 'UNKNOWN_OUTCOME':
      return 'ETIMEDOUT';
    case 'NETWORK':
      return 'ECONNECTION';
    case 'VALIDATION':
      if (error.field === 'mobiles') return 'EENVELOPE';
      if (error.field !== undefined && CONFIG_FIELDS.has(error.field)) return 'ECONFIG';
      return 'EMESSAGE';
    default:
      // HTTP, PROTOCOL, and the pull-only codes (REPORTS_NOT_PERMITTED, BAD_PARAMS).
      return 'EPROTOCOL';
  }
}

/** Wraps anything thrown by `@sms/core` in an `SmsTransportError` (the original as `cause`). */
export function toTransportError(
  error: unknown,
  command: 'send' | 'verify',
  extra: Pick<SmsTransportErrorOptions, 'rejected' | 'pending'> = {},
): SmsTransportError {
  if (error instanceof SmsTransportError) return error;
  const smsError = toSmsError(error, command === 'send' ? 'send' : 'overage');
  return new SmsTransportError(smsError.message, {
    code: nodemailerCode(smsError),
    command,
    response: smsError.platformMessage ?? smsError.excerpt,
    responseCode: smsError.status,
    cause: smsError,
    ...extra,
  });
}
