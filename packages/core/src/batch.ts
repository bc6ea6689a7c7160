/**
 * One send split into chunks of numbers, sent with bounded concurrency: the part of
 * `sendBatch` that `SmsClient` and `SmsRouter` share. Each chunk is one request; a failed chunk
 * is reported with its error and, after `stopOnFailure` or the signal, the rest as not sent.
 */
import { type SmsErrorCode, SmsError, validationError } from './errors.js';
import { type MobilePartition, partitionMobiles } from './mobile.js';
import { assertInputObject, assertMobilesInput } from './protocol.js';
import type { SendInput, SendResult } from './types.js';

export interface SendBatchInput extends Omit<SendInput, 'mobiles'> {
  mobiles: string | readonly string[];
  /** Numbers per request (default 1000). */
  chunkSize?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Called just before a chunk's request is made (it may reach the platform from then on). */
  onChunkStart?: (chunk: BatchChunk) => void;
  /** Called after each chunk finishes. */
  onProgress?: (progress: BatchProgress) => void;
  /** Start no new chunk after the first failure (default false: send every chunk). */
  stopOnFailure?: boolean;
  /** Stops starting new chunks; chunks already sent are reported. */
  signal?: AbortSignal;
}

export interface BatchChunk {
  index: number;
  mobiles: string[];
}

export interface BatchChunkSuccess extends BatchChunk {
  result: SendResult;
}

export interface BatchChunkFailure extends BatchChunk {
  error: SmsError;
}

export interface BatchProgress {
  completedChunks: number;
  totalChunks: number;
  /** Numbers in chunks the platform accepted so far. */
  sentMobiles: number;
  /** Numbers in chunks that failed so far. */
  failedMobiles: number;
  chunk: BatchChunkSuccess | BatchChunkFailure;
}

export interface SendBatchResult {
  /** Chunks the platform accepted. */
  results: BatchChunkSuccess[];
  /** Chunks that failed; `error.code === 'UNKNOWN_OUTCOME'` means it may have been sent. */
  failures: BatchChunkFailure[];
  /** Chunks never attempted (the signal fired, or `stopOnFailure` after a failure). */
  notSent: BatchChunk[];
  /** Numbers dropped before sending because they are not valid mobile numbers. */
  invalid: string[];
  /** Sum of `successCounts` over accepted chunks. */
  successCounts: number;
}

/** What a batch input asks for, checked: its valid numbers, split later into chunks. */
export interface BatchPlan {
  valid: string[];
  invalid: MobilePartition['invalid'];
  chunkSize: number;
  concurrency: number;
}

/** Checks a batch's own options and numbers (its content is the sender's to check). */
export function planBatch(input: SendBatchInput): BatchPlan {
  assertInputObject(input, 'sendBatch input ({ mobiles, content })', 'send');
  const chunkSize = input.chunkSize === undefined ? 1000 : input.chunkSize;
  const concurrency = input.concurrency === undefined ? 4 : input.concurrency;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1)
    throw validationError('chunkSize', 'chunkSize must be a positive integer', 'send');
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw validationError('concurrency', 'concurrency must be a positive integer', 'send');
  for (const hook of ['onChunkStart', 'onProgress'] as const) {
    if (input[hook] !== undefined && typeof input[hook] !== 'function')
      throw validationError(hook, `${hook} must be a function`, 'send');
  }
  if (input.stopOnFailure !== undefined && typeof input.stopOnFailure !== 'boolean')
    throw validationError('stopOnFailure', 'stopOnFailure must be a boolean', 'send');
  if (input.signal !== undefined && !(input.signal instanceof AbortSignal))
    throw validationError('signal', 'signal must be an AbortSignal', 'send');
  assertMobilesInput(input.mobiles, 'send');
  const { valid, invalid } = partitionMobiles(input.mobiles);
  if (valid.length === 0) throw validationError('mobiles', 'no valid mobile number given', 'send');
  return { valid, invalid, chunkSize, concurrency };
}

/**
 * Sends the plan's chunks through `sendChunk`. A chunk that throws something other than an
 * `SmsError` is recorded with `unexpected` as its code: the caller knows whether such a throw
 * can come after the request left.
 */
export async function runBatch(
  input: SendBatchInput,
  plan: BatchPlan,
  sendChunk: (mobiles: string[]) => Promise<SendResult>,
  unexpected: SmsErrorCode,
): Promise<SendBatchResult> {
  const chunks: BatchChunk[] = [];
  for (let i = 0; i < plan.valid.length; i += plan.chunkSize) {
    chunks.push({ index: chunks.length, mobiles: plan.valid.slice(i, i + plan.chunkSize) });
  }
  const outcome: SendBatchResult = {
    results: [],
    failures: [],
    notSent: [],
    invalid: plan.invalid,
    successCounts: 0,
  };
  let next = 0;
  let sentMobiles = 0;
  let failedMobiles = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      if (input.signal?.aborted || (input.stopOnFailure && outcome.failures.length > 0)) {
        outcome.notSent.push(chunk);
        continue;
      }
      input.onChunkStart?.(chunk);
      let done: BatchChunkSuccess | BatchChunkFailure;
      try {
        const result = await sendChunk(chunk.mobiles);
        done = { ...chunk, result };
        outcome.results.push(done);
        outcome.successCounts += result.successCounts;
        sentMobiles += chunk.mobiles.length;
      } catch (error) {
        done = {
          ...chunk,
          error:
            error instanceof SmsError
              ? error
              : new SmsError(String(error), { code: unexpected, action: 'send', cause: error }),
        };
        outcome.failures.push(done);
        failedMobiles += chunk.mobiles.length;
      }
      input.onProgress?.({
        completedChunks: outcome.results.length + outcome.failures.length,
        totalChunks: chunks.length,
        sentMobiles,
        failedMobiles,
        chunk: done,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.concurrency, chunks.length) }, worker));
  const byIndex = (a: BatchChunk, b: BatchChunk) => a.index - b.index;
  outcome.results.sort(byIndex);
  outcome.failures.sort(byIndex);
  outcome.notSent.sort(byIndex);
  return outcome;
}
