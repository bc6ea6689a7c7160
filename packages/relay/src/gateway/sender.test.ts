import { SmsError, type SmsErrorCode } from '@sms/core';
import { expect, it } from 'vitest';
import { RateWindow, classifySendError } from './sender.js';

// What a failed send comes to decides whether a message can ever be sent twice: only what
// surely never left may be retried; what may have reached the platform is unknown.
it('classifies every SmsError code of a send', () => {
  const table: Record<SmsErrorCode, 'retry' | 'failed' | 'unknown'> = {
    NETWORK: 'retry',
    TIMEOUT: 'retry',
    UNKNOWN_OUTCOME: 'unknown',
    HTTP: 'unknown',
    PROTOCOL: 'unknown',
    VALIDATION: 'failed',
    CONTENT_EMPTY: 'failed',
    MOBILE_EMPTY: 'failed',
    ILLEGAL_KEYWORD: 'failed',
    SQL_INJECTION: 'failed',
    SIGNATURE_REQUIRED: 'failed',
    AUTH_MISSING: 'retry',
    AUTH_FAILED: 'retry',
    INSUFFICIENT_BALANCE: 'retry',
    PLATFORM_ERROR: 'retry',
    REPORTS_NOT_PERMITTED: 'retry',
    BAD_PARAMS: 'retry',
    ALL_ACCOUNTS_FAILED: 'retry',
  };
  for (const [code, expected] of Object.entries(table)) {
    const error = new SmsError('x', { code: code as SmsErrorCode, action: 'send' });
    expect({ code, outcome: classifySendError(error) }).toEqual({ code, outcome: expected });
  }
  // Anything that is not an SmsError is not known to have stayed home.
  expect(classifySendError(new TypeError('boom'))).toBe('unknown');
});

// The token bucket it replaces let a full bucket and its refill through in the same second:
// 7 sends in one second at ratePerSecond 5 (measured), up to 10.
it('never lets more than ratePerSecond sends start in any second', () => {
  const window = new RateWindow(5);
  expect(window.available(0)).toBe(5);
  window.take(5, 0);
  for (const t of [1, 200, 500, 999]) expect(window.available(t)).toBe(0);
  expect(window.wait(400)).toBe(600);
  expect(window.available(1000)).toBe(5);
  // Spread out: whatever the pattern, any second holds at most 5 starts.
  const spread = new RateWindow(5);
  const starts: number[] = [];
  for (let t = 0; t < 5000; t += 37) {
    const n = spread.available(t);
    spread.take(n, t);
    for (let i = 0; i < n; i++) starts.push(t);
  }
  for (const t of starts)
    expect(starts.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(5);
  expect(starts.length).toBeGreaterThanOrEqual(25);
  // Below one a second: one send per 1 / rate seconds.
  const slow = new RateWindow(0.5);
  slow.take(1, 0);
  expect(slow.available(1999)).toBe(0);
  expect(slow.available(2000)).toBe(1);
});
