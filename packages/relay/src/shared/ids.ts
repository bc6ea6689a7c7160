import { createHash, randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
// One getrandom call per 256 ids rather than per id.
let pool = randomBytes(4096);
let poolOffset = 0;

/** The 10-character time part of a ULID: 48-bit milliseconds, Crockford base32. */
function timePart(now: number): string {
  let time = '';
  let t = Math.floor(now);
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time;
}

/** 16 Crockford characters (80 bits), one per byte of `bytes` from `offset`. */
function base32(bytes: Uint8Array, offset: number): string {
  let out = '';
  for (let i = 0; i < 16; i++) out += CROCKFORD[bytes[offset + i]! & 31];
  return out;
}

/** The offset of 16 fresh random bytes in `pool`. */
function take16(): number {
  if (poolOffset + 16 > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  const offset = poolOffset;
  poolOffset += 16;
  return offset;
}

/** A ULID: 48-bit millisecond time + 80 random bits, Crockford base32 (26 characters). */
function ulid(now: number): string {
  // take16 first: it may put a fresh pool in `pool`.
  const offset = take16();
  return timePart(now) + base32(pool, offset);
}

/**
 * A claim's lease token: 128 random bits, base64url (22 characters). From the same pool as
 * the ids: `randomBytes(16)` per claim cost about 3.5 µs (a call into OpenSSL, which asks
 * the kernel for the pid each time), the pool 0.2.
 */
export function newLeaseToken(): string {
  const offset = take16();
  return pool.toString('base64url', offset, offset + 16);
}

/**
 * A `webhook-id`: `msg_` + a ULID (48-bit millisecond time + 80 random bits, Crockford
 * base32), so ids sort by the time they were stored. Also the generic random id of the
 * relay wherever no journal entry stands behind an event.
 */
export function newEventId(now: number = Date.now()): string {
  return `msg_${ulid(now)}`;
}

/** The id of a journal entry (the raw bytes of one pull answer): `jrn_` + a ULID. */
export function newJournalEntryId(now: number = Date.now()): string {
  return `jrn_${ulid(now)}`;
}

/**
 * The `webhook-id` of record `index` of a journal entry: `msg_` + the entry's time part +
 * 16 Crockford characters of sha256(`${entryId}:${index}`). The same entry and index always
 * give the same id (a retried insert or a recovery from the journal cannot mint a second
 * one); ids have the format of `newEventId` and sort by the entry's time (records of one
 * entry share that time; their order among themselves is not kept).
 */
export function eventIdFor(entryId: string, index: number): string {
  return eventIdsOf(entryId)(index);
}

/** `eventIdFor` for the records of one entry: the entry id is checked once, not per record. */
export function eventIdsOf(entryId: string): (index: number) => string {
  const ulidPart = entryId.slice(entryId.lastIndexOf('_') + 1);
  if (!ULID.test(ulidPart)) {
    throw new TypeError(`[sms] not a journal entry id: ${JSON.stringify(entryId)}`);
  }
  const prefix = `msg_${ulidPart.slice(0, 10)}`;
  const key = `${entryId}:`;
  return (index) => {
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new TypeError(`[sms] record index must be a non-negative integer: ${index}`);
    }
    return (
      prefix +
      base32(
        createHash('sha256')
          .update(key + index)
          .digest(),
        0,
      )
    );
  };
}
