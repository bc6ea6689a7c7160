import { describe, expect, it } from 'vitest';
import { SmsError } from './errors.js';
import { normalizeMobile, parseMobiles, partitionMobiles, splitMobiles } from './mobile.js';
import { applySignature, contentLength, countSegments, hasSignature } from './segments.js';
import { formatShanghai, parseShanghai, toSendTime } from './time.js';

describe('mobile numbers', () => {
  it.each([
    ['+86 138 0013 8000', '13800138000'],
    ['0086-138-0013-8000', '13800138000'],
    ['8613800138000', '13800138000'],
    ['(138) 0013-8000', '13800138000'],
  ])('normalises %s', (input, expected) => expect(normalizeMobile(input)).toBe(expected));

  it('accepts full-width commas, drops duplicates, keeps invalid entries as written', () => {
    expect(
      partitionMobiles('13800138000，13900139000, 13800138000,12345, 0086 139-0013-9001'),
    ).toEqual({
      valid: ['13800138000', '13900139000', '13900139001'],
      invalid: ['12345'],
    });
  });

  it('takes one number, alone or in a list of one, as the general path does', () => {
    for (const input of ['13800138000', ['13800138000'], ' 13800138000 ', '+86 138 0013 8000']) {
      expect(partitionMobiles(input), JSON.stringify(input)).toEqual({
        valid: ['13800138000'],
        invalid: [],
      });
    }
    for (const input of ['23800138000', ['1380013800'], '138001380001']) {
      expect(partitionMobiles(input).valid, JSON.stringify(input)).toEqual([]);
    }
  });

  it('throws VALIDATION naming the bad numbers', () => {
    expect(() => parseMobiles(['13800138000', '2380013800'])).toThrow(/2380013800/);
    expect(() => parseMobiles('')).toThrow(SmsError);
  });
});

describe('segments', () => {
  it('counts code points, signature included', () => {
    expect(contentLength('【签名】😀a')).toBe(6);
    expect(countSegments('')).toBe(0);
    expect(countSegments('字'.repeat(70))).toBe(1);
    expect(countSegments('字'.repeat(71))).toBe(2);
    expect(countSegments('字'.repeat(134))).toBe(2);
    expect(countSegments('字'.repeat(135))).toBe(3);
  });

  it('finds a signature at either end', () => {
    expect(hasSignature('【签名】你好')).toBe(true);
    expect(hasSignature('你好【签名】')).toBe(true);
    expect(hasSignature('你好')).toBe(false);
  });
});

describe('Asia/Shanghai wall clock', () => {
  // Node applies a new TZ at once: the same instants under zones on either side of UTC, where
  // a slip to local getters (getHours, not getUTCHours) shows. UTC alone would hide it.
  it.each([
    { zone: 'America/Los_Angeles', offset: 480 },
    { zone: 'Asia/Tokyo', offset: -540 },
    { zone: 'UTC', offset: 0 },
  ])('formats any instant in UTC+8 whatever the local zone (TZ=$zone)', ({ zone, offset }) => {
    const saved = process.env.TZ;
    process.env.TZ = zone;
    try {
      const instant = new Date('2026-12-31T16:30:05Z');
      expect(instant.getTimezoneOffset()).toBe(offset); // the zone did change
      expect(formatShanghai(instant)).toBe('2027-01-01 00:30:05');
      expect(toSendTime(new Date('2036-12-01T01:00:00Z'))).toBe('2036-12-01 09:00:00');
      expect(parseShanghai('2011-12-02 22:12:11')?.toISOString()).toBe('2011-12-02T14:12:11.000Z');
    } finally {
      if (saved === undefined) Reflect.deleteProperty(process.env, 'TZ');
      else process.env.TZ = saved;
    }
  });

  it('parses receivetime as UTC+8 and rejects impossible dates', () => {
    expect(parseShanghai('2011-12-02 22:12:11')?.toISOString()).toBe('2011-12-02T14:12:11.000Z');
    expect(parseShanghai('2011/12/02 22:12:11')?.toISOString()).toBe('2011-12-02T14:12:11.000Z');
    expect(parseShanghai('2026-02-30 10:00:00')).toBeUndefined();
    expect(parseShanghai('')).toBeUndefined();
  });

  it('formats sendTime from a Date or a string, empty for now', () => {
    expect(toSendTime(undefined)).toBe('');
    expect(toSendTime(new Date('2036-12-01T01:00:00Z'))).toBe('2036-12-01 09:00:00');
    expect(toSendTime('2036-12-01 9:00')).toBe('2036-12-01 09:00:00');
    expect(() => toSendTime('next tuesday')).toThrow(SmsError);
  });
});

describe('applySignature', () => {
  it('prepends a signature only when the content has none', () => {
    expect(applySignature('验证码 1234', '商城')).toBe('【商城】验证码 1234');
    expect(applySignature('验证码 1234', '【商城】')).toBe('【商城】验证码 1234');
    expect(applySignature('【别家】验证码 1234', '商城')).toBe('【别家】验证码 1234');
    expect(applySignature('验证码 1234【别家】', '商城')).toBe('验证码 1234【别家】');
    expect(applySignature('验证码 1234', undefined)).toBe('验证码 1234');
  });
});

describe('recipients that are not text', () => {
  it.each([undefined, null, 13800138000, {}, [13800138000], ['13800138000', null]])(
    'parseMobiles / partitionMobiles / splitMobiles(%o) is a VALIDATION error on mobiles, not a TypeError',
    (input) => {
      for (const read of [parseMobiles, partitionMobiles, splitMobiles]) {
        let thrown: unknown;
        try {
          read(input as never);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(SmsError);
        expect((thrown as SmsError).field).toBe('mobiles');
      }
    },
  );
});
