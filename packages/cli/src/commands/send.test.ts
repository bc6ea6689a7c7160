import { describe, expect, it } from 'vitest';
import { CliError } from '../exit.js';
import { checkNotPast, SEND_TIME_TOLERANCE_MS } from './send.js';

describe('--at in the past', () => {
  // 2026-12-01 09:00:00 Asia/Shanghai.
  const now = new Date('2026-12-01T01:00:00Z');

  it('refuses a time more than 5 minutes ago, saying why', () => {
    expect(SEND_TIME_TOLERANCE_MS).toBe(5 * 60_000);
    for (const at of ['2020-01-01 09:00:00', '2026-12-01 08:54:59']) {
      let error: unknown;
      try {
        checkNotPast(at, now);
      } catch (caught) {
        error = caught;
      }
      expect(error, at).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(2);
      expect((error as CliError).message).toContain(`--at ${at} is in the past`);
      expect((error as CliError).message).toContain('2026-12-01 09:00:00 Asia/Shanghai');
    }
  });

  it('accepts the tolerance and any future time', () => {
    for (const at of ['2026-12-01 08:55:00', '2026-12-01 09:00:00', '2030-01-01 00:00:00']) {
      expect(() => checkNotPast(at, now), at).not.toThrow();
    }
  });
});
