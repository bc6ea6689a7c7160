import { dirname, relative, resolve } from 'node:path';
import {
  findGbkUnencodable,
  formatShanghai,
  hasSignature,
  parseShanghai,
  partitionMobiles,
  type SendResult,
  toSendTime,
} from '@sms/core';
import { intFlag, stringFlag } from '../args.js';
import {
  type BatchPlan,
  type Chunk,
  type ChunkOutcome,
  contentFor,
  mayHaveBeenSent,
  planBatch,
  runChunks,
} from '../batch.js';
import type { Context } from '../context.js';
import { type Recipient, readFileChunks, readRecipientsFrom, templateFields } from '../csv.js';
import {
  CliError,
  describeError,
  ExitCode,
  type ExitCodeValue,
  exitCodeFor,
  usageError,
  worstExitCode,
} from '../exit.js';
import { renderPairs, renderTable } from '../output.js';
import { silentProgress, terminalProgress } from '../progress.js';
import { type ResultRow, ResultsFile } from '../results.js';
import { type RetrySelection, readRetry } from '../retry.js';

const DEFAULT_CHUNK_SIZE = 1000;
const DEFAULT_CONCURRENCY = 2;

interface SendOptions {
  sendTime: string | undefined;
  extNo: string | undefined;
}

export async function sendCommand(ctx: Context): Promise<number> {
  const { flags } = ctx;
  const to = stringFlag(flags, 'to');
  const csv = stringFlag(flags, 'csv');
  const template = stringFlag(flags, 'content');
  const contentColumn = stringFlag(flags, 'content-column');
  const retry = stringFlag(flags, 'retry');
  if (to !== undefined && csv !== undefined)
    throw usageError('give either --to or --csv, not both');
  if (to !== undefined && retry !== undefined)
    throw usageError('give either --to or --retry, not both');
  if (to === undefined && csv === undefined && retry === undefined)
    throw usageError('give the recipients: --to 13800138000,13900139000 or --csv numbers.csv');
  if (contentColumn !== undefined && csv === undefined && retry === undefined)
    throw usageError('--content-column needs --csv');
  const resultsFlag = stringFlag(flags, 'results');
  if (
    retry !== undefined &&
    resultsFlag !== undefined &&
    resolve(ctx.io.cwd, retry) === resolve(ctx.io.cwd, resultsFlag)
  )
    throw usageError(
      `--results ${resultsFlag} is the file --retry reads: name a new one (results-2.csv), so the first run's record stays`,
    );
  if (contentColumn !== undefined && template !== undefined)
    throw usageError('give either --content or --content-column, not both');
  if (template === undefined && contentColumn === undefined)
    throw usageError('give the text: --content "【Brand】…"');
  if (template !== undefined && template.trim() === '') throw usageError('--content is empty');
  const at = stringFlag(flags, 'at');
  // Before toSendTime: our message names the flag, whichever core is installed.
  if (at !== undefined && at !== '') checkNotPast(at, new Date());
  const sendTime = at === undefined || at === '' ? undefined : toSendTime(at);
  const extNo = stringFlag(flags, 'ext');
  if (extNo !== undefined && !/^\d{1,10}$/.test(extNo))
    throw usageError(`--ext must be 1 to 10 digits, got "${extNo}"`);
  const chunkSize = intFlag(flags, 'chunk-size', DEFAULT_CHUNK_SIZE, { max: 100_000 });
  const concurrency = intFlag(flags, 'concurrency', DEFAULT_CONCURRENCY, { max: 64 });

  let recipients: Recipient[];
  /** The rows come from a CSV (templates apply, messages name lines), not from --to. */
  let fromCsv = csv !== undefined;
  let retried: RetrySelection | undefined;
  if (retry !== undefined) {
    retried = await readRetry(retry, {
      cwd: ctx.io.cwd,
      csv,
      mobileColumn: stringFlag(flags, 'mobile-column'),
    });
    fromCsv = retried.source !== undefined;
    if (retried.unknown > 0)
      ctx.output.note(
        `${plural(retried.unknown, 'number')} in ${retry} ${retried.unknown === 1 ? 'is' : 'are'} unknown (may have been sent): left out; check \`sms reports\` before sending to them.`,
      );
    if (retried.recipients.length === 0) {
      if (ctx.output.json)
        ctx.output.printJson({ ok: true, retry: retry, numbers: 0, unknown: retried.unknown });
      else ctx.output.print(`nothing to send again: ${retry} has no failed or not_sent number`);
      return ExitCode.OK;
    }
  }
  if (retried !== undefined && !fromCsv) {
    // A `--to` batch: literal text, as it was.
    if (contentColumn !== undefined)
      throw usageError(`--content-column needs CSV rows; ${retry} is from a --to batch`);
    // An older results file names no CSV: `{name}` would go out as it is written.
    if (!retried.hasPlaces && templateFields(template!).length > 0)
      throw usageError(
        `${retry} has no line and source columns (written by an older sms), so {${templateFields(template!).join('}, {')}} cannot be filled; send those rows with --csv`,
      );
    recipients = retried.recipients;
  } else if (fromCsv) {
    let table: { columns: string[]; recipients: Recipient[] };
    if (retried !== undefined) table = retried;
    else {
      // Parsed as it is read; the rows are kept, since every number is checked before a send.
      const source = resolve(ctx.io.cwd, csv!);
      table = await readRecipientsFrom(readFileChunks(source), {
        mobileColumn: stringFlag(flags, 'mobile-column'),
      });
      for (const recipient of table.recipients) recipient.source = source;
    }
    if (contentColumn !== undefined && !table.columns.includes(contentColumn)) {
      throw usageError(`CSV: no column "${contentColumn}" (columns: ${table.columns.join(', ')})`);
    }
    if (template !== undefined) {
      const missing = templateFields(template).filter((field) => !table.columns.includes(field));
      if (missing.length > 0) {
        throw usageError(
          `--content uses {${missing.join('}, {')}} but the CSV has no such column (columns: ${table.columns.join(', ')})`,
        );
      }
    }
    recipients = table.recipients;
  } else {
    // Literal text with --to: braces are not a template here.
    const { valid, invalid } = partitionMobiles(to!);
    recipients = [
      ...valid.map((mobile, i) => ({ line: i + 1, mobile, raw: mobile, valid: true, fields: {} })),
      ...invalid.map((raw, i) => ({
        line: valid.length + i + 1,
        mobile: raw,
        raw,
        valid: false,
        fields: {},
      })),
    ];
  }
  const render = fromCsv ? contentFor(template, contentColumn) : () => template!;
  const plan = planBatch(recipients, render, chunkSize);
  const skipInvalid = flags['skip-invalid'] === true && fromCsv;
  const invalidList = listInvalid(plan.invalid, { lines: fromCsv });
  if (plan.invalid.length > 0 && !skipInvalid && !flags['dry-run']) {
    throw usageError(
      `invalid mobile number(s): ${invalidList}${fromCsv ? ' (--skip-invalid sends to the others)' : ''}`,
    );
  }
  if (plan.numbers === 0 && !flags['dry-run'])
    throw usageError('no valid mobile number to send to');
  for (const group of plan.groups) {
    if (group.content.trim() === '') throw usageError(`the text for ${group.mobiles[0]} is empty`);
  }
  const unsigned = plan.groups.filter((group) => !hasSignature(group.content));
  if (unsigned.length > 0) {
    ctx.output.warn(
      `${unsigned.length === plan.groups.length ? 'the text has' : `${unsigned.length} of ${plan.groups.length} texts have`} no 【signature】; carriers require one and many platforms answer 需要签名`,
    );
  }
  const charset = stringFlag(flags, 'charset') ?? ctx.io.env['SMS_CHARSET'];
  if (charset !== undefined && /^gb/i.test(charset)) {
    for (const group of plan.groups) {
      const bad = findGbkUnencodable(group.content);
      if (bad.length > 0)
        throw usageError(
          `GBK cannot encode ${bad.map((c) => `"${c}"`).join(' ')}; use --charset utf-8`,
        );
    }
  }

  if (flags['dry-run']) {
    const stops = plan.invalid.length > 0 && !skipInvalid;
    dryRun(ctx, plan, chunkSize, { sendTime, extNo }, { invalidList, stops });
    if (stops) {
      ctx.output.note(
        `${plan.invalid.length} invalid number(s): a real send would stop here${fromCsv ? ' (--skip-invalid sends to the others)' : ''}.`,
      );
      return ExitCode.USAGE;
    }
    return ExitCode.OK;
  }
  const options = { sendTime, extNo };
  if (
    csv === undefined &&
    retry === undefined &&
    plan.chunks.length === 1 &&
    resultsFlag === undefined
  ) {
    return sendOne(ctx, plan.chunks[0]!, plan, options);
  }
  return sendBatch(ctx, plan, concurrency, options);
}

/** How far in the past `--at` may be (clock skew, a command typed a minute ago); core uses the same. */
export const SEND_TIME_TOLERANCE_MS = 5 * 60_000;

/**
 * A platform sends a past `sendTime` at once: `--at "2020-01-01 09:00:00"` would go out now
 * and print "scheduled". Refused before any request (core refuses it too; this says why).
 */
export function checkNotPast(value: string, now: Date): void {
  const at = parseShanghai(value);
  // Not a time at all: toSendTime says so.
  if (at === undefined || at.getTime() >= now.getTime() - SEND_TIME_TOLERANCE_MS) return;
  throw usageError(
    `--at ${value.trim()} is in the past (now: ${formatShanghai(now)} Asia/Shanghai): the platform would send at once, not at that time. Give a future time, or leave --at out to send now`,
  );
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** How many invalid numbers a message lists before "and N more". */
const INVALID_SHOWN = 3;
/** A value longer than this (a pasted formula, a whole address) is cut in messages. */
const INVALID_VALUE_CHARS = 24;

/** An invalid value as a person reads it on one line: cut when long, quoted when blank or spaced. */
function showValue(raw: string): string {
  const chars = [...raw.replace(/\r\n|[\r\n]/g, '⏎').replace(/[\t\u0000-\u001f\u007f]/g, ' ')];
  const cut =
    chars.length > INVALID_VALUE_CHARS
      ? `${chars.slice(0, INVALID_VALUE_CHARS - 1).join('')}…`
      : chars.join('');
  return cut === '' || /[\s,]/.test(cut) ? JSON.stringify(cut) : cut;
}

/**
 * The first few invalid numbers, each with the file line it is on when it came from a CSV
 * (`12345 (line 4), abc (line 9) and 3 more`): a person with a long file needs the place,
 * not only the value.
 */
export function listInvalid(invalid: readonly Recipient[], options: { lines: boolean }): string {
  const shown = invalid
    .slice(0, INVALID_SHOWN)
    .map((r) => (options.lines ? `${showValue(r.raw)} (line ${r.line})` : showValue(r.raw)));
  const more = invalid.length > INVALID_SHOWN ? ` and ${invalid.length - INVALID_SHOWN} more` : '';
  return shown.join(', ') + more;
}

function dryRun(
  ctx: Context,
  plan: BatchPlan,
  chunkSize: number,
  options: SendOptions,
  invalid: { invalidList: string; stops: boolean },
): void {
  const { output } = ctx;
  if (output.json) {
    output.printJson({
      // A real send would stop on the invalid numbers: the run exits 2, and `ok` says the same.
      ok: !invalid.stops,
      ...(invalid.stops ? { exitCode: ExitCode.USAGE } : {}),
      dryRun: true,
      numbers: plan.numbers,
      invalid: plan.invalid.map((r) => ({ line: r.line, value: r.raw })),
      duplicates: plan.duplicates,
      requests: plan.chunks.length,
      points: plan.points,
      sendTime: options.sendTime ?? null,
      groups: plan.groups.map((g) => ({
        index: g.index,
        numbers: g.mobiles.length,
        length: g.length,
        segments: g.segments,
        points: g.mobiles.length * g.segments,
        content: g.content,
      })),
    });
    return;
  }
  const p = output.out;
  const pairs: [string, string][] = [
    [
      'numbers',
      `${plan.numbers}${plan.invalid.length ? `, ${plan.invalid.length} invalid` : ''}${
        plan.duplicates ? `, ${plan.duplicates} duplicates removed` : ''
      }`,
    ],
  ];
  if (plan.invalid.length) pairs.push(['invalid', invalid.invalidList]);
  if (plan.groups.length === 1) {
    const group = plan.groups[0]!;
    pairs.push([
      'length',
      `${group.length} characters = ${plural(group.segments, 'segment')} per message`,
    ]);
  } else {
    pairs.push(['texts', `${plan.groups.length} distinct (one request group each)`]);
  }
  pairs.push(['requests', `${plan.chunks.length} (up to ${chunkSize} numbers each)`]);
  pairs.push(['points', `${plan.points} (numbers × segments)`]);
  pairs.push(['send time', options.sendTime ?? 'now']);
  let text = `${p.bold('Dry run')}: nothing was sent.\n` + renderPairs(pairs, p);
  if (plan.groups.length > 1) {
    const shown = plan.groups.slice(0, 20);
    text +=
      '\n' +
      renderTable(
        shown,
        [
          { header: '#', value: (g) => String(g.index), align: 'right' },
          { header: 'numbers', value: (g) => String(g.mobiles.length), align: 'right' },
          { header: 'segments', value: (g) => String(g.segments), align: 'right' },
          { header: 'points', value: (g) => String(g.mobiles.length * g.segments), align: 'right' },
          {
            header: 'text',
            value: (g) =>
              [...g.content].length > 40 ? `${[...g.content].slice(0, 39).join('')}…` : g.content,
          },
        ],
        p,
      );
    if (plan.groups.length > shown.length)
      text += `… and ${plan.groups.length - shown.length} more texts\n`;
  }
  output.print(text);
}

/** A send that failed in a way that may still have gone out exits 5, whatever the code. */
function sendExitCode(error: unknown): ExitCodeValue {
  if (error instanceof CliError) return error.exitCode;
  return mayHaveBeenSent(error) ? ExitCode.UNKNOWN_OUTCOME : exitCodeFor(error);
}

async function sendOne(
  ctx: Context,
  chunk: Chunk,
  plan: BatchPlan,
  options: SendOptions,
): Promise<number> {
  const { output } = ctx;
  const client = await ctx.client();
  let result: SendResult;
  try {
    result = await client.send({
      mobiles: chunk.mobiles,
      content: chunk.content,
      sendTime: options.sendTime,
      extNo: options.extNo,
    });
  } catch (error) {
    const code = sendExitCode(error);
    output.error(error, code);
    if (
      code === ExitCode.UNKNOWN_OUTCOME &&
      describeError(error).code !== 'UNKNOWN_OUTCOME' &&
      !output.json
    ) {
      output.note(
        '  The request may have reached the platform: do NOT resend blindly; check `sms reports` first.',
      );
    }
    return code;
  }
  const group = plan.groups[0]!;
  if (output.json) {
    output.printJson({
      ok: true,
      taskId: result.taskId,
      successCounts: result.successCounts,
      remainPoint: result.remainPoint,
      message: result.message,
      numbers: chunk.mobiles.length,
      segments: group.segments,
      points: plan.points,
      sendTime: options.sendTime ?? null,
    });
    return ExitCode.OK;
  }
  const p = output.out;
  // Within the tolerance a past time is sent at once: say "sent", not "scheduled".
  const scheduled =
    options.sendTime !== undefined &&
    (parseShanghai(options.sendTime)?.getTime() ?? 0) > Date.now();
  output.print(
    renderPairs(
      [
        [
          scheduled ? 'scheduled' : 'sent',
          p.green(`${plural(chunk.mobiles.length, 'number')}`) +
            (scheduled ? ` for ${options.sendTime} (Asia/Shanghai)` : ''),
        ],
        ['taskId', result.taskId],
        ['accepted', String(result.successCounts)],
        ['segments', `${group.segments} per message, ${plural(plan.points, 'point')}`],
        ['balance', `${result.remainPoint} points left`],
      ],
      p,
    ),
  );
  return ExitCode.OK;
}

interface ChunkReport {
  chunk: Chunk;
  status: 'sent' | 'failed' | 'unknown' | 'not_sent';
  taskId?: string;
  error?: ReturnType<typeof describeError>;
  exitCode?: ExitCodeValue;
}

async function sendBatch(
  ctx: Context,
  plan: BatchPlan,
  concurrency: number,
  options: SendOptions,
): Promise<number> {
  const { output, io } = ctx;
  const client = await ctx.client();
  const resultsPath = stringFlag(ctx.flags, 'results');
  let results: ResultsFile | undefined;
  /** Where a number came from, for `--retry`: the source CSV relative to the results file, and its line. */
  const place = (row: Recipient | undefined): Pick<ResultRow, 'line' | 'source'> =>
    results && row?.source !== undefined
      ? { line: row.line, source: relative(dirname(results.path), row.source) || row.source }
      : {};
  if (resultsPath !== undefined) {
    try {
      results = new ResultsFile(resolve(io.cwd, resultsPath), (text) => output.redact(text));
    } catch (error) {
      throw usageError(
        `cannot write ${resultsPath}: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
    }
    results.write(
      plan.invalid.map(
        (r): ResultRow => ({
          mobile: r.raw,
          status: 'invalid',
          errorCode: 'VALIDATION',
          detail: `line ${r.line}`,
          ...place(r),
        }),
      ),
    );
  }

  const stop = new AbortController();
  const abandon = new AbortController();
  const unsubscribe = ctx.onInterrupt(() => {
    if (!stop.signal.aborted) {
      progress.clear();
      output.note(
        'Interrupted: no new requests; waiting for the ones in flight (Ctrl-C again to quit now, they will be marked unknown)…',
      );
      stop.abort();
    } else abandon.abort();
  });
  const progress = io.stderr.isTTY ? terminalProgress(io.stderr) : silentProgress;
  const reports: ChunkReport[] = [];
  const counts = {
    chunksDone: 0,
    chunksTotal: plan.chunks.length,
    numbersDone: 0,
    numbersTotal: plan.numbers,
    failed: 0,
  };
  progress.update({ ...counts });

  const onSettled = (chunk: Chunk, outcome: ChunkOutcome) => {
    let report: ChunkReport;
    if (outcome.status === 'sent') {
      report = { chunk, status: 'sent', taskId: outcome.result.taskId };
    } else {
      report = {
        chunk,
        status: outcome.status,
        error: describeError(outcome.error),
        exitCode: sendExitCode(outcome.error),
      };
    }
    results?.write(
      chunk.mobiles.map(
        (mobile, i): ResultRow => ({
          mobile,
          ...place(chunk.rows[i]),
          status: report.status,
          taskId: report.taskId,
          errorCode: report.error?.code,
          chunk: chunk.index,
          detail: report.error
            ? String(report.error.details['platformMessage'] ?? report.error.message)
            : undefined,
        }),
      ),
    );
    reports.push(report);
    counts.chunksDone++;
    counts.numbersDone += chunk.mobiles.length;
    if (report.status !== 'sent') counts.failed += chunk.mobiles.length;
    progress.update({ ...counts });
  };

  let summary: Awaited<ReturnType<typeof runChunks>>;
  try {
    summary = await runChunks(plan.chunks, {
      concurrency,
      send: (chunk) =>
        client.send({
          mobiles: chunk.mobiles,
          content: chunk.content,
          sendTime: options.sendTime,
          extNo: options.extNo,
        }),
      onSettled,
      stop: stop.signal,
      abandon: abandon.signal,
    });
  } finally {
    unsubscribe();
    progress.clear();
  }
  for (const chunk of summary.abandoned) {
    reports.push({
      chunk,
      status: 'unknown',
      error: {
        code: 'INTERRUPTED',
        message: 'interrupted while the request was in flight',
        details: {},
      },
      exitCode: ExitCode.UNKNOWN_OUTCOME,
    });
  }
  for (const chunk of summary.notStarted) reports.push({ chunk, status: 'not_sent' });
  const tail = [
    ...summary.abandoned.map((chunk) => ({ chunk, status: 'unknown' as const })),
    ...summary.notStarted.map((chunk) => ({ chunk, status: 'not_sent' as const })),
  ];
  try {
    results?.write(
      tail.flatMap(({ chunk, status }) =>
        chunk.mobiles.map(
          (mobile, i): ResultRow => ({
            mobile,
            ...place(chunk.rows[i]),
            status,
            chunk: chunk.index,
            errorCode: status === 'unknown' ? 'INTERRUPTED' : undefined,
            detail:
              status === 'unknown' ? 'in flight when interrupted: may have been sent' : undefined,
          }),
        ),
      ),
    );
  } finally {
    results?.close();
  }
  if (summary.fatal)
    throw new CliError(
      `could not write the results file: ${(summary.fatal as Error).message ?? summary.fatal}`,
      { exitCode: ExitCode.INTERNAL, code: 'RESULTS_FILE' },
    );

  reports.sort((a, b) => a.chunk.index - b.chunk.index);
  const interrupted = stop.signal.aborted;
  const numbersBy = (status: ChunkReport['status']) =>
    reports.filter((r) => r.status === status).reduce((sum, r) => sum + r.chunk.mobiles.length, 0);
  const tally = {
    sent: numbersBy('sent'),
    failed: numbersBy('failed'),
    unknown: numbersBy('unknown'),
    notSent: numbersBy('not_sent'),
  };
  const exitCode = interrupted
    ? ExitCode.INTERRUPTED
    : worstExitCode(reports.flatMap((r) => (r.exitCode === undefined ? [] : [r.exitCode])));

  if (output.json) {
    output.printJson({
      ok: exitCode === ExitCode.OK,
      exitCode,
      interrupted,
      numbers: plan.numbers,
      ...tally,
      invalid: plan.invalid.length,
      points: plan.points,
      results: results?.path ?? null,
      chunks: reports.map((r) => ({
        index: r.chunk.index,
        group: r.chunk.group,
        numbers: r.chunk.mobiles.length,
        status: r.status,
        ...(r.taskId !== undefined ? { taskId: r.taskId } : {}),
        ...(r.error
          ? { error: { code: r.error.code, message: r.error.message, ...r.error.details } }
          : {}),
      })),
    });
    return exitCode;
  }
  const p = output.out;
  const pairs: [string, string][] = [
    [
      'sent',
      p.green(`${tally.sent} of ${plan.numbers} numbers`) +
        ` in ${plural(reports.filter((r) => r.status === 'sent').length, 'request')}`,
    ],
  ];
  if (tally.failed) pairs.push(['failed', p.red(`${tally.failed} numbers`)]);
  if (tally.unknown)
    pairs.push([
      'unknown',
      p.yellow(`${tally.unknown} numbers: may have been sent, do not resend blindly`),
    ]);
  if (tally.notSent) pairs.push(['not sent', `${tally.notSent} numbers`]);
  if (plan.invalid.length) pairs.push(['invalid', `${plan.invalid.length} skipped`]);
  if (results) pairs.push(['results', results.path]);
  let text = renderPairs(pairs, p);
  if (reports.some((r) => r.status !== 'sent') || reports.length <= 10) {
    const shown = reports.slice(0, 50);
    text +=
      '\n' +
      renderTable(
        shown,
        [
          { header: 'chunk', value: (r) => String(r.chunk.index), align: 'right' },
          { header: 'numbers', value: (r) => String(r.chunk.mobiles.length), align: 'right' },
          {
            header: 'status',
            value: (r) => r.status,
            paint: (t, r) =>
              r.status === 'sent'
                ? p.green(t)
                : r.status === 'not_sent'
                  ? p.dim(t)
                  : r.status === 'unknown'
                    ? p.yellow(t)
                    : p.red(t),
          },
          {
            header: 'taskId / error',
            value: (r) =>
              r.taskId ??
              (r.error
                ? `${r.error.code}: ${String(r.error.details['platformMessage'] ?? r.error.message)}`
                : ''),
          },
        ],
        p,
      );
    if (reports.length > shown.length)
      text += `… ${reports.length - shown.length} more chunks${results ? ` in ${results.path}` : ''}\n`;
  }
  output.print(text);
  if (interrupted)
    output.note(
      `Interrupted. ${results ? `${results.path} lists every number with its status.` : 'Pass --results file.csv next time to get the list per number.'}`,
    );
  if (tally.unknown)
    output.note(
      'Some requests may have reached the platform: check `sms reports` before resending those numbers.',
    );
  return exitCode;
}
