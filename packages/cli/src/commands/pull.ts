import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { isSmsError, type Reply, type StatusReport } from '@sms/core';
import { intFlag, stringFlag } from '../args.js';
import type { Context } from '../context.js';
import { CliError, describeError, ExitCode, exitCodeFor, worstExitCode } from '../exit.js';
import { type Column, displayWidth, type Palette, renderTable } from '../output.js';
import { restrictMode } from '../results.js';

type Kind = 'reports' | 'replies';

/** One line of `--out` and of `--json --watch`: the record plus its kind. */
export type ReportRecord = { type: 'report' } & StatusReport;
export type ReplyRecord = { type: 'reply' } & Reply;
type PullRecord = ReportRecord | ReplyRecord;

/**
 * Writing `--out` failed (disk full, I/O error, …). The batch being written was already
 * consumed from the platform: the caller prints it and says it was not saved.
 */
class OutFileError extends Error {
  override readonly name = 'OutFileError';
  constructor(
    readonly path: string,
    /** The errno code, e.g. `ENOSPC`. */
    readonly errno: string,
    readonly detail: string,
    /** Some of the batch's bytes were written before the failure (or fsync failed). */
    readonly partial: boolean,
  ) {
    super(`cannot write ${path}: ${errno} (${detail})`);
  }
}

/** Appends JSON lines and fsyncs each batch before the caller prints anything. */
class JsonlAppender {
  readonly #fd: number;
  constructor(readonly path: string) {
    try {
      this.#fd = openSync(path, 'a', 0o600);
    } catch (error) {
      throw new CliError(`cannot open ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
    // The mode above applies to a new file only; records are personal data (numbers, replies).
    restrictMode(this.#fd);
  }
  /** Writes and fsyncs the batch; throws `OutFileError` when the data may not be on disk. */
  append(records: readonly PullRecord[]): void {
    if (records.length === 0) return;
    const bytes = Buffer.from(
      records.map((record) => JSON.stringify(record) + '\n').join(''),
      'utf8',
    );
    let offset = 0;
    try {
      while (offset < bytes.length) offset += writeSync(this.#fd, bytes, offset);
      fsyncSync(this.#fd);
    } catch (error) {
      const { code, syscall, message = String(error) } = error as NodeJS.ErrnoException;
      // Node's message is `ENOSPC: no space left on device, write`: keep the part after the code.
      const detail =
        code && message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
      throw new OutFileError(
        this.path,
        code ?? 'EIO',
        detail || (syscall ?? 'write failed'),
        offset > 0,
      );
    }
  }
  /** Closes the file. Never throws: every batch was fsync'd (or its failure reported) already. */
  close(): void {
    try {
      closeSync(this.#fd);
    } catch {
      // Nothing left to flush that a failure here could lose.
    }
  }
}

const reportColumns = (p: Palette): Column<ReportRecord>[] => [
  { header: 'received', value: (r) => r.receiveTime },
  { header: 'mobile', value: (r) => r.mobile },
  {
    header: 'status',
    value: (r) => r.status,
    paint: (text, r) => (r.status === 'delivered' ? p.green(text) : p.red(text)),
  },
  { header: 'code', value: (r) => r.errorCode },
  { header: 'taskId', value: (r) => r.taskId },
  { header: 'ext', value: (r) => r.extNo },
];

const replyColumns: Column<ReplyRecord>[] = [
  { header: 'received', value: (r) => r.receiveTime },
  { header: 'mobile', value: (r) => r.mobile },
  { header: 'taskId', value: (r) => r.taskId },
  { header: 'ext', value: (r) => r.extNo },
  { header: 'content', value: (r) => r.content },
];

function fit(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

/** One line per record for --watch (tables cannot align across batches that arrive later). */
function watchLine(record: PullRecord, p: Palette): string {
  if (record.type === 'report') {
    const status =
      record.status === 'delivered' ? p.green(fit('delivered', 9)) : p.red(fit('failed', 9));
    return `${fit(record.receiveTime, 19)}  ${fit(record.mobile, 11)}  ${status}  ${fit(record.errorCode, 8)}  task ${record.taskId}${record.extNo ? `  ext ${record.extNo}` : ''}`;
  }
  return `${fit(record.receiveTime, 19)}  ${fit(record.mobile, 11)}  ${record.content.replace(/\r?\n/g, '⏎')}${record.taskId ? `  (task ${record.taskId})` : ''}`;
}

function transient(error: unknown): boolean {
  return (
    isSmsError(error) &&
    ['NETWORK', 'TIMEOUT', 'HTTP', 'PROTOCOL', 'UNKNOWN_OUTCOME'].includes(error.code)
  );
}

/** `1 report`, `2 reports`, `1 reply`, … */
function countOf(n: number, kind: Kind): string {
  if (kind === 'reports') return `${n} ${n === 1 ? 'report' : 'reports'}`;
  return `${n} ${n === 1 ? 'reply' : 'replies'}`;
}

export async function pullCommand(ctx: Context, kind: Kind): Promise<number> {
  const { output, flags } = ctx;
  const watch = flags['watch'] === true;
  const intervalMs = intFlag(flags, 'interval', 5000, { min: 100, max: 3_600_000 });
  const max = kind === 'reports' ? intFlag(flags, 'max', 0, { min: 1, max: 100_000 }) : 0;
  const outPath = stringFlag(flags, 'out');
  const client = await ctx.client();
  const out = outPath ? new JsonlAppender(resolve(ctx.io.cwd, outPath)) : undefined;
  const noun = kind === 'reports' ? 'report' : 'reply';
  const tag = (records: ReadonlyArray<StatusReport | Reply>): PullRecord[] =>
    kind === 'reports'
      ? records.map((r): PullRecord => ({ type: 'report', ...(r as StatusReport) }))
      : records.map((r): PullRecord => ({ type: 'reply', ...(r as Reply) }));

  /**
   * One pull. Pull-once: an answer that failed anyway (cut off, over a limit, an error
   * element beside its records) may still have handed out complete records; they come back
   * here with the failure, to be saved and printed like any others before it is reported.
   */
  const pull = async (): Promise<{ records: PullRecord[]; failure?: unknown }> => {
    try {
      return {
        records: tag(
          kind === 'reports'
            ? await client.fetchReports(max > 0 ? { max } : {})
            : await client.fetchReplies(),
        ),
      };
    } catch (error) {
      if (isSmsError(error) && error.records.length > 0) {
        return { records: tag(error.records), failure: error };
      }
      return { records: [], failure: error };
    }
  };

  /** Saves a batch to --out; a failure is returned, not thrown: the batch must still be printed. */
  const save = (records: readonly PullRecord[]): OutFileError | undefined => {
    try {
      out?.append(records);
      return undefined;
    } catch (error) {
      if (error instanceof OutFileError) return error;
      throw error;
    }
  };

  /** Why `count` consumed records are on stdout and nowhere else. */
  const unsavedMessage = (failure: OutFileError, count: number): string =>
    `${failure.message}. The ${countOf(count, kind)} ${output.json ? 'in this output' : 'printed above'} ` +
    `${count === 1 ? 'was' : 'were'} consumed from the platform and ${count === 1 ? 'was' : 'were'} ` +
    `NOT saved to ${failure.path}${failure.partial ? ' (the file may hold part of them)' : ''}; the platform will not hand ${count === 1 ? 'it' : 'them'} out ` +
    'again: keep this output.';

  const salvagedNote = (count: number, saved: boolean): string =>
    `the answer failed, but the ${countOf(count, kind)} complete in it ${count === 1 ? 'was' : 'were'} ` +
    `kept and printed${saved && out ? ` (and appended to ${out.path})` : ''}; any record in the ` +
    'part of the answer that could not be read is lost (the platform hands each out once).';

  const unsavedError = (failure: OutFileError, count: number): CliError =>
    new CliError(unsavedMessage(failure, count), { exitCode: ExitCode.INTERNAL, code: 'OUT_FILE' });

  try {
    if (!watch) {
      const { records, failure } = await pull();
      if (failure !== undefined && records.length === 0) throw failure;
      const saveFailure = save(records);
      const unsaved = saveFailure ? unsavedError(saveFailure, records.length) : undefined;
      const exitCode = worstExitCode([
        ...(unsaved ? [unsaved.exitCode] : []),
        ...(failure !== undefined ? [exitCodeFor(failure)] : []),
      ]);

      if (output.json) {
        if (exitCode === ExitCode.OK) {
          output.printJson({ ok: true, count: records.length, [kind]: records });
        } else {
          // Still one document: the records, then what went wrong. The file's failure is the
          // `error` when there is one (those records now exist only in this output).
          const fetchError = failure === undefined ? undefined : describeForJson(failure);
          output.printJson({
            ok: false,
            exitCode,
            count: records.length,
            [kind]: records,
            error: unsaved && saveFailure ? outFileJson(unsaved, saveFailure) : fetchError,
            ...(unsaved && fetchError ? { fetchError } : {}),
          });
        }
      } else if (records.length === 0) output.print(`No new ${kind}.`);
      else if (kind === 'reports')
        output.print(renderTable(records as ReportRecord[], reportColumns(output.out), output.out));
      else output.print(renderTable(records as ReplyRecord[], replyColumns, output.out));
      if (records.length > 0) {
        output.note(
          `note: the platform hands out each ${noun} once; ${records.length === 1 ? 'this one is' : `these ${records.length} are`} now consumed` +
            (out
              ? saveFailure
                ? ` (and were NOT saved to ${out.path}: see below).`
                : ` (a copy was appended to ${out.path}).`
              : ' (use --out file.jsonl to keep a copy).'),
        );
      }
      if (failure !== undefined) {
        if (!output.json) output.error(failure, exitCodeFor(failure));
        output.note(`note: ${salvagedNote(records.length, !saveFailure)}`);
      }
      if (unsaved) {
        // On stderr in both modes (with --json the document above carries it too).
        if (output.json) output.note(`error [OUT_FILE] ${unsaved.message}`);
        else output.error(unsaved, unsaved.exitCode);
      }
      return exitCode;
    }

    output.note(
      `Watching ${kind} every ${intervalMs} ms. Each ${noun} printed here is CONSUMED from the platform ` +
        `(pull-once): it will not be returned again, to this or any other client` +
        (out
          ? `; every one is appended to ${out.path} before it is printed.`
          : '; add --out file.jsonl to keep a copy.') +
        ' Ctrl-C to stop.',
    );
    let stopping = false;
    let wake: (() => void) | undefined;
    const unsubscribe = ctx.onInterrupt(() => {
      if (stopping) {
        output.note('interrupted again: exiting without waiting for the request in flight.');
        out?.close();
        ctx.exit(ExitCode.INTERRUPTED);
        return;
      }
      stopping = true;
      output.note(
        'stopping after the request in flight (its records will still be saved and printed)…',
      );
      wake?.();
    });
    let total = 0;
    let failures = 0;
    try {
      while (!stopping) {
        const { records, failure } = await pull();
        if (failure !== undefined && records.length === 0 && !transient(failure)) throw failure;
        // Saved before printed: if the disk write fails, nothing claims it was kept.
        const saveFailure = save(records);
        total += records.length;
        for (const record of records) {
          if (output.json) output.printJson(record);
          else output.print(watchLine(record, output.out));
        }
        if (saveFailure) {
          // Stop: every further pull would consume records that cannot be saved.
          if (failure !== undefined) {
            output.warn(
              `fetching ${kind} failed (${describeError(failure).code}) after handing out the ${countOf(records.length, kind)} above`,
            );
          }
          const unsaved = unsavedError(saveFailure, records.length);
          const exitCode = worstExitCode([
            unsaved.exitCode,
            ...(failure !== undefined ? [exitCodeFor(failure)] : []),
          ]);
          if (output.json) {
            output.printJson({ ok: false, exitCode, error: outFileJson(unsaved, saveFailure) });
            output.note(`error [OUT_FILE] ${unsaved.message}`);
          } else output.error(unsaved, exitCode);
          output.note(
            `stopped watching (no more ${kind} are fetched while ${saveFailure.path} cannot be written): ` +
              `${total} received, the last ${records.length} of them not saved.`,
          );
          return exitCode;
        }
        if (failure !== undefined) {
          if (records.length > 0) output.note(`note: ${salvagedNote(records.length, true)}`);
          if (!transient(failure)) throw failure;
          failures++;
          output.warn(`fetching ${kind} failed (${describeError(failure).code}); retrying`);
        } else failures = 0;
        if (stopping) break;
        const delay =
          failures === 0 ? intervalMs : Math.min(intervalMs * 2 ** Math.min(failures, 5), 60_000);
        await new Promise<void>((done) => {
          const timer = setTimeout(done, delay);
          wake = () => {
            clearTimeout(timer);
            done();
          };
        });
        wake = undefined;
      }
    } finally {
      unsubscribe();
    }
    output.note(
      `stopped; ${total} ${total === 1 ? noun : kind} received${out ? ` and saved to ${out.path}` : ''}.`,
    );
    // Only Ctrl-C ends a watch without an error: 130, as for a batch (and as `pnpm -s sms`
    // reports whatever its child says, since pnpm got the Ctrl-C too).
    return ExitCode.INTERRUPTED;
  } finally {
    out?.close();
  }
}

/** The `error` of a JSON document for an `--out` write that failed. */
function outFileJson(error: CliError, failure: OutFileError): Record<string, unknown> {
  return { code: error.code, message: error.message, file: failure.path, errno: failure.errno };
}

/** The `error` object of a JSON document (as `Output.error` prints it). */
function describeForJson(error: unknown): Record<string, unknown> {
  const { code, message, hint, details } = describeError(error);
  return { code, message, ...details, ...(hint ? { hint } : {}) };
}
