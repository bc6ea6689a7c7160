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
  const trimmed = text.trim();
  const match = WALL_CLOCK.exec(trimmed.includes('/') ? trimmed.replace(/\//g, '-') : trimmed);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const wall = Date.UTC(Number(y), month - 1, day, hour, minute, second);
  // Reject dates that rolled over (2026-02-30 would become March 2nd).
  const check = new Date(wall);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return undefined;
  return new Date(wall - OFFSET_MS);
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
