import { SmsClient } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import NotifmeSdk from 'notifme-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSmsChannel } from './channel.js';
import { type NotifmeSmsRequest, notifmeSmsProvider } from './notifme.js';
import { testSmsDriver } from './testing/conformance.js';

function sdk(providers: unknown[], multiProviderStrategy = 'fallback') {
  const notifme = new NotifmeSdk({ channels: { sms: { providers, multiProviderStrategy } } });
  // notifme logs every provider failure it falls back from; the tests assert them instead.
  notifme.logger.innerLogger.silent = true;
  return notifme;
}

testSmsDriver({
  name: 'notifme-sdk',
  returnsId: true,
  makeSender: (channel) => {
    const notifme = sdk([notifmeSmsProvider(channel)]);
    return {
      async send({ to, text }) {
        const result = await notifme.send({ sms: { from: 'Shop', to, text } });
        if (result.status !== 'success') throw new Error(result.errors?.sms ?? 'notifme error');
        expect(result.channels?.sms?.providerId).toBe('sms-ruanwei');
        return result.channels?.sms?.id;
      },
    };
  },
});

describe('notifme-sdk strategies', () => {
  const ACCOUNT = { userId: '', account: 'notifme', password: 'pw' };
  let emulator: Emulator;
  let good: SmsClient;
  let bad: SmsClient;

  beforeAll(async () => {
    emulator = await startEmulator({ accounts: [ACCOUNT] });
    good = new SmsClient({ baseUrl: emulator.url, ...ACCOUNT });
    bad = new SmsClient({ baseUrl: emulator.url, ...ACCOUNT, password: 'wrong' });
  });
  beforeEach(() => emulator.reset());
  afterAll(async () => {
    await Promise.all([good.close(), bad.close()]);
    await emulator.close();
  });

  it('falls back to the next provider when the platform refuses', async () => {
    const backupCalls: NotifmeSmsRequest[] = [];
    const notifme = sdk([
      notifmeSmsProvider(createSmsChannel(bad, { signature: '店' }), { id: 'primary' }),
      {
        type: 'custom',
        id: 'backup',
        send: async (request: NotifmeSmsRequest) => {
          backupCalls.push(request);
          return 'backup-id';
        },
      },
    ]);
    const result = await notifme.send({ sms: { from: 'Shop', to: '13800138000', text: 'hi' } });
    expect(result).toEqual({
      status: 'success',
      channels: { sms: { id: 'backup-id', providerId: 'backup' } },
    });
    expect(backupCalls).toHaveLength(1);
    expect(emulator.sent()).toHaveLength(0);
    expect(emulator.requests()).toHaveLength(1);
  });

  it('is used as the fallback of a failing provider', async () => {
    const notifme = sdk([
      {
        type: 'custom',
        id: 'flaky',
        send: async () => {
          throw new Error('down');
        },
      },
      notifmeSmsProvider(createSmsChannel(good, { signature: '店' })),
    ]);
    const result = await notifme.send({ sms: { from: 'Shop', to: '13800138000', text: 'hi' } });
    const sent = emulator.sent();
    expect(sent).toHaveLength(1);
    expect(result.channels?.sms).toEqual({ id: sent[0]!.taskId, providerId: 'sms-ruanwei' });
  });

  it("applies notifme's customize hook with its provider id", async () => {
    const notifme = sdk([notifmeSmsProvider(createSmsChannel(good), { id: 'cn' })]);
    await notifme.send({
      sms: {
        from: 'Shop',
        to: '13800138000',
        text: 'generic',
        customize: async (providerId: string, request: NotifmeSmsRequest) => ({
          ...request,
          text: `【${providerId}】customised`,
        }),
      },
    });
    expect(emulator.sent()[0]!.content).toBe('【cn】customised');
  });
});
