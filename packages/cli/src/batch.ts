import { contentLength, countSegments, isSmsError, type SendResult } from '@sms/core';
import type { Recipient } from './csv.js';
import { renderTemplate } from './csv.js';

/** All numbers that get one identical text. */
export interface ContentGroup {
  /** 1-based. */
  index: number;
  content: string;
  mobiles: string[];
  /** The row each number came from (its first, when a number repeats), parallel to `mobiles`. */
  rows: Recipient[];
  length: number;
  segments: number;
}

/** One request: up to `chunkSize` numbers of one group. */
export interface Chunk {
  /** 1-based, across groups, in sending order. */
  index: number;
  group: number;
  content: string;
  mobiles: string[];
  /** The rows of `mobiles`, in the same order (for the results file: file and line). */
  rows: Recipient[];
}

export interface BatchPlan {
  groups: ContentGroup[];
  chunks: Chunk[];
  invalid: Recipient[];
  /** Rows dropped because the same number already gets the same text. */
  duplicates: number;
  numbers: number;
  points: number;
}

/**
 * Renders each row's text, groups identical texts (one chunked send per text, so a
 * template that renders the same for many rows still goes out in few requests), removes
 * duplicate numbers within a group, and cuts each group into chunks.
 */
export function planBatch(
  recipients: readonly Recipient[],
  content: (recipient: Recipient) => string,
  chunkSize: number,
): BatchPlan {
  const byContent = new Map<string, { mobiles: string[]; rows: Recipient[]; seen: Set<string> }>();
  const invalid: Recipient[] = [];
  let duplicates = 0;
  for (const recipient of recipients) {
    if (!recipient.valid) {
      invalid.push(recipient);
      continue;
    }
    const text = content(recipient);
    let group = byContent.get(text);
    if (!group) {
      group = { mobiles: [], rows: [], seen: new Set() };
      byContent.set(text, group);
    }
    if (group.seen.has(recipient.mobile)) {
      duplicates++;
      continue;
    }
    group.seen.add(recipient.mobile);
    group.mobiles.push(recipient.mobile);
    group.rows.push(recipient);
  }
  const groups: ContentGroup[] = [];
  const chunks: Chunk[] = [];
  for (const [text, { mobiles, rows }] of byContent) {
    const index = groups.length + 1;
    groups.push({
      index,
      content: text,
      mobiles,
      rows,
      length: contentLength(text),
      segments: countSegments(text),
    });
    for (let start = 0; start < mobiles.length; start += chunkSize) {
      chunks.push({
        index: chunks.length + 1,
        group: index,
        content: text,
        mobiles: mobiles.slice(start, start + chunkSize),
        rows: rows.slice(start, start + chunkSize),
      });
    }
  }
  const numbers = groups.reduce((sum, group) => sum + group.mobiles.length, 0);
  const points = groups.reduce((sum, group) => sum + group.mobiles.length * group.segments, 0);
  return { groups, chunks, invalid, duplicates, numbers, points };
}

/** The text for a row: the template filled from the row, or the row's own content column (itself a template). */
export function contentFor(template: string | undefined, contentColumn: string | undefined) {
  return (recipient: Recipient): string => {
    const source =
      contentColumn === undefined ? template! : (recipient.fields[contentColumn] ?? '');
    return renderTemplate(source, recipient.fields);
  };
}

export type ChunkOutcome =
  | { status: 'sent'; result: SendResult }
  | { status: 'failed' | 'unknown'; error: unknown };

/**
 * Whether a failed send may nevertheless have gone out. Only a platform refusal, a
 * validation error or a connection that surely never carried the request (NETWORK) is
 * a clean failure; a timeout, a reset after writing, a 5xx or an unreadable answer is not.
 */
export function mayHaveBeenSent(error: unknown): boolean {
  if (!isSmsError(error)) return true;
  switch (error.code) {
    case 'UNKNOWN_OUTCOME':
    case 'TIMEOUT':
    case 'PROTOCOL':
      return true;
    case 'HTTP':
      return error.status === undefined || error.status >= 500;
    default:
      return false;
  }
}

export interface RunOptions {
  concurrency: number;
  send: (chunk: Chunk) => Promise<SendResult>;
  /** Called once per chunk that finished (not for abandoned ones). */
  onSettled: (chunk: Chunk, outcome: ChunkOutcome) => void;
  /** Stop starting chunks; wait for those in flight. */
  stop: AbortSignal;
  /** Stop waiting: return at once, in-flight chunks are reported as abandoned. */
  abandon: AbortSignal;
}

export interface RunSummary {
  /** Chunks that were in flight when `abandon` fired: their outcome is unknown. */
  abandoned: Chunk[];
  /** Chunks never started (after `stop`, or after the first failure). */
  notStarted: Chunk[];
  /** True if a chunk failed or was unknown (the run stopped there). */
  stoppedOnFailure: boolean;
  /** An error thrown by `onSettled` (e.g. the results file could not be written). */
  fatal: unknown;
}

/**
 * Sends chunks with at most `concurrency` in flight. Stops starting new ones after the
 * first failure (the rest is `not_sent`, so a bad password or an empty balance costs one
 * request, not a thousand), on `stop`, or at once on `abandon`.
 */
export function runChunks(chunks: readonly Chunk[], options: RunOptions): Promise<RunSummary> {
  const { concurrency, send, onSettled, stop, abandon } = options;
  const inFlight = new Map<number, Chunk>();
  let next = 0;
  let failed = false;
  let done = false;
  let fatal: unknown;
  return new Promise((resolve) => {
    const finish = () => {
      done = true;
      stop.removeEventListener('abort', pump);
      abandon.removeEventListener('abort', pump);
      resolve({
        abandoned: [...inFlight.values()].sort((a, b) => a.index - b.index),
        notStarted: chunks.slice(next),
        stoppedOnFailure: failed,
        fatal,
      });
    };
    function pump(): void {
      if (done) return;
      if (abandon.aborted) {
        finish();
        return;
      }
      while (!stop.aborted && !failed && inFlight.size < concurrency && next < chunks.length) {
        const chunk = chunks[next++]!;
        inFlight.set(chunk.index, chunk);
        send(chunk)
          .then(
            (result): ChunkOutcome => ({ status: 'sent', result }),
            (error): ChunkOutcome => ({
              status: mayHaveBeenSent(error) ? 'unknown' : 'failed',
              error,
            }),
          )
          .then((outcome) => {
            if (done) return;
            inFlight.delete(chunk.index);
            if (outcome.status !== 'sent') failed = true;
            try {
              onSettled(chunk, outcome);
            } catch (error) {
              // The results file could not be written: sending on would be sending blind.
              failed = true;
              fatal ??= error;
            }
            pump();
          });
      }
      if (inFlight.size === 0) finish();
    }
    stop.addEventListener('abort', pump);
    abandon.addEventListener('abort', pump);
    pump();
  });
}
