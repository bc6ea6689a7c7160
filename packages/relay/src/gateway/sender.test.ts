import { SmsError, type SmsErrorCode } from '@sms/core';
import { expect, it } from 'vitest';
import { classifySendError } from './sender.js';

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
  };
  for (const [code, expected] of Object.entries(table)) {
    const error = new SmsError('x', { code: code as SmsErrorCode, action: 'send' });
    expect({ code, outcome: classifySendError(error) }).toEqual({ code, outcome: expected });
  }
  // Anything that is not an SmsError is not known to have stayed home.
  expect(classifySendError(new TypeError('boom'))).toBe('unknown');
});
