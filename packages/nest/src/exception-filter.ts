import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpStatus,
  Logger,
  Optional,
} from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { SmsError, type SmsErrorCode } from '@sms/core';

/** The JSON body `SmsExceptionFilter` answers. Never holds the password nor raw platform bytes. */
export interface SmsHttpErrorBody {
  statusCode: number;
  /** `SmsError.code`: `VALIDATION`, `ILLEGAL_KEYWORD`, `UNKNOWN_OUTCOME`, … */
  code: SmsErrorCode;
  /** What went wrong, in English, for the API's caller. */
  message: string;
  /** `VALIDATION`: which input was wrong (`mobiles`, `content`, …). */
  field?: string;
  /** `ILLEGAL_KEYWORD`: the blocked words the platform named. */
  words?: string[];
  /** What the platform said, verbatim (Chinese), when it refused. */
  platformMessage?: string;
  /** `UNKNOWN_OUTCOME`: true. The message may have been sent (and billed): do not resend blindly. */
  mayHaveBeenSent?: boolean;
}

interface Rule {
  status: number;
  message: string;
}

const upstream = (message: string): Rule => ({ status: HttpStatus.BAD_GATEWAY, message });
const content = (message: string): Rule => ({ status: HttpStatus.UNPROCESSABLE_ENTITY, message });

/**
 * The status of each code. The caller's input: 400/422. The platform refusing this service's
 * own account or configuration, or answering nonsense: 502 (the caller can do nothing about
 * it). Out of credit: 503 until someone recharges. Unreachable: 503 (nothing was sent, a
 * retry is safe); too slow: 504; possibly sent: 504 with `mayHaveBeenSent`.
 */
const RULES: Record<SmsErrorCode, Rule> = {
  VALIDATION: { status: HttpStatus.BAD_REQUEST, message: 'invalid input' },
  MOBILE_EMPTY: content('the platform found no mobile number'),
  CONTENT_EMPTY: content('the platform found no content'),
  SQL_INJECTION: content('the platform refused the content as SQL injection'),
  ILLEGAL_KEYWORD: content('the content contains words the platform blocks'),
  SIGNATURE_REQUIRED: content('the content needs a 【signature】'),
  INSUFFICIENT_BALANCE: {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    message: 'the SMS account has too little balance for this message',
  },
  AUTH_MISSING: upstream('the SMS platform refused the account (credentials missing)'),
  AUTH_FAILED: upstream('the SMS platform refused the account (credentials wrong)'),
  REPORTS_NOT_PERMITTED: upstream('the SMS account may not fetch reports'),
  BAD_PARAMS: upstream('the SMS platform refused the request parameters'),
  PLATFORM_ERROR: upstream('the SMS platform refused the request'),
  HTTP: upstream('the SMS platform answered with an HTTP error'),
  PROTOCOL: upstream('the SMS platform answered something unreadable'),
  NETWORK: {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    message: 'the SMS platform could not be reached; nothing was sent',
  },
  TIMEOUT: {
    status: HttpStatus.GATEWAY_TIMEOUT,
    message: 'the SMS platform did not answer in time',
  },
  ALL_ACCOUNTS_FAILED: {
    status: HttpStatus.SERVICE_UNAVAILABLE,
    message: 'no SMS account could take this message; nothing was sent',
  },
  UNKNOWN_OUTCOME: {
    status: HttpStatus.GATEWAY_TIMEOUT,
    message:
      'the SMS platform may have accepted this message (the connection failed after the request was sent): do not resend it before checking the delivery reports',
  },
};

/**
 * The HTTP answer for an `SmsError`: the status of the table above and a body built from the
 * error's fields (never `excerpt` nor `response`, which hold what a server sent back).
 */
export function smsErrorToHttp(error: SmsError): { status: number; body: SmsHttpErrorBody } {
  const rule = RULES[error.code] ?? upstream('the SMS platform refused the request');
  const body: SmsHttpErrorBody = {
    statusCode: rule.status,
    code: error.code,
    message: rule.message,
  };
  if (error.code === 'VALIDATION') {
    // Core's validation messages describe the input (`mobile "12345" is not …`), never a secret.
    body.message = error.message.replace(/^\[sms\]\s*/, '');
    if (error.field) body.field = error.field;
  }
  if (error.words.length > 0) body.words = [...error.words];
  if (error.isPlatformRefusal && error.platformMessage)
    body.platformMessage = error.platformMessage;
  if (error.code === 'UNKNOWN_OUTCOME') body.mayHaveBeenSent = true;
  return { status: rule.status, body };
}

interface ExpressLike {
  status(code: number): { json(body: unknown): unknown };
  json(body: unknown): unknown;
}
interface FastifyLike {
  code(code: number): { send(body: unknown): unknown };
}

/**
 * Answers an `SmsError` thrown by a route with the status of `smsErrorToHttp` and a JSON
 * body, instead of Nest's 500: `app.useGlobalFilters(new SmsExceptionFilter())`, or
 * `{ provide: APP_FILTER, useClass: SmsExceptionFilter }`. 5xx answers are logged (code and
 * message, which hold no password).
 */
@Catch(SmsError)
export class SmsExceptionFilter implements ExceptionFilter<SmsError> {
  readonly #logger = new Logger('SmsExceptionFilter');

  constructor(@Optional() private readonly adapterHost?: HttpAdapterHost) {}

  catch(error: SmsError, host: ArgumentsHost): unknown {
    if (host.getType() !== 'http') throw error;
    const { status, body } = smsErrorToHttp(error);
    if (status >= 500) {
      this.#logger.error(`${error.code} (${error.action ?? 'request'}): ${error.message}`);
    }
    const response = host.switchToHttp().getResponse<unknown>();
    const adapter = this.adapterHost?.httpAdapter;
    if (adapter) return adapter.reply(response, body, status);
    if (typeof (response as Partial<ExpressLike>).json === 'function') {
      return (response as ExpressLike).status(status).json(body);
    }
    return (response as FastifyLike).code(status).send(body);
  }
}
