import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { isSmsError, type Reply, type StatusReport } from '@sms/core';
import { intFlag, stringFlag } from '../args.js';
import type { Context } from '../context.js';
import { CliError, ExitCode } from '../exit.js';
import { type Column, displayWidth, type Palette, renderTable } from '../output.js';

type Kind = 'reports' | 'replies';

/** One line of `--out` and of `--json --watch`: the record plus its kind. */
export type ReportRecord = { type: 'report' } & StatusReport;
export type ReplyRecord = { type: 'reply' } & Reply;
type PullRecord = ReportRecord | ReplyRecord;

/** Appends JSON lines and fsyncs each batch before the caller prints anything. */
class JsonlAppender {
  readonly #fd: number;
  constructor(readonly path: string) {
    try {
      this.#fd = openSync(path, 'a', 0o600);
    } catch (error) {
      throw new CliError(`cannot open ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  }
  append(records: readonly PullRecord[]): void {
    if (records.length === 0) return;
    const bytes = Buffer.from(
      records.map((record) => JSON.stringify(record) + '\n').join(''),
      'utf8',
    );
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.#fd, bytes, offset);
    fsyncSync(this.#fd);
  }
  close(): void {
    closeSync(this.#fd);
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

export async function pullCommand(ctx: Context, kind: Kind): Promise<number> {
  const { output, flags } = ctx;
  const watch = flags['watch'] === true;
  const intervalMs = intFlag(flags, 'interval', 5000, { min: 100, max: 3_600_000 });
  const max = kind === 'reports' ? intFlag(flags, 'max', 0, { min: 1, max: 100_000 }) : 0;
  const outPath = stringFlag(flags, 'out');
  const client = await ctx.client();
  const out = outPath ? new JsonlAppender(resolve(ctx.io.cwd, outPath)) : undefined;
  const noun = kind === 'reports' ? 'report' : 'reply';
  const fetch = async (): Promise<PullRecord[]> =>
    kind === 'reports'
      ? (await client.fetchReports(max > 0 ? { max } : {})).map(
          (r): PullRecord => ({ type: 'report', ...r }),
        )
      : (await client.fetchReplies()).map((r): PullRecord => ({ type: 'reply', ...r }));

  try {
    if (!watch) {
      const records = await fetch();
      out?.append(records);
      if (output.json) output.printJson({ ok: true, count: records.length, [kind]: records });
      else if (records.length === 0) output.print(`No new ${kind}.`);
      else if (kind === 'reports')
        output.print(renderTable(records as ReportRecord[], reportColumns(output.out), output.out));
      else output.print(renderTable(records as ReplyRecord[], replyColumns, output.out));
      if (records.length > 0) {
        output.note(
          `note: the platform hands out each ${noun} once; these ${records.length} are now consumed` +
            (out
              ? ` (a copy was appended to ${out.path}).`
              : ' (use --out file.jsonl to keep a copy).'),
        );
      }
      return ExitCode.OK;
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
        let records: PullRecord[] = [];
        try {
          records = await fetch();
          failures = 0;
        } catch (error) {
          if (!transient(error)) throw error;
          failures++;
          output.warn(`fetching ${kind} failed (${(error as { code: string }).code}); retrying`);
        }
        // Saved before printed: if the disk write throws, nothing claims it was kept.
        out?.append(records);
        total += records.length;
        for (const record of records) {
          if (output.json) output.printJson(record);
          else output.print(watchLine(record, output.out));
        }
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
    return ExitCode.OK;
  } finally {
    out?.close();
  }
}
