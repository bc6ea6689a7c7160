import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { isValidMobile, normalizeMobile } from '@sms/core';
import { CsvError, type Options, parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { usageError } from './exit.js';

/** One CSV record, with the file line it starts on (1-based; a quoted field may span lines). */
export interface CsvRow {
  line: number;
  cells: string[];
}

/** A row longer than this is an unclosed quote swallowing the file, not a recipient. */
const MAX_ROW_BYTES = 1 << 20;
/** How much of the file's start is searched for the header line that decides the separator. */
const HEAD_BYTES = 64 * 1024;

/** `,` unless the header line has none and has a tab or `;` (spreadsheet exports). */
function detectSeparator(head: string): string {
  const firstLine = head.replace(/^\uFEFF/, '').split(/[\r\n]/, 1)[0] ?? '';
  if (firstLine.includes(',')) return ',';
  if (firstLine.includes('\t')) return '\t';
  if (firstLine.includes(';')) return ';';
  return ',';
}

/** Line breaks in a record's raw text: CRLF, LF or a lone CR each end one line. */
function lineBreaks(raw: string): number {
  let count = 0;
  for (let i = 0; i < raw.length; i++) {
    const char = raw.charCodeAt(i);
    if (char === 10) count++;
    else if (char === 13) {
      count++;
      if (raw.charCodeAt(i + 1) === 10) i++;
    }
  }
  return count;
}

/**
 * csv-parse options shared by the string and the stream readers. `raw` gives each record's
 * source text, whose line breaks (quoted ones included) tell the line the next record starts
 * on: csv-parse's own `info.lines` counts a CRLF twice and the end of a record, not its start.
 */
function csvOptions(separator: string, position: { line: number }): Options {
  const options: Options<CsvRow, RawRecord> = {
    bom: true,
    delimiter: separator,
    record_delimiter: ['\r\n', '\n', '\r'],
    // A stray quote inside a field (`5" screen`) is a character, as spreadsheets write it.
    relax_quotes: true,
    relax_column_count: true,
    max_record_size: MAX_ROW_BYTES,
    raw: true,
    on_record: ({ record, raw }) => {
      const line = position.line;
      position.line += lineBreaks(raw);
      return record.some((cell) => cell.trim() !== '') ? { line, cells: record } : null;
    },
  };
  // csv-parse's `parse` overloads type records as string[] unless `columns` is set.
  return options as unknown as Options;
}

interface RawRecord {
  record: string[];
  raw: string;
}

/** A csv-parse error as a usage error naming the line of the record it stopped in. */
function csvError(error: unknown, line: number): unknown {
  if (!(error instanceof CsvError)) return error;
  const reason =
    error.code === 'CSV_QUOTE_NOT_CLOSED'
      ? 'a quoted field is not closed'
      : error.code === 'CSV_MAX_RECORD_SIZE'
        ? `a row is longer than ${MAX_ROW_BYTES / (1 << 20)} MiB (an unclosed quote?)`
        : error.message;
  return usageError(`CSV line ${line}: ${reason}`);
}

/**
 * RFC 4180 CSV with csv-parse: quoted fields (also across lines), doubled quotes, CRLF, LF
 * or CR, a UTF-8 BOM; `;` or tab as the separator when the header line has no comma.
 * Rows whose cells are all blank are left out. Each row carries the file line it starts on.
 */
export function parseCsvRows(text: string): CsvRow[] {
  const position = { line: 1 };
  try {
    return parseSync(text, csvOptions(detectSeparator(text), position)) as unknown as CsvRow[];
  } catch (error) {
    throw csvError(error, position.line);
  }
}

/** The cells of {@link parseCsvRows}, without line numbers. */
export function parseCsv(text: string): string[][] {
  return parseCsvRows(text).map((row) => row.cells);
}

const toBuffer = (chunk: Uint8Array | string): Buffer =>
  typeof chunk === 'string'
    ? Buffer.from(chunk)
    : Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);

/**
 * The same rows as {@link parseCsvRows}, parsed as the bytes arrive: the file is never one
 * string in memory. The separator is decided from the header line, read first.
 */
export async function* readCsvRows(
  source: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<CsvRow, void, undefined> {
  const chunks = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  const hasLineBreak = (chunk: Buffer) => chunk.includes(10) || chunk.includes(13);
  while (headBytes < HEAD_BYTES) {
    const next = await chunks.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = toBuffer(next.value);
    head.push(chunk);
    headBytes += chunk.length;
    if (hasLineBreak(chunk)) break;
  }
  const separator = detectSeparator(Buffer.concat(head).toString('utf8'));
  async function* all(): AsyncGenerator<Buffer> {
    try {
      yield* head;
      if (ended) return;
      for (let next = await chunks.next(); !next.done; next = await chunks.next())
        yield toBuffer(next.value);
      ended = true;
    } finally {
      // Stopped early (an error in a row, or the reader gave up): close the source too.
      if (!ended) await chunks.return?.();
    }
  }
  const position = { line: 1 };
  const parser = parse(csvOptions(separator, position));
  // A read error reaches the loop below through the parser; `closed` settles once both
  // streams are done, so the source is closed when this generator ends, however it ends.
  const closed = new Promise<void>((resolve) => {
    pipeline(Readable.from(all()), parser, () => resolve());
  });
  try {
    for await (const row of parser) yield row as CsvRow;
  } catch (error) {
    throw csvError(error, position.line);
  } finally {
    parser.destroy();
    await closed;
  }
}

/** A file's bytes as a stream of chunks; a file that cannot be read is a usage error naming it. */
export async function* readFileChunks(path: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of createReadStream(path)) yield chunk as Buffer;
  } catch (error) {
    throw usageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

const MOBILE_HEADERS = [
  'mobile',
  'mobiles',
  'phone',
  'tel',
  'number',
  '手机',
  '手机号',
  '手机号码',
  '号码',
];

export interface Recipient {
  /** The file line the row starts on (1-based, header included), for messages. */
  line: number;
  /** Normalised number (may be invalid: check `valid`). */
  mobile: string;
  /** As written in the file. */
  raw: string;
  valid: boolean;
  /** Column name → value (header row names; `col1`, `col2`, … without a header). */
  fields: Record<string, string>;
  /** The CSV file the row is from (absolute), when it is from one: the results file names it. */
  source?: string | undefined;
}

export interface RecipientTable {
  columns: string[];
  hasHeader: boolean;
  mobileColumn: string;
  recipients: Recipient[];
}

export interface ReadRecipientsOptions {
  /** The column holding the numbers (case-insensitive); the first row is then a header. */
  mobileColumn?: string | undefined;
}

/**
 * Turns rows into recipients one at a time: the first row decides the header and the
 * number column; without a header, the widest row decides the `colN` names.
 */
function recipientReader(options: ReadRecipientsOptions) {
  const recipients: Recipient[] = [];
  let header: string[] | undefined;
  let hasHeader = false;
  let index = 0;
  let width = 0;
  let started = false;
  const start = (first: string[]) => {
    started = true;
    const cells = first.map((cell) => cell.trim());
    const named = options.mobileColumn?.trim();
    if (named) {
      index = cells.findIndex((cell) => cell.toLowerCase() === named.toLowerCase());
      if (index < 0)
        throw usageError(`CSV: no column "${named}" in the header (${cells.join(', ')})`);
      hasHeader = true;
    } else {
      index = cells.findIndex((cell) => MOBILE_HEADERS.includes(cell.toLowerCase()));
      hasHeader = index >= 0 || !isValidMobile(normalizeMobile(cells[0] ?? ''));
      if (index < 0) index = 0;
    }
    if (!hasHeader) return;
    const columns = cells.map((cell, i) => cell || `col${i + 1}`);
    const seen = new Set<string>();
    for (const column of columns) {
      if (seen.has(column))
        throw usageError(`CSV: the column "${column}" appears twice in the header`);
      seen.add(column);
    }
    header = columns;
  };
  return {
    add(row: CsvRow): void {
      if (!started) {
        start(row.cells);
        if (hasHeader) return;
      }
      const raw = (row.cells[index] ?? '').trim();
      const mobile = normalizeMobile(raw);
      const fields: Record<string, string> = {};
      if (header) {
        header.forEach((column, c) => {
          fields[column] = (row.cells[c] ?? '').trim();
        });
      } else {
        width = Math.max(width, row.cells.length);
        row.cells.forEach((cell, c) => {
          fields[`col${c + 1}`] = cell.trim();
        });
      }
      recipients.push({ line: row.line, mobile, raw, valid: isValidMobile(mobile), fields });
    },
    finish(): RecipientTable {
      if (!started) throw usageError('CSV: the file is empty');
      if (header) return { columns: header, hasHeader, mobileColumn: header[index]!, recipients };
      const columns = Array.from({ length: width }, (_, i) => `col${i + 1}`);
      // Shorter rows get the missing columns as empty cells, as a template expects.
      for (const recipient of recipients)
        for (let c = Object.keys(recipient.fields).length; c < width; c++)
          recipient.fields[`col${c + 1}`] = '';
      return { columns, hasHeader, mobileColumn: columns[index]!, recipients };
    },
  };
}

/**
 * Reads recipients: numbers from `mobileColumn`, else a column named like "mobile", else the
 * first column. The first row is a header unless its number cell is already a valid number.
 */
export function readRecipients(text: string, options: ReadRecipientsOptions = {}): RecipientTable {
  const reader = recipientReader(options);
  for (const row of parseCsvRows(text)) reader.add(row);
  return reader.finish();
}

/**
 * {@link readRecipients} over a stream (a file's chunks, see {@link readFileChunks}): rows are
 * parsed as the bytes arrive, never the whole file as one string. The recipients themselves
 * are all kept, since a batch checks every number and groups identical texts before sending.
 */
export async function readRecipientsFrom(
  source: AsyncIterable<Uint8Array | string>,
  options: ReadRecipientsOptions = {},
): Promise<RecipientTable> {
  const reader = recipientReader(options);
  for await (const row of readCsvRows(source)) reader.add(row);
  return reader.finish();
}

const FIELD = /\{\{|\}\}|\{([^{}]*)\}/g;

/** The `{field}` names a template uses (`{{` and `}}` are literal braces). */
export function templateFields(template: string): string[] {
  const names = new Set<string>();
  for (const match of template.matchAll(FIELD))
    if (match[1] !== undefined) names.add(match[1].trim());
  return [...names];
}

/** Fills `{field}` from the row; `{{`/`}}` give literal braces. Unknown fields are an error. */
export function renderTemplate(template: string, fields: Readonly<Record<string, string>>): string {
  return template.replace(FIELD, (whole, name: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    const key = name!.trim();
    const value = fields[key];
    if (value === undefined)
      throw usageError(
        `template: no CSV column "${key}" for {${key}} (use {{ and }} for literal braces)`,
      );
    return value;
  });
}
