import { SmsClient, SmsError } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SmsChannelError, createSmsChannel } from './channel.js';
import { testSmsDriver } from './testing/conformance.js';

testSmsDriver({
  name: 'createSmsChannel',
  returnsId: true,
  makeSender: (channel) => ({
    send: async (message) => (await channel.send(message)).id,
  }),
});

describe('createSmsChannel', () => {
  const ACCOUNT = { userId: '', account: 'chan', password: 'pw' };
  let emulator: Emulator;
  let client: SmsClient;

  beforeAll(async () => {
    emulator = await startEmulator({ accounts: [{ ...ACCOUNT, balance: 100 }] });
    client = new SmsClient({ baseUrl: emulator.url, ...ACCOUNT });
  });
  beforeEach(() => emulator.reset());
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  it('returns every task ID and the acceptance time when a list is chunked', async () => {
    const before = Date.now();
    const channel = createSmsChannel(client, { signature: '店', chunkSize: 2, concurrency: 1 });
    const result = await channel.send({
      to: '13800138000,13800138001，13800138002',
      text: '通知',
    });
    const sent = emulator.sent();
    expect(sent.map((m) => m.mobiles)).toEqual([['13800138000', '13800138001'], ['13800138002']]);
    expect(result.ids).toEqual(sent.map((m) => m.taskId));
    expect(result.id).toBe(sent[0]!.taskId);
    expect(result.date).toBeInstanceOf(Date);
    expect(result.date.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('reports a partial send with what went out, so nobody resends to everyone', async () => {
    emulator.setAccount({ account: 'chan', balance: 3 });
    const channel = createSmsChannel(client, { signature: '店', chunkSize: 2, concurrency: 1 });
    const error = await channel
      .send({
        to: ['13800138000', '13800138001', '13800138002', '13800138003'],
        text: 'x',
        id: 'n-1',
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(SmsChannelError);
    const partial = error as SmsChannelError;
    const sent = emulator.sent();
    expect(sent).toHaveLength(1);
    expect(partial.ids).toEqual([sent[0]!.taskId]);
    expect(partial.sent).toEqual(['13800138000', '13800138001']);
    expect(partial.failed).toEqual(['13800138002', '13800138003']);
    expect(partial.pending).toEqual([]);
    expect(partial.notificationId).toBe('n-1');
    expect((partial.cause as SmsError).code).toBe('INSUFFICIENT_BALANCE');
  });

  it('throws the SmsError itself when nothing was sent, tagged with the notification id', async () => {
    const channel = createSmsChannel(client);
    const error = await channel.send({ to: '13800138000', text: '   ', id: 'n-2' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SmsError);
    expect((error as SmsError).code).toBe('VALIDATION');
    expect((error as { notificationId?: string }).notificationId).toBe('n-2');
    expect(emulator.requests()).toHaveLength(0);
  });
});
