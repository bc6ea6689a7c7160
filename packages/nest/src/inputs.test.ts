import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { type Reply, SmsClient, SmsError, type StatusReport } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnSmsReply, OnSmsReport } from './decorators.js';
import { SmsModule } from './sms.module.js';
import { getSmsEmulatorToken, SmsTestingModule } from './testing.js';
import { ALPHA, clientOptions } from './test-utils/fixtures.js';

/**
 * Odd input through the `SmsClient` a real Nest testing module injects: the only acceptable
 * failure is a `VALIDATION` `SmsError` naming a field that was wrong, and the emulator behind
 * the module must not see one request.
 */
let moduleRef: TestingModule;
let sms: SmsClient;
let emulator: Emulator;

beforeAll(async () => {
  moduleRef = await Test.createTestingModule({ imports: [SmsTestingModule.forRoot()] }).compile();
  await moduleRef.init();
  sms = moduleRef.get(SmsClient);
  emulator = moduleRef.get<Emulator>(getSmsEmulatorToken());
});
afterAll(async () => {
  await moduleRef.close();
});

/**
 * The odd values of every field (fast-check is not a dependency of this package, so the
 * values are enumerated: each one alone in an otherwise valid input, then all together).
 */
const HUGE = '7'.repeat(1 << 20);
const ODD_STRINGS = [HUGE, 'a\u0000b', '\u0000', 'x\ud800', '\udc00'];
const NON_STRINGS = [null, 0, 13800138000, Number.NaN, -1.5, true, {}, { a: 1 }, [1], [null], [{}]];
const junk: Record<string, unknown[]> = {
  mobiles: [undefined, ...NON_STRINGS, ...ODD_STRINGS, '', [], ['1'], ['13800138000', 5]],
  content: [undefined, ...NON_STRINGS, ...ODD_STRINGS.slice(1), '', ' '],
  sendTime: [
    ...NON_STRINGS,
    ...ODD_STRINGS,
    '2001-01-01 09:00:00',
    new Date(Date.UTC(2001, 0, 1)),
    new Date(Number.NaN),
    'soon',
  ],
  extNo: [...NON_STRINGS, ...ODD_STRINGS, 'abc', '12345678901'],
};
const VALID: Record<string, unknown> = { mobiles: '13800138000', content: '【测试】你好' };

/** Each odd value alone in a valid input, then every field odd at once, then non-objects. */
function sendInputs(): Array<{ input: unknown; bad: string[] }> {
  const cases: Array<{ input: unknown; bad: string[] }> = [];
  for (const [field, values] of Object.entries(junk)) {
    for (const value of values) {
      const input: Record<string, unknown> = { ...VALID };
      if (value === undefined) delete input[field];
      else input[field] = value;
      cases.push({ input, bad: [field] });
    }
  }
  for (let i = 0; i < NON_STRINGS.length; i++) {
    const input: Record<string, unknown> = {};
    for (const [field, values] of Object.entries(junk))
      input[field] = values[(i + 1) % values.length];
    cases.push({ input, bad: Object.keys(junk) });
  }
  for (const input of [undefined, null, 1, 'x', []]) cases.push({ input, bad: ['input'] });
  return cases;
}

async function validationFailure(run: () => unknown): Promise<SmsError> {
  let thrown: unknown;
  try {
    await run();
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof SmsError)) {
    throw new Error(
      `expected an SmsError, got ${thrown === undefined ? 'success' : String(thrown)}`,
      { cause: thrown },
    );
  }
  expect(thrown.code).toBe('VALIDATION');
  return thrown;
}

describe('the injected SmsClient refuses odd input before sending', () => {
  it('send() and sendBatch()', async () => {
    const cases = sendInputs();
    expect(cases.length).toBeGreaterThan(80);
    for (const { input, bad } of cases) {
      expect(bad).toContain((await validationFailure(() => sms.send(input as never))).field);
      expect(bad).toContain((await validationFailure(() => sms.sendBatch(input as never))).field);
    }
    expect(emulator.requests()).toHaveLength(0);
  });

  it('checkKeyword(), changePassword(), fetchReports({ max }), fetchReplies(), reports()', async () => {
    for (const value of junk.content!) {
      expect((await validationFailure(() => sms.checkKeyword(value as never))).field).toBe(
        'content',
      );
      expect((await validationFailure(() => sms.changePassword(value as never))).field).toBe(
        'newPassword',
      );
    }
    for (const max of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null]) {
      expect((await validationFailure(() => sms.fetchReports({ max } as never))).field).toBe('max');
      expect((await validationFailure(() => sms.reports({ max } as never))).field).toBe('max');
    }
    for (const options of [null, 5, 'x']) {
      expect((await validationFailure(() => sms.fetchReplies(options as never))).field).toBe(
        'input',
      );
    }
    expect((await validationFailure(() => sms.replies({ intervalMs: Number.NaN }))).field).toBe(
      'intervalMs',
    );
    expect(emulator.requests()).toHaveLength(0);
  });
});

describe('SmsModule.forRoot with odd client options', () => {
  let platform: Emulator;
  beforeAll(async () => {
    platform = await startEmulator({ accounts: [ALPHA] });
  });
  afterAll(() => platform.close());

  it.each([
    ['baseUrl', { baseUrl: null }],
    ['baseUrl', { baseUrl: 'not a url' }],
    ['account', { account: 42 }],
    ['password', { password: 'a\u0000b' }],
    ['charset', { charset: 'latin1' }],
    ['timeoutMs', { timeoutMs: Number.NaN }],
    ['retry.retries', { retry: { retries: Number.NaN } }],
    ['connections', { connections: 0 }],
  ])('%s: the module does not start, with the VALIDATION SmsError', async (field, odd) => {
    const started = Test.createTestingModule({
      imports: [SmsModule.forRoot({ ...clientOptions(platform, ALPHA), ...odd } as never)],
    })
      .compile()
      .then(async (ref) => {
        await ref.init();
        return ref;
      });
    const error = await validationFailure(async () => {
      const ref = await started;
      await ref.close();
    });
    expect(error.field).toBe(field);
    expect(platform.requests()).toHaveLength(0);
  });
});

@Injectable()
class Handlers {
  @OnSmsReport()
  report(_report: StatusReport) {}

  @OnSmsReply()
  reply(_reply: Reply) {}
}

/**
 * Nest's own polling options go to `@sms/nest`'s poller, not to core: NaN as `intervalMs`
 * would poll in a hot loop, and a bad `maxReports` fail every poll. They should stop the
 * module from starting, as core's options do.
 */
describe('SmsModule polling options', () => {
  let platform: Emulator;
  beforeAll(async () => {
    platform = await startEmulator({ accounts: [ALPHA] });
  });
  afterAll(() => platform.close());

  it.each([
    ['polling.intervalMs', { reports: true, intervalMs: Number.NaN }],
    ['polling.intervalMs', { replies: true, intervalMs: -1 }],
    ['polling.intervalMs', { replies: true, intervalMs: '1000' }],
    ['polling.maxReports', { reports: true, maxReports: 0 }],
    ['polling.maxReports', { reports: true, maxReports: Number.NaN }],
    ['polling.shutdownTimeoutMs', { reports: true, shutdownTimeoutMs: Number.NaN }],
    ['polling.retry.attempts', { reports: true, retry: { attempts: Number.NaN } }],
  ])('%s: the module does not start, and nothing is polled', async (field, polling) => {
    platform.reset();
    const error = await validationFailure(async () => {
      const ref = await Test.createTestingModule({
        imports: [SmsModule.forRoot({ ...clientOptions(platform, ALPHA), polling } as never)],
        providers: [Handlers],
      }).compile();
      try {
        await ref.init();
        await new Promise((resolve) => setTimeout(resolve, 100));
      } finally {
        await ref.close();
      }
    });
    expect(error.field).toBe(field);
    expect(platform.requests()).toHaveLength(0);
  });
});
