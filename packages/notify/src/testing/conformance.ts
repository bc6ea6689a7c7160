import { SmsClient } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SmsChannel, createSmsChannel } from '../channel.js';

/** One SMS notification as a test hands it to a driver's host library. */
export interface DriverMessage {
  to: string;
  text: string;
}

/**
 * A driver seen through its host library: `send` goes through the library's own API and
 * resolves to the id the library reports (or `undefined` if the library keeps none), and
 * rejects with an error whose message carries the `SmsError`'s.
 */
export interface DriverSender {
  send(message: DriverMessage): Promise<string | undefined>;
}

export interface TestSmsDriverOptions {
  name: string;
  /** Builds the host library around a driver over `channel`. */
  makeSender(channel: SmsChannel): DriverSender | Promise<DriverSender>;
  /** Whether the library hands the provider's id (the task ID) back to the caller. */
  returnsId: boolean;
}

const ACCOUNT = { userId: '12', account: 'notify', password: 'secret' };

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a rejection, got ${String(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(Error);
  return outcome.error as Error;
}

/**
 * The one suite every notification driver passes: a real emulator, a real `SmsClient`,
 * the driver's real host library; results are checked against what the emulator recorded.
 */
export function testSmsDriver(options: TestSmsDriverOptions): void {
  describe(`SMS driver conformance: ${options.name}`, () => {
    let emulator: Emulator;
    let client: SmsClient;
    const clients: SmsClient[] = [];

    beforeAll(async () => {
      emulator = await startEmulator({
        accounts: [{ ...ACCOUNT, balance: 10_000 }],
        requireSignature: true,
      });
      client = new SmsClient({ baseUrl: emulator.url, ...ACCOUNT });
      clients.push(client);
    });
    afterEach(() => emulator.reset());
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.close()));
      await emulator.close();
    });

    const sender = (channelOptions: { signature?: string; password?: string } = {}) => {
      let through = client;
      if (channelOptions.password !== undefined) {
        through = new SmsClient({
          baseUrl: emulator.url,
          ...ACCOUNT,
          password: channelOptions.password,
        });
        clients.push(through);
      }
      const signature = 'signature' in channelOptions ? channelOptions.signature : '测试';
      return options.makeSender(createSmsChannel(through, { signature }));
    };

    it('sends the text with the channel signature to the number', async () => {
      const id = await (await sender()).send({ to: '13800138000', text: '您的验证码是 1234' });
      const sent = emulator.sent();
      expect(sent).toHaveLength(1);
      expect(sent[0]!.mobiles).toEqual(['13800138000']);
      expect(sent[0]!.content).toBe('【测试】您的验证码是 1234');
      expect(id).toBe(options.returnsId ? sent[0]!.taskId : undefined);
    });

    it('normalises +86 prefixes, spaces and dashes', async () => {
      await (await sender()).send({ to: '+86 138-0013-8001', text: 'hi' });
      expect(emulator.sent()[0]!.mobiles).toEqual(['13800138001']);
    });

    it('keeps a signature the text already has', async () => {
      await (await sender()).send({ to: '13800138000', text: '【别家】hello' });
      expect(emulator.sent()[0]!.content).toBe('【别家】hello');
    });

    it('sends a long text as one message, billed in segments', async () => {
      const text = '长'.repeat(140);
      await (await sender()).send({ to: '13800138000', text });
      const sent = emulator.sent();
      expect(sent).toHaveLength(1);
      expect(sent[0]!.content).toBe(`【测试】${text}`);
      // 144 characters with the signature: ceil(144 / 67) = 3 segments.
      expect(sent[0]!.segments).toBe(3);
    });

    it('rejects an invalid number without sending anything', async () => {
      const error = await rejection((await sender()).send({ to: '12345', text: 'hi' }));
      expect(error.message).toContain('12345');
      expect(emulator.requests()).toHaveLength(0);
    });

    it('rejects what the platform refuses, with the platform code', async () => {
      const error = await rejection((await sender()).send({ to: '13800138000', text: '赌博' }));
      expect(error.message).toContain('ILLEGAL_KEYWORD');
      expect(emulator.sent()).toHaveLength(0);
    });

    it('rejects a missing signature when the platform requires one', async () => {
      const error = await rejection(
        (await sender({ signature: undefined })).send({ to: '13800138000', text: 'plain' }),
      );
      expect(error.message).toContain('SIGNATURE_REQUIRED');
    });

    it('rejects wrong credentials without leaking the password', async () => {
      const error = await rejection(
        (await sender({ password: 'hunter2-wrong' })).send({ to: '13800138000', text: 'hi' }),
      );
      expect(error.message).toContain('AUTH_FAILED');
      expect(error.message).not.toContain('hunter2-wrong');
    });

    it('rejects an unknown outcome and never sends twice', async () => {
      emulator.setFault({ type: 'reset', action: 'send' });
      const error = await rejection((await sender()).send({ to: '13800138000', text: 'hi' }));
      expect(error.message).toContain('outcome is unknown');
      expect(emulator.sent()).toHaveLength(1);
    });
  });
}
