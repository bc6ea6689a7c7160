import type { Reply } from '@sms/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BoundHandler, RecordDispatcher } from './dispatcher.js';
import type { SmsDeadLetter } from './options.js';

const reply: Reply = {
  mobile: '13800138000',
  taskId: '1',
  content: 'hi',
  receivedAt: new Date(0),
  receiveTime: '1970-01-01 08:00:00',
  extNo: '',
};

function setup(retry: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number }) {
  const logs: string[] = [];
  const letters: SmsDeadLetter[] = [];
  const controller = new AbortController();
  const sinks: BoundHandler[] = [
    { name: 'sink', call: (l) => void letters.push(l as SmsDeadLetter) },
  ];
  const dispatcher = new RecordDispatcher({
    client: 'main',
    retry,
    signal: controller.signal,
    deadLetterSinks: sinks,
    logger: { error: (m) => void logs.push(m), warn: (m) => void logs.push(m) },
  });
  return { dispatcher, logs, letters, controller, sinks };
}

describe('RecordDispatcher', () => {
  it('retries each handler on its own: one failing handler does not re-run the others', async () => {
    const { dispatcher, letters } = setup({ attempts: 3, baseDelayMs: 1 });
    let ok = 0;
    let flaky = 0;
    await dispatcher.dispatch('reply', reply, [
      { name: 'A.ok', call: () => void ok++ },
      {
        name: 'B.flaky',
        call: () => {
          flaky++;
          if (flaky < 3) throw new Error('not yet');
        },
      },
    ]);
    expect(ok).toBe(1);
    expect(flaky).toBe(3);
    expect(letters).toEqual([]);
  });

  describe('waits longer before each retry (exponential backoff, capped)', () => {
    afterEach(() => {
      vi.useRealTimers();
      vi.restoreAllMocks();
    });

    // Jitter draws each delay from [exp/2, exp]; pinning Math.random at either end makes the
    // delays exact, and fake timers measure them without waiting.
    it.each([
      { random: 0, gaps: [5, 10, 20, 40, 50, 50] },
      { random: 1 - Number.EPSILON, gaps: [10, 20, 40, 80, 100, 100] },
    ])('Math.random() = $random: gaps $gaps', async ({ random, gaps }) => {
      vi.useFakeTimers();
      vi.spyOn(Math, 'random').mockReturnValue(random);
      const { dispatcher, letters } = setup({ attempts: 7, baseDelayMs: 10, maxDelayMs: 100 });
      const calls: number[] = [];
      const done = dispatcher.dispatch('report', reply, [
        {
          name: 'X.fail',
          call: () => {
            calls.push(Date.now());
            throw new Error('always');
          },
        },
      ]);
      await vi.runAllTimersAsync();
      await done;
      // Doubling from baseDelayMs (10, 20, 40, 80), then held at maxDelayMs (160, 320 become 100).
      expect(calls.slice(1).map((t, i) => t - (calls[i] ?? 0))).toEqual(gaps);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        client: 'main',
        handler: 'X.fail',
        attempts: 7,
        reason: 'exhausted',
      });
    });
  });

  it('logs the record when every dead-letter sink throws', async () => {
    const { dispatcher, logs, sinks } = setup({ attempts: 1 });
    sinks.splice(0, sinks.length, {
      name: 'Broken.sink',
      call: () => {
        throw new Error('sink down');
      },
    });
    await dispatcher.dispatch('reply', reply, [
      {
        name: 'H.fail',
        call: () => {
          throw new Error('handler down');
        },
      },
    ]);
    expect(logs.some((l) => l.includes('Broken.sink threw: sink down'))).toBe(true);
    const last = logs.at(-1) ?? '';
    expect(last).toContain('dead letter (exhausted after 1 attempt(s)) from H.fail: handler down');
    expect(last).toContain('"content":"hi"');
  });

  it('dead-letters at once with reason "shutdown" once the signal is aborted', async () => {
    const { dispatcher, letters, controller } = setup({ attempts: 5, baseDelayMs: 60_000 });
    const started = Date.now();
    const done = dispatcher.dispatch('reply', reply, [
      {
        name: 'H.fail',
        call: () => {
          throw new Error('x');
        },
      },
    ]);
    setTimeout(() => controller.abort(), 20);
    await done;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(letters[0]).toMatchObject({ reason: 'shutdown', attempts: 1 });
  });
});
