import { describe, expect, it } from 'vitest';
import { CliError } from '../exit.js';
import { checkNotPast, listInvalid, SEND_TIME_TOLERANCE_MS } from './send.js';

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

describe('listInvalid', () => {
  const row = (line: number, raw: string) => ({ line, raw, mobile: raw, valid: false, fields: {} });

  it('names each value with its file line, then a count of the rest', () => {
    const rows = [row(4, '12345'), row(9, 'abc'), row(12, '999'), row(20, '1'), row(21, '2')];
    expect(listInvalid(rows.slice(0, 1), { lines: true })).toBe('12345 (line 4)');
    expect(listInvalid(rows, { lines: true })).toBe(
      '12345 (line 4), abc (line 9), 999 (line 12) and 2 more',
    );
    expect(listInvalid(rows.slice(0, 2), { lines: false })).toBe('12345, abc');
  });

  it('keeps each value on one line: blank and spaced values quoted, long ones cut', () => {
    expect(listInvalid([row(2, '')], { lines: true })).toBe('"" (line 2)');
    expect(listInvalid([row(2, '138 0013')], { lines: true })).toBe('"138 0013" (line 2)');
    expect(listInvalid([row(3, '3\r\n3\t')], { lines: true })).toBe('"3⏎3 " (line 3)');
    const long = `=HYPERLINK("http://127.0.0.1/${'a'.repeat(40)}")`;
    expect(listInvalid([row(5, long)], { lines: true })).toBe(`${long.slice(0, 23)}… (line 5)`);
  });
});
