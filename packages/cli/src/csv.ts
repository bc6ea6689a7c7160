import { isValidMobile, normalizeMobile } from '@sms/core';
import { usageError } from './exit.js';

/**
 * RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM. Also accepts `;`
 * or tab as the separator when the header line has no comma (spreadsheet exports).
 */
export function parseCsv(text: string): string[][] {
  const input = text.replace(/^\uFEFF/, '');
  const firstLine = input.slice(0, input.search(/\r?\n|$/));
  const separator = firstLine.includes(',')
    ? ','
    : firstLine.includes('\t')
      ? '\t'
      : firstLine.includes(';')
        ? ';'
        : ',';
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < input.length) {
    const char = input[i]!;
    if (quoted) {
      if (char === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += char;
      i++;
      continue;
    }
    if (char === '"' && field === '') quoted = true;
    else if (char === separator) {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      if (char === '\r' && input[i + 1] === '\n') i++;
    } else field += char;
    i++;
  }
  if (quoted) throw usageError('CSV: a quoted field is not closed');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((cells) => cells.some((cell) => cell.trim() !== ''));
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
  /** 1-based line of the CSV data row (header excluded) for messages. */
  line: number;
  /** Normalised number (may be invalid: check `valid`). */
  mobile: string;
  /** As written in the file. */
  raw: string;
  valid: boolean;
  /** Column name → value (header row names; `col1`, `col2`, … without a header). */
  fields: Record<string, string>;
}

export interface RecipientTable {
  columns: string[];
  hasHeader: boolean;
  mobileColumn: string;
  recipients: Recipient[];
}

/**
 * Reads recipients: numbers from `mobileColumn`, else a column named like "mobile", else the
 * first column. The first row is a header unless its number cell is already a valid number.
 */
export function readRecipients(
  text: string,
  options: { mobileColumn?: string | undefined } = {},
): RecipientTable {
  const rows = parseCsv(text);
  if (rows.length === 0) throw usageError('CSV: the file is empty');
  const first = rows[0]!.map((cell) => cell.trim());
  const named = options.mobileColumn?.trim();
  let hasHeader: boolean;
  let index: number;
  if (named) {
    index = first.findIndex((cell) => cell.toLowerCase() === named.toLowerCase());
    if (index < 0)
      throw usageError(`CSV: no column "${named}" in the header (${first.join(', ')})`);
    hasHeader = true;
  } else {
    index = first.findIndex((cell) => MOBILE_HEADERS.includes(cell.toLowerCase()));
    hasHeader = index >= 0 || !isValidMobile(normalizeMobile(first[0] ?? ''));
    if (index < 0) index = 0;
  }
  const width = Math.max(...rows.map((row) => row.length));
  const columns = hasHeader
    ? first.map((cell, i) => cell || `col${i + 1}`)
    : Array.from({ length: width }, (_, i) => `col${i + 1}`);
  const seen = new Set<string>();
  for (const column of columns) {
    if (seen.has(column))
      throw usageError(`CSV: the column "${column}" appears twice in the header`);
    seen.add(column);
  }
  const data = hasHeader ? rows.slice(1) : rows;
  const recipients = data.map((row, i): Recipient => {
    const raw = (row[index] ?? '').trim();
    const mobile = normalizeMobile(raw);
    const fields: Record<string, string> = {};
    columns.forEach((column, c) => {
      fields[column] = (row[c] ?? '').trim();
    });
    return { line: i + 1, mobile, raw, valid: isValidMobile(mobile), fields };
  });
  return { columns, hasHeader, mobileColumn: columns[index]!, recipients };
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
