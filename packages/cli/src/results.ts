import { closeSync, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs';

/**
 * - `sent`: the platform accepted the chunk (taskId set)
 * - `failed`: the platform refused it, or the connection surely failed before sending
 * - `unknown`: the request may have reached the platform: do not resend blindly
 * - `not_sent`: never requested (stopped after a failure, or interrupted)
 * - `invalid`: not a valid mobile number (with --skip-invalid)
 */
export type ResultStatus = 'sent' | 'failed' | 'unknown' | 'not_sent' | 'invalid';

export interface ResultRow {
  mobile: string;
  status: ResultStatus;
  taskId?: string | undefined;
  errorCode?: string | undefined;
  /** 1-based chunk number (one request); empty for invalid numbers. */
  chunk?: number | undefined;
  detail?: string | undefined;
  /** The line of the source CSV the number is on (file line, 1-based); empty with --to. */
  line?: number | undefined;
  /** The source CSV, relative to the results file's folder; empty with --to. */
  source?: string | undefined;
}

/**
 * Makes an open file readable by its owner only, as a new one is. Not ours to change (owned
 * by another user) or on Windows: left as it is.
 */
export function restrictMode(fd: number): void {
  if (process.platform === 'win32') return;
  try {
    fchmodSync(fd, 0o600);
  } catch {
    // EPERM: another user's file, which they chose to share.
  }
}

export const RESULT_COLUMNS = [
  'mobile',
  'status',
  'taskId',
  'errorCode',
  'chunk',
  'detail',
  // Last, so scripts that read the first six columns by position keep working.
  'line',
  'source',
] as const;

/**
 * A cell a spreadsheet would run as a formula (`=HYPERLINK(…)`, `@SUM(…)`, `+`, `-`, tab,
 * CR), prefixed with `'` (OWASP CSV injection). Numbers from the input CSV and texts from
 * the platform both land here; none of our own fields is a negative number.
 */
export function neutralizeCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** The value {@link neutralizeCell} was given: its `'` removed again when it guarded a formula start. */
export function restoreCell(value: string): string {
  return /^'[=+\-@\t\r]/.test(value) ? value.slice(1) : value;
}

function csvCell(value: string): string {
  const safe = neutralizeCell(value);
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function formatResultRow(row: ResultRow): string {
  return [
    row.mobile,
    row.status,
    row.taskId ?? '',
    row.errorCode ?? '',
    row.chunk === undefined ? '' : String(row.chunk),
    row.detail ?? '',
    row.line === undefined ? '' : String(row.line),
    row.source ?? '',
  ]
    .map(csvCell)
    .join(',');
}

/**
 * The results CSV, written as the batch goes: the header at once, then the rows of each
 * chunk as soon as it finishes, each time flushed to disk (fsync), so that a crash or
 * Ctrl-C never leaves a row claiming less than what happened.
 */
export class ResultsFile {
  readonly path: string;
  readonly #fd: number;
  readonly #redact: (text: string) => string;
  #closed = false;

  constructor(path: string, redact: (text: string) => string = (text) => text) {
    this.path = path;
    this.#redact = redact;
    this.#fd = openSync(path, 'w', 0o600);
    // The mode above applies to a new file only: an existing one keeps its old mode otherwise.
    restrictMode(this.#fd);
    this.#append(`${RESULT_COLUMNS.join(',')}\n`);
  }

  /** Appends rows and fsyncs before returning (synchronous on purpose: nothing interleaves). */
  write(rows: readonly ResultRow[]): void {
    if (this.#closed || rows.length === 0) return;
    this.#append(rows.map((row) => `${this.#redact(formatResultRow(row))}\n`).join(''));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }

  #append(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.#fd, bytes, offset);
    fsyncSync(this.#fd);
  }
}
