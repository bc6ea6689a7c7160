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
  const match = WALL_CLOCK.exec(text.trim().replace(/\//g, '-'));
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
  const utc = Date.UTC(Number(y), month - 1, day, hour, minute, second) - OFFSET_MS;
  const date = new Date(utc);
  // Reject dates that rolled over (2026-02-30 would become March 2nd).
  if (formatShanghai(date).slice(0, 10) !== `${y}-${pad(month)}-${pad(day)}`) return undefined;
  return date;
}

/** A sendTime as the platform wants it: empty for "now", else `YYYY-MM-DD HH:mm:ss` (UTC+8). */
export function toSendTime(value: Date | string | undefined): string {
  if (value === undefined || value === '') return '';
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw validationError('sendTime', 'sendTime is an invalid Date', 'send');
    return formatShanghai(value);
  }
  const parsed = parseShanghai(value);
  if (!parsed) {
    throw validationError(
      'sendTime',
      `sendTime must be a Date or "YYYY-MM-DD HH:mm:ss" (Asia/Shanghai), got "${value.slice(0, 40)}"`,
      'send',
    );
  }
  return formatShanghai(parsed);
}
