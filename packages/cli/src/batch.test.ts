import { SmsError, type SendResult } from '@sms/core';
import { describe, expect, it } from 'vitest';
import { type Chunk, type ChunkOutcome, mayHaveBeenSent, planBatch, runChunks } from './batch.js';
import type { Recipient } from './csv.js';

const recipient = (
  mobile: string,
  fields: Record<string, string> = {},
  valid = true,
): Recipient => ({
  line: 0,
  mobile,
  raw: mobile,
  valid,
  fields,
});

describe('planBatch', () => {
  it('groups identical texts, removes duplicates per text, chunks each group and counts points', () => {
    const long = 'x'.repeat(71); // 2 segments
    const plan = planBatch(
      [
        recipient('13800000001', { t: 'a' }),
        recipient('13800000002', { t: long }),
        recipient('13800000003', { t: 'a' }),
        recipient('13800000001', { t: 'a' }),
        recipient('13800000001', { t: long }),
        recipient('123', { t: 'a' }, false),
      ],
      (r) => r.fields['t']!,
      1,
    );
    expect(plan.groups.map((g) => [g.content.length, g.mobiles, g.segments])).toEqual([
      [1, ['13800000001', '13800000003'], 1],
      [71, ['13800000002', '13800000001'], 2],
    ]);
    expect(plan.chunks.map((c) => [c.index, c.group, c.mobiles])).toEqual([
      [1, 1, ['13800000001']],
      [2, 1, ['13800000003']],
      [3, 2, ['13800000002']],
      [4, 2, ['13800000001']],
    ]);
    expect(plan).toMatchObject({ duplicates: 1, numbers: 4, points: 6 });
    expect(plan.invalid.map((r) => r.mobile)).toEqual(['123']);
  });
});

describe('mayHaveBeenSent', () => {
  it('is false only for refusals, validation and connect failures', () => {
    const error = (code: SmsError['code'], status?: number) => new SmsError('x', { code, status });
    expect(mayHaveBeenSent(error('AUTH_FAILED'))).toBe(false);
    expect(mayHaveBeenSent(error('VALIDATION'))).toBe(false);
    expect(mayHaveBeenSent(error('NETWORK'))).toBe(false);
    expect(mayHaveBeenSent(error('HTTP', 404))).toBe(false);
    expect(mayHaveBeenSent(error('HTTP', 500))).toBe(true);
    expect(mayHaveBeenSent(error('UNKNOWN_OUTCOME'))).toBe(true);
    expect(mayHaveBeenSent(error('TIMEOUT'))).toBe(true);
    expect(mayHaveBeenSent(error('PROTOCOL'))).toBe(true);
    expect(mayHaveBeenSent(new Error('bug'))).toBe(true);
  });
});

const chunks = (n: number): Chunk[] =>
  Array.from({ length: n }, (_, i) => ({
    index: i + 1,
    group: 1,
    content: 'c',
    mobiles: [`1380000000${i}`],
    rows: [],
  }));

const ok = (taskId: string): SendResult => ({
  taskId,
  successCounts: 1,
  remainPoint: 0,
  message: 'ok',
});

/** A send whose calls the test resolves by hand. */
function manualSend() {
  const pending = new Map<
    number,
    { resolve: (r: SendResult) => void; reject: (e: unknown) => void }
  >();
  const started: number[] = [];
  return {
    started,
    send: (chunk: Chunk) =>
      new Promise<SendResult>((resolve, reject) => {
        started.push(chunk.index);
        pending.set(chunk.index, { resolve, reject });
      }),
    resolve: (index: number) => pending.get(index)!.resolve(ok(`t${index}`)),
    reject: (index: number, error: unknown) => pending.get(index)!.reject(error),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('runChunks', () => {
  it('keeps at most `concurrency` requests in flight and reports each chunk once', async () => {
    const manual = manualSend();
    const settled: Array<[number, ChunkOutcome['status']]> = [];
    const run = runChunks(chunks(5), {
      concurrency: 2,
      send: manual.send,
      onSettled: (chunk, outcome) => settled.push([chunk.index, outcome.status]),
      stop: new AbortController().signal,
      abandon: new AbortController().signal,
    });
    expect(manual.started).toEqual([1, 2]);
    manual.resolve(2);
    await tick();
    expect(manual.started).toEqual([1, 2, 3]);
    for (const index of [1, 3, 4, 5]) {
      await waitStarted(manual.started, index);
      manual.resolve(index);
      await tick();
    }
    const summary = await run;
    expect(settled.map(([i]) => i).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(summary).toMatchObject({ abandoned: [], notStarted: [], stoppedOnFailure: false });
  });

  it('stops starting chunks after a failure; a reset is "unknown", a refusal "failed"', async () => {
    const manual = manualSend();
    const settled: Array<[number, string]> = [];
    const run = runChunks(chunks(4), {
      concurrency: 1,
      send: manual.send,
      onSettled: (chunk, outcome) => settled.push([chunk.index, outcome.status]),
      stop: new AbortController().signal,
      abandon: new AbortController().signal,
    });
    manual.reject(1, new SmsError('reset', { code: 'UNKNOWN_OUTCOME' }));
    const summary = await run;
    expect(settled).toEqual([[1, 'unknown']]);
    expect(summary.notStarted.map((c) => c.index)).toEqual([2, 3, 4]);
    expect(summary.stoppedOnFailure).toBe(true);
  });

  it('on stop waits for the chunks in flight; on abandon returns them at once', async () => {
    const manual = manualSend();
    const stop = new AbortController();
    const abandon = new AbortController();
    const settled: number[] = [];
    const run = runChunks(chunks(6), {
      concurrency: 2,
      send: manual.send,
      onSettled: (chunk) => settled.push(chunk.index),
      stop: stop.signal,
      abandon: abandon.signal,
    });
    manual.resolve(1);
    await tick();
    stop.abort();
    manual.resolve(2);
    await tick();
    // Chunk 3 started before the stop; it is still in flight.
    expect(manual.started).toEqual([1, 2, 3]);
    abandon.abort();
    const summary = await run;
    expect(settled).toEqual([1, 2]);
    expect(summary.abandoned.map((c) => c.index)).toEqual([3]);
    expect(summary.notStarted.map((c) => c.index)).toEqual([4, 5, 6]);
    // A late answer for an abandoned chunk changes nothing.
    manual.resolve(3);
    await tick();
    expect(settled).toEqual([1, 2]);
  });

  it('stops when the results cannot be written, and says why', async () => {
    const summary = await runChunks(chunks(3), {
      concurrency: 1,
      send: async (chunk) => ok(`t${chunk.index}`),
      onSettled: () => {
        throw new Error('ENOSPC');
      },
      stop: new AbortController().signal,
      abandon: new AbortController().signal,
    });
    expect((summary.fatal as Error).message).toBe('ENOSPC');
    expect(summary.notStarted.map((c) => c.index)).toEqual([2, 3]);
  });
});

async function waitStarted(started: number[], index: number) {
  for (let i = 0; i < 100 && !started.includes(index); i++) await tick();
}
