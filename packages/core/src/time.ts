import { validationError } from './errors.js';

/** The platform's clock: Asia/Shanghai, UTC+8 all year (no DST). */
const OFFSET_MS = 8 * 60 * 60 * 1000;
const WALL_CLOCK = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?$/;

const pad = (value: number) => String(value).padStart(2, '0');

/** Formats an instant as the platform's `YYYY-MM-DD HH:mm:ss` in UTC+8. */
export function formatShanghai(date: Date): string {
  const shifted = new Date(date.getTime() + OFFSET_MS);
  return (
    `${shifted.getUTCFullYear()}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())} ` +
    `${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}:${pad(shifted.getUTCSeconds())}`
  );
}

/** Reads a platform wall-clock time (UTC+8) as an instant; `undefined` if it is not one. */
export function parseShanghai(text: string): Date | undefined {
  const ms = parseShanghaiMs(text);
  return ms === undefined ? undefined : new Date(ms);
}

/** `parseShanghai` as epoch milliseconds, without the `Date`. */
export function parseShanghaiMs(text: string): number | undefined {
  const fields = text.length === 19 ? exactWallClock(text) : undefined;
  if (fields !== undefined) return wallClockMs(...fields);
  const trimmed = text.trim();
  const match = WALL_CLOCK.exec(trimmed.includes('/') ? trimmed.replace(/\//g, '-') : trimmed);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  return wallClockMs(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s ?? 0));
}

/**
 * `parseShanghaiMs` for a run of times (the `receivetime`s of one answer): the minute of the
 * last `YYYY-MM-DD HH:mm:ss` read is remembered, so a time in that same minute costs a prefix
 * comparison and two digits instead of a parse.
 */
export function shanghaiReader(): (text: string) => number | undefined {
  /** `YYYY-MM-DD HH:mm:` of the last valid time of that layout, and its instant at second 0. */
  let minute = '';
  let minuteMs = 0;
  return (text) => {
    if (text.length === 19 && minute !== '' && text.startsWith(minute)) {
      const tens = digit(text, 17);
      const ones = digit(text, 18);
      if (tens !== -1 && ones !== -1 && tens * 10 + ones <= 59) {
        return minuteMs + (tens * 10 + ones) * 1000;
      }
    }
    const fields = text.length === 19 ? exactWallClock(text) : undefined;
    if (fields === undefined) return parseShanghaiMs(text);
    const ms = wallClockMs(...fields);
    if (ms !== undefined) {
      minute = text.slice(0, 17);
      minuteMs = ms - fields[5] * 1000;
    }
    return ms;
  };
}

/** Digit `at` of `text` (`-1` if it is not an ASCII digit). */
function digit(text: string, at: number): number {
  const code = text.charCodeAt(at) - 0x30;
  return code >= 0 && code <= 9 ? code : -1;
}

/**
 * The platform's usual `YYYY-MM-DD HH:mm:ss` (or `T`, or `/`), read without a regex; anything
 * else goes to `WALL_CLOCK`. Accepts exactly what that regex accepts at this length.
 */
function exactWallClock(
  text: string,
): [number, number, number, number, number, number] | undefined {
  const dateSeparator = text.charCodeAt(4);
  if (dateSeparator !== 0x2d && dateSeparator !== 0x2f) return undefined; // - or /
  const secondSeparator = text.charCodeAt(7);
  if (secondSeparator !== 0x2d && secondSeparator !== 0x2f) return undefined;
  const middle = text.charCodeAt(10);
  if (middle !== 0x20 && middle !== 0x54) return undefined; // space or T
  if (text.charCodeAt(13) !== 0x3a || text.charCodeAt(16) !== 0x3a) return undefined; // :
  const values: number[] = [];
  for (const [from, to] of DIGIT_RUNS) {
    let value = 0;
    for (let at = from; at < to; at++) {
      const d = digit(text, at);
      if (d === -1) return undefined;
      value = value * 10 + d;
    }
    values.push(value);
  }
  return values as [number, number, number, number, number, number];
}

const DIGIT_RUNS = [
  [0, 4],
  [5, 7],
  [8, 10],
  [11, 13],
  [14, 16],
  [17, 19],
] as const;

function wallClockMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  // Reject dates that rolled over (2026-02-30 would become March 2nd).
  const check = new Date(wall);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return undefined;
  return wall - OFFSET_MS;
}

/**
 * How far in the past a `sendTime` may lie and still be taken as "now" (5 minutes): room for
 * clock skew between this machine and the platform, and for a time computed a moment ago.
 * An older time is a `VALIDATION` error: the platform would send such a message at once,
 * which is never what a schedule meant.
 */
export const SEND_TIME_PAST_TOLERANCE_MS = 5 * 60 * 1000;

/**
 * A sendTime as the platform wants it: empty for "now", else `YYYY-MM-DD HH:mm:ss` (UTC+8).
 * Throws a `VALIDATION` error (field `sendTime`) for anything but a `Date`, a string or
 * `undefined`, for an unreadable time, and for a time more than
 * `SEND_TIME_PAST_TOLERANCE_MS` before `now`.
 */
export function toSendTime(sendTime: Date | string | undefined, now: Date = new Date()): string {
  // Checked as unknown: JavaScript callers and JSON bodies pass numbers, nulls, objects.
  const value: unknown = sendTime;
  if (value === undefined || value === '') return '';
  let instant: Date;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw validationError('sendTime', 'sendTime is an invalid Date', 'send');
    instant = value;
  } else if (typeof value === 'string') {
    const parsed = value.length <= 64 ? parseShanghai(value) : undefined;
    if (!parsed) {
      throw validationError(
        'sendTime',
        `sendTime must be a Date or "YYYY-MM-DD HH:mm:ss" (Asia/Shanghai), got ${JSON.stringify(value.slice(0, 40))}`,
        'send',
      );
    }
    instant = parsed;
  } else {
    throw validationError(
      'sendTime',
      `sendTime must be a Date or a "YYYY-MM-DD HH:mm:ss" string (Asia/Shanghai), got ${describeType(value)}`,
      'send',
    );
  }
  const formatted = formatShanghai(instant);
  if (instant.getTime() < now.getTime() - SEND_TIME_PAST_TOLERANCE_MS) {
    throw validationError(
      'sendTime',
      `sendTime ${formatted} (Asia/Shanghai) is in the past (now ${formatShanghai(now)}): the platform would send at once. Leave sendTime out to send now, or give a future time (up to ${SEND_TIME_PAST_TOLERANCE_MS / 60_000} minutes in the past is taken as clock skew)`,
      'send',
    );
  }
  return formatted;
}

/** `null`, `array`, `number`, … for messages about a value of the wrong type. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : `the number ${value}`;
  return `a value of type ${typeof value}`;
}
