import type { SmsErrorCode } from './errors.js';

/**
 * What a router does after a failed send on one account:
 * - `failover`: the message surely did not go out there; try the next account.
 * - `stop`: it may have gone out, or any account would refuse it; report it, try nothing else.
 */
export type FailoverDecision = 'failover' | 'stop';

export interface FailoverRule {
  decision: FailoverDecision;
  /** Counts as a failure of the account for its circuit breaker (the account, not the content, failed). */
  breaker: boolean;
  /** Why, in one line (the same words as the table in docs/sending.md). */
  why: string;
}

/**
 * THE failover rule, one row per `SmsErrorCode` of a send. docs/sending.md prints this table;
 * a test holds the two equal. `UNKNOWN_OUTCOME` covers a reset or a timeout after the request
 * was written; `NETWORK` and `TIMEOUT` on a send only ever mean it surely never left (the
 * transport tells the two apart with undici's `onRequestSent`).
 */
export const FAILOVER_RULES: Readonly<Record<SmsErrorCode, FailoverRule>> = {
  NETWORK: {
    decision: 'failover',
    breaker: true,
    why: 'no connection, or reset before the request was written: surely not sent',
  },
  TIMEOUT: {
    decision: 'failover',
    breaker: true,
    why: 'timed out connecting, before the request was written: surely not sent',
  },
  AUTH_MISSING: {
    decision: 'failover',
    breaker: true,
    why: 'the account was refused as a whole: nothing sent',
  },
  AUTH_FAILED: {
    decision: 'failover',
    breaker: true,
    why: 'wrong account or password: nothing sent',
  },
  INSUFFICIENT_BALANCE: {
    decision: 'failover',
    breaker: true,
    why: 'the account is out of balance: nothing sent',
  },
  REPORTS_NOT_PERMITTED: {
    decision: 'failover',
    breaker: true,
    why: 'an account refusal: nothing sent',
  },
  ALL_ACCOUNTS_FAILED: {
    decision: 'failover',
    breaker: true,
    why: 'a nested router: every account behind it surely did not send',
  },
  UNKNOWN_OUTCOME: {
    decision: 'stop',
    breaker: true,
    why: 'reset or timed out after the request was written: it may have been sent',
  },
  HTTP: {
    decision: 'stop',
    breaker: true,
    why: 'the platform got the request; a 5xx does not prove it was not handled',
  },
  PROTOCOL: {
    decision: 'stop',
    breaker: true,
    why: 'the platform got the request and answered something unreadable: it may have been sent',
  },
  ILLEGAL_KEYWORD: {
    decision: 'stop',
    breaker: false,
    why: 'content refused: another reseller would refuse it or send it unreviewed (`failoverOnKeyword` opts in)',
  },
  SIGNATURE_REQUIRED: {
    decision: 'stop',
    breaker: false,
    why: 'content refused: the text lacks a 【signature】 everywhere',
  },
  SQL_INJECTION: {
    decision: 'stop',
    breaker: false,
    why: 'content refused: the same text is refused or goes out unreviewed elsewhere',
  },
  MOBILE_EMPTY: {
    decision: 'stop',
    breaker: false,
    why: 'the input: no number the platform accepts',
  },
  CONTENT_EMPTY: {
    decision: 'stop',
    breaker: false,
    why: 'the input: no content',
  },
  VALIDATION: {
    decision: 'stop',
    breaker: false,
    why: 'the input: refused before any request',
  },
  BAD_PARAMS: {
    decision: 'stop',
    breaker: false,
    why: 'the request parameters were refused',
  },
  PLATFORM_ERROR: {
    decision: 'stop',
    breaker: false,
    why: 'refused for a reason we cannot read (其他错误): may be the content',
  },
};

export interface FailoverOptions {
  /**
   * Fail over on `ILLEGAL_KEYWORD` too (resellers keep different word lists). Off by default:
   * the text then goes out through a reseller that did not review it.
   */
  failoverOnKeyword?: boolean;
}

/** Reads the table: what to do after a send failed with `code`. */
export function failoverDecision(
  code: SmsErrorCode,
  options: FailoverOptions = {},
): FailoverDecision {
  if (code === 'ILLEGAL_KEYWORD' && options.failoverOnKeyword === true) return 'failover';
  return FAILOVER_RULES[code]?.decision ?? 'stop';
}

/** Reads the table: whether `code` counts against the account's circuit breaker. */
export function countsAgainstAccount(code: SmsErrorCode): boolean {
  return FAILOVER_RULES[code]?.breaker ?? true;
}
