import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { eventIdFor, newEventId, newJournalEntryId, newLeaseToken } from './ids.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MSG_ID = /^msg_[0-9A-HJKMNP-TV-Z]{26}$/;
const JRN_ID = /^jrn_[0-9A-HJKMNP-TV-Z]{26}$/;

/** The milliseconds a ULID's first 10 characters encode. */
const decodeTime = (ulid: string) =>
  [...ulid.slice(0, 10)].reduce((t, c) => t * 32 + CROCKFORD.indexOf(c), 0);

describe('ids', () => {
  it('newEventId: msg_ + a ULID whose time part is the given millisecond', () => {
    const now = Date.parse('2026-03-01T12:00:00.123Z');
    const id = newEventId(now);
    expect(id).toMatch(MSG_ID);
    expect(decodeTime(id.slice(4))).toBe(now);
    expect(newEventId(now)).not.toBe(id);
    expect(newEventId(0).slice(0, 14)).toBe('msg_0000000000');
  });

  it('newJournalEntryId: jrn_ + a ULID, random and sortable by time', () => {
    const now = Date.parse('2026-03-01T12:00:00.123Z');
    const ids = Array.from({ length: 1000 }, () => newJournalEntryId(now));
    for (const id of ids) expect(id).toMatch(JRN_ID);
    expect(new Set(ids).size).toBe(1000);
    expect(decodeTime(ids[0]!.slice(4))).toBe(now);
    expect(newJournalEntryId(now) < newJournalEntryId(now + 1)).toBe(true);
    expect(newJournalEntryId()).toMatch(JRN_ID);
  });

  it('ids and tokens stay unique across refills of their pool, from a fresh module', async () => {
    // A fresh module: its first pool is where a refill that read the old pool repeated the
    // first id's random part 256 ids later (the same millisecond: the same id).
    vi.resetModules();
    const fresh = await import('./ids.js');
    const now = Date.parse('2026-03-01T12:00:00.123Z');
    const ids = Array.from({ length: 1000 }, () => fresh.newEventId(now));
    expect(new Set(ids).size).toBe(1000);
    const mixed = Array.from({ length: 1000 }, (_, i) =>
      i % 2 === 0 ? fresh.newJournalEntryId(now).slice(14) : fresh.newLeaseToken(),
    );
    expect(new Set(mixed).size).toBe(1000);
  });

  it('newLeaseToken: 128 random bits in base64url, none repeated across pool refills', () => {
    // 1,000 tokens draw 16,000 bytes: the 4,096-byte pool is refilled three times.
    const tokens = Array.from({ length: 1000 }, () => newLeaseToken());
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(16);
    }
    expect(new Set(tokens).size).toBe(1000);
  });

  it('eventIdFor: deterministic, the format of newEventId, from the entry time and sha256', () => {
    const entry = newJournalEntryId(Date.parse('2026-03-01T12:00:00Z'));
    const id = eventIdFor(entry, 0);
    expect(id).toMatch(MSG_ID);
    expect(id).toHaveLength(newEventId().length);
    expect(eventIdFor(entry, 0)).toBe(id);
    expect(id.slice(4, 14)).toBe(entry.slice(4, 14));
    const digest = createHash('sha256').update(`${entry}:0`).digest();
    const expected = [...digest.subarray(0, 16)].map((b) => CROCKFORD[b & 31]).join('');
    expect(id.slice(14)).toBe(expected);
  });

  it('eventIdFor: distinct per index and per entry, even entries of the same millisecond', () => {
    const now = Date.now();
    const a = newJournalEntryId(now);
    const b = newJournalEntryId(now);
    const ids = new Set<string>();
    for (const entry of [a, b]) {
      for (let i = 0; i < 5000; i++) ids.add(eventIdFor(entry, i));
    }
    expect(ids.size).toBe(10_000);
  });

  it('eventIdFor: ids sort by the time of their journal entry', () => {
    const entries = [0, 1, 1000, 1_700_000_000_000, 1_700_000_000_001].map((t) =>
      newJournalEntryId(t),
    );
    const ids = entries.flatMap((entry) => [9, 0, 3].map((i) => eventIdFor(entry, i)));
    const times = [...ids].sort().map((id) => decodeTime(id.slice(4)));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(times).toEqual([
      0,
      0,
      0,
      1,
      1,
      1,
      1000,
      1000,
      1000,
      ...Array(3).fill(1_700_000_000_000),
      ...Array(3).fill(1_700_000_000_001),
    ]);
  });

  it('eventIdFor: refuses what is not an entry id or a record index', () => {
    const entry = newJournalEntryId();
    expect(() => eventIdFor('jrn_short', 0)).toThrow(TypeError);
    expect(() => eventIdFor(`jrn_${'I'.repeat(26)}`, 0)).toThrow(TypeError);
    expect(() => eventIdFor(entry, -1)).toThrow(TypeError);
    expect(() => eventIdFor(entry, 1.5)).toThrow(TypeError);
    expect(() => eventIdFor(entry, Number.NaN)).toThrow(TypeError);
  });
});
