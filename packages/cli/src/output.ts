import { describeError } from './exit.js';
import { maskSecrets } from '@sms/core';

/** Where a command writes. Tests pass fakes; the binary passes the process streams. */
export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export interface OutputOptions extends Streams {
  json: boolean;
  /** Colour on stdout: a TTY and `NO_COLOR` unset (and `FORCE_COLOR` forces it). */
  color: boolean;
  /** Colour on stderr, by the same rule. */
  colorErr: boolean;
}

export function shouldColor(
  stream: { isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  if (env['TERM'] === 'dumb') return false;
  return stream.isTTY === true;
}

const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

export type Paint = (text: string) => string;
export interface Palette {
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
}

function palette(enabled: boolean): Palette {
  const wrap =
    (open: number, close: number): Paint =>
    (text) =>
      enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text;
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
  };
}

/** Terminal columns a character takes: 2 for CJK and other wide characters, else 1. */
function charWidth(code: number): number {
  if (code < 0x1100) return code < 0x20 ? 0 : 1;
  if (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Width of a string on a terminal (ANSI colours ignored, CJK counted double). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text.replace(ANSI, '')) width += charWidth(char.codePointAt(0)!);
  return width;
}

function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - displayWidth(text))) + text;
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  align?: 'left' | 'right';
  paint?: (text: string, row: Row) => string;
}

/** An aligned table: a header line, then one line per row; two spaces between columns. */
export function renderTable<Row>(
  rows: readonly Row[],
  columns: readonly Column<Row>[],
  p?: Palette,
): string {
  const cells = rows.map((row) => columns.map((column) => oneLine(column.value(row))));
  const widths = columns.map((column, i) =>
    Math.max(displayWidth(column.header), ...cells.map((line) => displayWidth(line[i]!))),
  );
  const lines: string[] = [];
  const last = columns.length - 1;
  const fit = (text: string, i: number) => {
    if (columns[i]!.align === 'right') return padStart(text, widths[i]!);
    return i === last ? text : padEnd(text, widths[i]!);
  };
  lines.push(
    columns
      .map((column, i) => (p ? p.bold(fit(column.header, i)) : fit(column.header, i)))
      .join('  ')
      .trimEnd(),
  );
  rows.forEach((row, r) => {
    const line = columns.map((column, i) => {
      const text = fit(cells[r]![i]!, i);
      return column.paint ? column.paint(text, row) : text;
    });
    lines.push(line.join('  ').trimEnd());
  });
  return lines.join('\n') + '\n';
}

/** Key/value lines with the keys aligned. */
export function renderPairs(pairs: ReadonlyArray<readonly [string, string]>, p?: Palette): string {
  const width = Math.max(...pairs.map(([key]) => displayWidth(key)));
  return (
    pairs
      .map(
        ([key, value]) =>
          `${p ? p.dim(padEnd(key, width)) : padEnd(key, width)}  ${oneLine(value)}`,
      )
      .join('\n') + '\n'
  );
}

/** Keeps a table cell on one line (replies may hold newlines). */
function oneLine(text: string): string {
  return text.replace(/\r?\n/g, '⏎').replace(/\t/g, ' ');
}

/**
 * Everything a command prints goes through here: human text or JSON on stdout, notes and
 * errors on stderr, and every known secret masked on the way out (defence in depth: no
 * code path is meant to print one).
 */
export class Output {
  readonly json: boolean;
  readonly out: Palette;
  readonly err: Palette;
  readonly streams: Streams;
  readonly #secrets = new Set<string>();

  constructor(options: OutputOptions) {
    this.json = options.json;
    this.streams = { stdout: options.stdout, stderr: options.stderr };
    this.out = palette(options.color);
    this.err = palette(options.colorErr);
  }

  /**
   * Masks this value in everything printed from now on, in every encoding a server may echo
   * it back in (percent-encoded UTF-8 or GBK, `+` for spaces, HTML, JSON; values shorter
   * than 4 are ignored).
   */
  addSecret(secret: string | undefined): void {
    if (!secret || secret.length < 4 || this.#secrets.has(secret)) return;
    this.#secrets.add(secret);
  }

  redact(text: string): string {
    return this.#secrets.size === 0 ? text : maskSecrets(text, [...this.#secrets]);
  }

  /** Human text on stdout (ignored in JSON mode). */
  print(text: string): void {
    if (this.json) return;
    this.streams.stdout.write(this.redact(text.endsWith('\n') ? text : text + '\n'));
  }

  /** One JSON document (or one JSONL record) on stdout. */
  printJson(value: unknown): void {
    this.streams.stdout.write(this.redact(JSON.stringify(value)) + '\n');
  }

  /** A note for the human on stderr, in both modes (stdout stays clean for scripts). */
  note(text: string): void {
    this.streams.stderr.write(this.redact(text.endsWith('\n') ? text : text + '\n'));
  }

  warn(text: string): void {
    this.note(`${this.err.yellow('warning:')} ${text}`);
  }

  /** Reports an error: JSON `{ ok: false, error }` on stdout with --json, else text on stderr. */
  error(error: unknown, exitCode: number): void {
    const { code, message, hint, details } = describeError(error);
    if (this.json) {
      this.printJson({
        ok: false,
        exitCode,
        error: { code, message, ...details, ...(hint ? { hint } : {}) },
      });
      return;
    }
    let text = `${this.err.red('error')} ${this.err.bold(`[${code}]`)} ${message}\n`;
    const platformMessage = details['platformMessage'];
    if (typeof platformMessage === 'string' && !message.includes(platformMessage)) {
      text += `  platform said: ${platformMessage}\n`;
    }
    if (typeof details['excerpt'] === 'string') text += `  response: ${details['excerpt']}\n`;
    const attempts = details['attempts'] as Array<{ account: string; code: string }> | undefined;
    if (attempts && attempts.length > 1)
      text += `  accounts tried: ${attempts.map((a) => `${a.account} (${a.code})`).join(', ')}\n`;
    if (hint) text += `  ${this.err.dim(hint)}\n`;
    this.note(text);
  }
}
