import { isSmsError, type SmsError } from '@sms/core';

/** The exit codes of `sms`. Scripts can rely on them; `docs/cli.md` lists them. */
export const ExitCode = {
  /** Everything worked (for `check`: the content is clean). */
  OK: 0,
  /** A bug or an unexpected failure (please report it). */
  INTERNAL: 1,
  /** Bad flags, bad input, missing credentials: nothing was sent. */
  USAGE: 2,
  /** The platform answered and refused (wrong password, blocked words, no balance, …). */
  REFUSED: 3,
  /** Network, timeout, HTTP or protocol error: the request did not complete. */
  NETWORK: 4,
  /** The send may have gone out: check reports or the console before resending. */
  UNKNOWN_OUTCOME: 5,
  /** Interrupted (Ctrl-C): a batch (the results file says what was sent) or a `--watch`. */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error of the command line itself (bad flag, unreadable file): exits 2 unless told otherwise. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCodeValue;
  readonly code: string;

  constructor(message: string, options: { exitCode?: ExitCodeValue; code?: string } = {}) {
    super(message);
    this.exitCode = options.exitCode ?? ExitCode.USAGE;
    this.code = options.code ?? 'USAGE';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, { code: 'USAGE' });
}

/** Maps an error code of `@sms/core` to the exit code. */
export function exitCodeForSmsError(error: SmsError): ExitCodeValue {
  switch (error.code) {
    case 'VALIDATION':
      return ExitCode.USAGE;
    case 'UNKNOWN_OUTCOME':
      return ExitCode.UNKNOWN_OUTCOME;
    case 'HTTP':
    case 'PROTOCOL':
    case 'TIMEOUT':
    case 'NETWORK':
      return ExitCode.NETWORK;
    default:
      return ExitCode.REFUSED;
  }
}

export function exitCodeFor(error: unknown): ExitCodeValue {
  if (error instanceof CliError) return error.exitCode;
  if (isSmsError(error)) return exitCodeForSmsError(error);
  return ExitCode.INTERNAL;
}

/** The most serious of several exit codes (for batches: unknown > network > refused > usage). */
export function worstExitCode(codes: Iterable<ExitCodeValue>): ExitCodeValue {
  const rank: ExitCodeValue[] = [
    ExitCode.UNKNOWN_OUTCOME,
    ExitCode.NETWORK,
    ExitCode.REFUSED,
    ExitCode.USAGE,
    ExitCode.INTERNAL,
  ];
  const seen = new Set(codes);
  for (const code of rank) if (seen.has(code)) return code;
  return ExitCode.OK;
}

const HINTS: Partial<Record<string, string>> = {
  AUTH_MISSING: 'Set SMS_ACCOUNT and SMS_PASSWORD (or use --config).',
  AUTH_FAILED: 'Check --userid, --account and the password (SMS_PASSWORD or the config file).',
  ILLEGAL_KEYWORD:
    'Remove the blocked words; `sms check "<content>"` tests a text without sending.',
  INSUFFICIENT_BALANCE: 'Top up the account; `sms balance` shows what is left.',
  SIGNATURE_REQUIRED: 'Start or end the content with a signature such as 【YourBrand】.',
  REPORTS_NOT_PERMITTED: 'This account may not read reports; ask the platform to enable it.',
  SQL_INJECTION: 'The platform rejects some characters and words as "SQL injection"; rephrase.',
  TIMEOUT: 'The platform did not answer in time; raise --timeout or try again later.',
  NETWORK: 'Could not reach the platform; check --base-url and the network.',
  UNKNOWN_OUTCOME:
    'The send may have gone out. Do NOT resend blindly: check `sms reports` or the platform console first.',
};

/** `UNKNOWN_OUTCOME` of a reports/replies pull: its answer broke off after the request arrived. */
const PULL_UNKNOWN_HINT =
  'The answer broke off after the request reached the platform: records in the part that never arrived are lost (each is handed out once); the platform console may still list them.';

/** A short, secret-free explanation of the error and what to do next. */
export function describeError(error: unknown): {
  code: string;
  message: string;
  hint?: string;
  details: Record<string, unknown>;
} {
  if (error instanceof CliError) return { code: error.code, message: error.message, details: {} };
  if (isSmsError(error)) {
    const details: Record<string, unknown> = {};
    if (error.action) details['action'] = error.action;
    if (error.platformMessage) details['platformMessage'] = error.platformMessage;
    if (error.status !== undefined) details['status'] = error.status;
    if (error.excerpt) details['excerpt'] = error.excerpt;
    if (error.words.length > 0) details['words'] = error.words;
    if (error.field) details['field'] = error.field;
    if (error.records.length > 0) details['recordsKept'] = error.records.length;
    const pull = error.action === 'queryReports' || error.action === 'queryReplies';
    const hint = pull && error.code === 'UNKNOWN_OUTCOME' ? PULL_UNKNOWN_HINT : HINTS[error.code];
    return {
      code: error.code,
      // Core's messages start with `[sms] ` and may end with ` [CODE]`: we print the code already.
      message: error.message.replace(/^\[sms\] /, '').replace(` [${error.code}]`, ''),
      ...(hint ? { hint } : {}),
      details,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message, details: {} };
}
