import { SmsClient, SmsError } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import fc from 'fast-check';
import NotifmeSdk from 'notifme-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SmsChannel, createSmsChannel } from './channel.js';
import { notifmeSmsProvider } from './notifme.js';
import { novuSmsProvider } from './novu.js';

/**
 * Odd payloads through every driver: each must reject with a `VALIDATION` `SmsError` (the
 * contract of every driver: they reject with what the channel rejects with) naming a field
 * that was wrong, and the emulator must not see one request.
 */
const ACCOUNT = { userId: '', account: 'odd', password: 'pw' };
let emulator: Emulator;
let client: SmsClient;
let channel: SmsChannel;

beforeAll(async () => {
  emulator = await startEmulator({ accounts: [{ ...ACCOUNT, balance: 1000 }] });
  client = new SmsClient({ baseUrl: emulator.url, ...ACCOUNT });
  channel = createSmsChannel(client, { signature: '测试' });
});
afterAll(async () => {
  await client.close();
  await emulator.close();
});

const HUGE = '8'.repeat(1 << 20);
const oddStrings = fc.oneof(
  fc.constant(HUGE),
  fc.string({ maxLength: 20 }).map((s) => `${s}\u0000${s}`),
  fc.string({ maxLength: 20 }).map((s) => `${s}\ud800`),
);
const nonStrings = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.object({ maxDepth: 1 }),
  fc.array(fc.oneof(fc.integer(), fc.constant(null)), { minLength: 1, maxLength: 3 }),
);
const junkTo = fc.oneof(
  fc.constant(undefined),
  nonStrings,
  oddStrings,
  fc.constantFrom('', [], ['12345'], 'someone@example.com'),
);
const junkText = fc.oneof(
  fc.constant(undefined),
  nonStrings,
  oddStrings.filter((s) => s !== HUGE),
  fc.constantFrom('', '  '),
);

/** `{ to, text }` with at least one of them junk, or a payload that is not an object. */
const payloads = fc.oneof(
  fc
    .record({
      to: fc.oneof(
        fc.constant({ ok: true, v: '13800138000' as unknown }),
        junkTo.map((v) => ({ ok: false, v })),
      ),
      text: fc.oneof(
        fc.constant({ ok: true, v: 'hello' as unknown }),
        junkText.map((v) => ({ ok: false, v })),
      ),
    })
    .filter(({ to, text }) => !to.ok || !text.ok)
    .map(({ to, text }) => ({
      payload: { to: to.v, text: text.v } as Record<string, unknown>,
      bad: [...(to.ok ? [] : ['mobiles']), ...(text.ok ? [] : ['content'])],
    })),
  fc
    .oneof(
      fc.constant(null),
      fc.integer(),
      fc.string({ maxLength: 5 }),
      fc.array(fc.integer(), { maxLength: 2 }),
    )
    .map((payload) => ({ payload: payload as unknown as Record<string, unknown>, bad: ['input'] })),
);

async function validationFailure(run: () => Promise<unknown>): Promise<SmsError> {
  const thrown = await run().then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(thrown instanceof SmsError)) {
    throw new Error(
      `expected an SmsError, got ${thrown === undefined ? 'success' : String(thrown)}`,
      {
        cause: thrown,
      },
    );
  }
  expect(thrown.code).toBe('VALIDATION');
  return thrown;
}

const drivers: Array<{
  name: string;
  send: (payload: Record<string, unknown>) => Promise<unknown>;
}> = [
  { name: 'createSmsChannel', send: (payload) => channel.send(payload as never) },
  {
    name: 'notifme provider',
    send: (payload) =>
      notifmeSmsProvider(channel).send(
        payload !== null && typeof payload === 'object' && !Array.isArray(payload)
          ? ({ from: 'Shop', ...payload } as never)
          : (payload as never),
      ),
  },
  {
    name: 'Novu provider',
    send: (payload) =>
      novuSmsProvider(channel).sendMessage(
        payload !== null && typeof payload === 'object' && !Array.isArray(payload)
          ? ({ to: payload.to, content: payload.text, from: 'Shop', customData: {} } as never)
          : (payload as never),
      ),
  },
];

describe('odd payloads are a VALIDATION SmsError and nothing is sent', () => {
  for (const driver of drivers) {
    it(driver.name, async () => {
      await fc.assert(
        fc.asyncProperty(payloads, async ({ payload, bad }) => {
          const error = await validationFailure(() => driver.send(payload));
          expect(bad).toContain(error.field);
        }),
        { numRuns: 150 },
      );
      expect(emulator.requests()).toHaveLength(0);
    });
  }

  it('text that is missing no longer sends the bare signature', async () => {
    const error = await validationFailure(() => channel.send({ to: '13800138000' } as never));
    expect(error.field).toBe('content');
    expect(emulator.requests()).toHaveLength(0);
  });

  it('through notifme-sdk: the odd payload fails the notification, nothing is sent', async () => {
    const notifme = new NotifmeSdk({
      channels: {
        sms: { providers: [notifmeSmsProvider(channel)], multiProviderStrategy: 'fallback' },
      },
    });
    notifme.logger.innerLogger.silent = true;
    for (const sms of [
      { from: 'Shop', to: 13800138000, text: 'x' },
      { from: 'Shop', to: '13800138000', text: { a: 1 } },
    ]) {
      const result = await notifme.send({ sms } as never);
      expect(result.status).toBe('error');
      expect(result.errors?.sms).toMatch(/\[sms\] .*must be/);
    }
    expect(emulator.requests()).toHaveLength(0);
  });

  it('odd channel options and a customize() that returns junk', async () => {
    for (const [options, field] of [
      [null, 'options'],
      [{ signature: 5 }, 'signature'],
      [{ signature: 'a\u0000' }, 'signature'],
      [{ chunkSize: 0 }, 'chunkSize'],
      [{ concurrency: Number.NaN }, 'concurrency'],
    ] as const) {
      const error = await validationFailure(async () => createSmsChannel(client, options as never));
      expect(error.field).toBe(field);
    }
    expect((await validationFailure(async () => createSmsChannel({} as never))).field).toBe(
      'client',
    );
    const provider = notifmeSmsProvider(channel);
    const error = await validationFailure(() =>
      provider.send({ to: '13800138000', text: 'x', customize: async () => null as never }),
    );
    expect(error.field).toBe('input');
    expect(emulator.requests()).toHaveLength(0);
  });
});
