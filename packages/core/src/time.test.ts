import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseShanghai, parseShanghaiMs, shanghaiReader } from './time.js';

/** The regex-only reader `parseShanghai` had before its fast path for `YYYY-MM-DD HH:mm:ss`. */
function regexParseShanghai(text: string): Date | undefined {
  const trimmed = text.trim();
  const match =
    /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?$/.exec(
      trimmed.includes('/') ? trimmed.replace(/\//g, '-') : trimmed,
    );
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  const [month, day, hour, minute, second] = [mo, d, h, mi, s ?? 0].map(Number) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || day! > 31 || hour! > 23 || minute! > 59)
    return undefined;
  if (second! > 59) return undefined;
  const wall = Date.UTC(Number(y), month! - 1, day!, hour!, minute!, second!);
  const check = new Date(wall);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month! - 1) return undefined;
  return new Date(wall - 8 * 60 * 60 * 1000);
}

describe('parseShanghai', () => {
  it('reads the platform format as the regex did, valid or not, at every length', () => {
    const char = fc.constantFrom(...'0123456789-/ T:.x'.split(''), '\u3000');
    const digits = (n: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });
    const layout = fc
      .tuple(
        digits(4),
        char,
        digits(2),
        char,
        digits(2),
        char,
        digits(2),
        char,
        digits(2),
        char,
        digits(2),
      )
      .map((parts) => parts.join(''));
    const pad = (n: number) => String(n).padStart(2, '0');
    const realistic = fc
      .tuple(
        fc.integer({ min: 1970, max: 2100 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.constantFrom('-', '/'),
        fc.constantFrom(' ', 'T'),
      )
      .map(
        ([y, mo, d, h, mi, s, dash, middle]) =>
          `${y}${dash}${pad(mo)}-${pad(d)}${middle}${pad(h)}:${pad(mi)}:${pad(s)}`,
      );
    fc.assert(
      fc.property(fc.oneof(layout, realistic, fc.string({ unit: char, maxLength: 24 })), (text) => {
        expect(parseShanghai(text)).toEqual(regexParseShanghai(text));
        expect(parseShanghaiMs(text)).toBe(regexParseShanghai(text)?.getTime());
      }),
      { numRuns: 5000 },
    );
  });

  it('shanghaiReader reads a run of times as parseShanghaiMs reads each', () => {
    const near = fc
      .tuple(
        fc.constantFrom(
          '2026-11-25 10:00:',
          '2026/11/25T10:00:',
          '2026-02-30 10:00:',
          '2026-11-25 10:01:',
        ),
        fc.constantFrom(...'0123456789x'.split('')),
        fc.constantFrom(...'0123456789 '.split('')),
      )
      .map((parts) => parts.join(''));
    const times = fc.array(fc.oneof(near, near, fc.string({ maxLength: 20 })), { maxLength: 30 });
    fc.assert(
      fc.property(times, (texts) => {
        const read = shanghaiReader();
        expect(texts.map(read)).toEqual(texts.map(parseShanghaiMs));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a receivetime as UTC+8', () => {
    expect(parseShanghai('2026-11-25 10:00:07')?.toISOString()).toBe('2026-11-25T02:00:07.000Z');
    expect(parseShanghai('2026/02/30 10:00:07')).toBeUndefined();
  });
});
