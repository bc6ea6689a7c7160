import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A `webhook-id`: `msg_` + a ULID (48-bit millisecond time + 80 random bits, Crockford
 * base32), so ids sort by the time they were stored. Assigned once, at insert.
 */
export function newEventId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let random = '';
  for (let i = 0; i < 16; i++) random += CROCKFORD[bytes[i]! % 32];
  return `msg_${time}${random}`;
}
