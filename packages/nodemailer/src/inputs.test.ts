import { SmsError } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import fc from 'fast-check';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmsTransportError } from './errors.js';
import { SmsTransport } from './transport.js';

/**
 * Odd `sendMail()` input through the real Nodemailer: the only acceptable failure is the
 * transport's documented `SmsTransportError` with a `VALIDATION` `SmsError` as `cause`, and
 * the emulator must not have seen a single request.
 */
const ACCOUNT = { userId: '12', account: 'demo', password: 'secret' };
let emulator: Emulator;
let transport: SmsTransport;
let mailer: ReturnType<typeof nodemailer.createTransport>;

beforeAll(async () => {
  emulator = await startEmulator({ accounts: [{ ...ACCOUNT, balance: 100_000 }] });
  transport = new SmsTransport({ baseUrl: emulator.url, ...ACCOUNT, signature: '测试' });
  mailer = nodemailer.createTransport(transport);
});
afterAll(async () => {
  await transport.close();
  await emulator.close();
});

const HUGE = '9'.repeat(1 << 20);
const oddStrings = fc.oneof(
  fc.constant(HUGE),
  fc.string({ maxLength: 20 }).map((s) => `${s}\u0000${s}`),
  fc.string({ maxLength: 20 }).map((s) => `${s}\ud800`),
);
function plainObject(maxDepth: number) {
  return fc
    .object({ maxDepth })
    .filter((o) => !Object.keys(o).some((key) => key in Object.prototype));
}
const oddValues = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  // An object shadowing toString/valueOf crashes Nodemailer's own address parser before
  // any transport is called (nothing is sent, but the error is Nodemailer's): left out.
  plainObject(1),
  fc.array(fc.oneof(fc.integer(), fc.constant(null), plainObject(0)), {
    maxLength: 3,
  }),
  oddStrings,
);
const PAST = '2001-01-01 09:00:00';

async function validationFailure(mail: Record<string, unknown>): Promise<SmsTransportError> {
  const error = await mailer.sendMail(mail as never).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof SmsTransportError)) {
    throw new Error(`expected an SmsTransportError, got ${String(error)}`, { cause: error });
  }
  expect(error.cause).toBeInstanceOf(SmsError);
  expect((error.cause as SmsError).code).toBe('VALIDATION');
  return error;
}

describe('sendMail() with odd input: SmsTransportError wrapping a VALIDATION SmsError, nothing sent', () => {
  it('odd to (no mobile number in it)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(oddValues, fc.constantFrom(undefined, '', 'someone@example.com', ['12345'])),
        async (to) => {
          const error = await validationFailure({ to, text: 'hello' });
          expect(error.code).toBe('EENVELOPE');
          expect((error.cause as SmsError).field).toBe('mobiles');
        },
      ),
      { numRuns: 60 },
    );
    expect(emulator.requests()).toHaveLength(0);
  });

  it('odd text (and no html)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          oddValues.filter((v) => typeof v !== 'string' || v !== HUGE),
          fc.constantFrom(undefined, '', '   '),
        ),
        async (text) => {
          const error = await validationFailure({ to: '13800138000', text });
          expect(error.code).toBe('EMESSAGE');
          expect((error.cause as SmsError).field).toBe('content');
        },
      ),
      { numRuns: 60 },
    );
    expect(emulator.requests()).toHaveLength(0);
  });

  it('odd X-SMS-Send-Time and X-SMS-Ext-No headers, a send time in 2001', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .oneof(oddValues, fc.constantFrom(PAST, 'tomorrow', '2001-01-01T00:00:00Z'))
            .map((value) => ({ 'X-SMS-Send-Time': value, field: 'sendTime' })),
          fc
            .oneof(oddValues, fc.constantFrom('abc', '12345678901', -1))
            .map((value) => ({ 'X-SMS-Ext-No': value, field: 'extNo' })),
        ),
        async ({ field, ...headers }) => {
          // Nodemailer drops null/empty header values itself: those send normally.
          const value = Object.values(headers)[0];
          fc.pre(
            typeof value === 'string'
              ? value.trim() !== ''
              : value !== null && !(Array.isArray(value) && value.every((v) => v == null)),
          );
          const error = await validationFailure({ to: '13800138000', text: 'hi', headers });
          expect(error.code).toBe('EMESSAGE');
          expect((error.cause as SmsError).field).toBe(field);
        },
      ),
      { numRuns: 80 },
    );
    expect(emulator.requests()).toHaveLength(0);
  });

  it('says why a send time in the past is refused', async () => {
    const error = await validationFailure({
      to: '13800138000',
      text: 'hi',
      headers: { 'X-SMS-Send-Time': PAST },
    });
    expect(error.message).toMatch(/in the past/);
    expect(emulator.requests()).toHaveLength(0);
  });

  it('odd transport options: ECONFIG wrapping a VALIDATION SmsError', () => {
    for (const options of [
      null,
      undefined,
      42,
      { baseUrl: emulator.url, account: 'a', password: 'p', signature: 42 },
      { baseUrl: emulator.url, account: 'a', password: 'p', signature: 'a\u0000b' },
      { baseUrl: emulator.url, account: 'a', password: 'p', chunkSize: 0 },
      { baseUrl: emulator.url, account: 'a', password: 'p', concurrency: Number.NaN },
      { baseUrl: emulator.url, account: 'a', password: 'p', timeoutMs: Number.NaN },
      { baseUrl: emulator.url, account: null, password: 'p' },
      { client: 'not a client' },
    ]) {
      let thrown: unknown;
      try {
        new SmsTransport(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(options)).toBeInstanceOf(SmsTransportError);
      expect((thrown as SmsTransportError).code).toBe('ECONFIG');
      expect((thrown as SmsTransportError).cause).toBeInstanceOf(SmsError);
    }
    expect(emulator.requests()).toHaveLength(0);
  });
});
