import { dirname, relative, resolve } from 'node:path';
import { isValidMobile, normalizeMobile } from '@sms/core';
import { type Recipient, readCsvRows, readFileChunks, readRecipientsFrom } from './csv.js';
import { usageError } from './exit.js';
import { restoreCell } from './results.js';

/** What `sms send --retry results.csv` sends again: the rows whose numbers surely did not get the text. */
export const RETRY_STATUSES: ReadonlySet<string> = new Set(['failed', 'not_sent']);

export interface RetrySelection {
  /** The source CSV the rows were read from again (absolute); undefined for a `--to` batch. */
  source: string | undefined;
  /** The source CSV's columns (for the template check); empty for a `--to` batch. */
  columns: string[];
  /** The original rows (fields included) of the numbers to send again, in file order. */
  recipients: Recipient[];
  /** Numbers left out because their outcome is unknown (they may have been sent). */
  unknown: number;
  /** The file has `line` and `source` columns (written by an sms that knows `--retry`). */
  hasPlaces: boolean;
}

export interface ReadRetryOptions {
  /** Folder the paths on the command line are relative to. */
  cwd: string;
  /** `--csv`: the source CSV, instead of the one the results file names (moved or renamed). */
  csv?: string | undefined;
  /** `--mobile-column`, as given to the first send. */
  mobileColumn?: string | undefined;
}

interface ResultLine {
  /** The results file's own line, for messages. */
  at: number;
  mobile: string;
  status: string;
  line: number | undefined;
  source: string | undefined;
}

/**
 * Reads a results file and, for every `failed` or `not_sent` number, the row it came from in
 * the source CSV (found by the file and line the results file names), so that a templated
 * batch is sent again with its own fields. A source row that no longer holds that number
 * means the CSV changed since: that is an error, not a guess.
 */
export async function readRetry(
  resultsPath: string,
  options: ReadRetryOptions,
): Promise<RetrySelection> {
  const path = resolve(options.cwd, resultsPath);
  const wanted: ResultLine[] = [];
  let unknown = 0;
  let header: string[] | undefined;
  for await (const row of readCsvRows(readFileChunks(path))) {
    const cells = row.cells.map((cell) => restoreCell(cell.trim()));
    if (!header) {
      header = cells;
      for (const column of ['mobile', 'status'])
        if (!header.includes(column))
          throw usageError(
            `--retry ${resultsPath}: no "${column}" column: not a results file of sms send --results`,
          );
      continue;
    }
    const cell = (name: string) => {
      const i = header!.indexOf(name);
      return i < 0 ? '' : (cells[i] ?? '');
    };
    const status = cell('status');
    if (status === 'unknown') unknown++;
    if (!RETRY_STATUSES.has(status)) continue;
    const lineText = cell('line');
    if (lineText !== '' && !/^\d+$/.test(lineText))
      throw usageError(
        `--retry ${resultsPath} line ${row.line}: line "${lineText}" is not a number`,
      );
    wanted.push({
      at: row.line,
      mobile: cell('mobile'),
      status,
      line: lineText === '' ? undefined : Number(lineText),
      source: cell('source') || undefined,
    });
  }
  if (!header) throw usageError(`--retry ${resultsPath}: the file is empty`);

  const fromCsv = wanted.filter((row) => row.line !== undefined && row.source !== undefined);
  const bare = wanted.filter((row) => row.line === undefined || row.source === undefined);
  const sources = new Set(fromCsv.map((row) => row.source!));
  if (sources.size > 1)
    throw usageError(
      `--retry ${resultsPath}: rows from ${sources.size} CSV files (${[...sources].join(', ')}); retry one batch at a time`,
    );
  // A `--to` batch (or a results file of an older sms): the number is all there is.
  const recipients: Recipient[] = bare.map((row) => {
    const mobile = normalizeMobile(row.mobile);
    return { line: row.at, mobile, raw: row.mobile, valid: isValidMobile(mobile), fields: {} };
  });
  const hasPlaces = header.includes('line') && header.includes('source');
  if (fromCsv.length === 0)
    return { source: undefined, columns: [], recipients, unknown, hasPlaces };

  const named = [...sources][0]!;
  const source =
    options.csv !== undefined ? resolve(options.cwd, options.csv) : resolve(dirname(path), named);
  const table = await readRecipientsFrom(readFileChunks(source), {
    mobileColumn: options.mobileColumn,
  });
  const byLine = new Map(table.recipients.map((recipient) => [recipient.line, recipient]));
  const shown = relative(options.cwd, source) || source;
  const again: Recipient[] = [];
  for (const row of fromCsv) {
    const original = byLine.get(row.line!);
    if (original === undefined || original.mobile !== normalizeMobile(row.mobile)) {
      throw usageError(
        `--retry: ${resultsPath} line ${row.at} lists ${row.mobile} on line ${row.line} of ${shown}, ` +
          `but that line ${original === undefined ? 'holds no row' : `holds ${original.raw}`}: ` +
          'the CSV changed since the send (give the original with --csv, and the same --mobile-column)',
      );
    }
    again.push({ ...original, source });
  }
  again.sort((a, b) => a.line - b.line);
  return {
    source,
    columns: table.columns,
    recipients: [...recipients, ...again],
    unknown,
    hasPlaces,
  };
}
