import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
// One getrandom call per 256 ids rather than per id.
let pool = randomBytes(4096);
let poolOffset = 0;

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
  if (poolOffset + 16 > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  let random = '';
  for (let i = 0; i < 16; i++) random += CROCKFORD[pool[poolOffset++]! & 31];
  return `msg_${time}${random}`;
}
