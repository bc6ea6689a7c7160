import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryDelay } from './delivery.js';
import { jsonLogger } from './logger.js';

describe('retry timing', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('garbage', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('follows the schedule with bounded jitter, then stops', () => {
    const schedule = [1000, 60_000];
    for (let i = 0; i < 50; i++) {
      const delay = retryDelay(schedule, 2, 0.2)!;
      expect(delay).toBeGreaterThanOrEqual(48_000);
      expect(delay).toBeLessThanOrEqual(72_000);
    }
    expect(retryDelay(schedule, 1, 0)).toBe(1000);
    expect(retryDelay(schedule, 3, 0.2)).toBeUndefined();
  });
});

describe('jsonLogger', () => {
  it('writes one JSON line per call and scrubs secrets, even inside errors', () => {
    const lines: string[] = [];
    const logger = jsonLogger({
      level: 'info',
      redact: ['hunter2-secret', 'whsec_abc"def'],
      write: (l) => lines.push(l),
    });
    logger.debug('hidden');
    logger.warn('failed', {
      error: new Error('login hunter2-secret refused'),
      note: 'whsec_abc"def',
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const parsed = JSON.parse(lines[0]!);
    expect(parsed).toMatchObject({ level: 'warn', msg: 'failed', note: '[redacted]' });
    expect(parsed.error.message).toBe('login [redacted] refused');
  });
});
