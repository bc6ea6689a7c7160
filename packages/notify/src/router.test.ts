/**
 * A channel over `@sms/core`'s `SmsRouter` on two emulated resellers: chunks fail over only
 * when they surely did not go out; the emulators' own records say where each number went.
 */
import { SmsRouter } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { SmsChannelError, createSmsChannel } from './channel.js';

const A = { userId: '', account: 'alpha', password: 'alpha-pw' };
const B = { userId: '', account: 'beta', password: 'beta-pw' };
let resellerA: Emulator;
let resellerB: Emulator;
let router: SmsRouter;

beforeAll(async () => {
  resellerA = await startEmulator({ accounts: [{ ...A, balance: 1000 }] });
  resellerB = await startEmulator({ accounts: [{ ...B, balance: 1000 }] });
  router = new SmsRouter({
    breaker: false,
    accounts: [
      { name: 'a', options: { baseUrl: resellerA.url, ...A } },
      { name: 'b', options: { baseUrl: resellerB.url, ...B } },
    ],
  });
});
afterEach(() => {
  resellerA.reset();
  resellerB.reset();
});
afterAll(async () => {
  await router.close();
  await resellerA.close();
  await resellerB.close();
});

const to = ['13800138000', '13800138001', '13800138002', '13800138003'];

it('a runs out of balance mid-list: b sends the rest, every number once', async () => {
  resellerA.setAccount({ account: 'alpha', balance: 3 });
  const channel = createSmsChannel(router, { signature: '店', chunkSize: 2, concurrency: 1 });
  const result = await channel.send({ to, text: '通知' });
  expect(resellerA.sent().map((m) => m.mobiles)).toEqual([to.slice(0, 2)]);
  expect(resellerB.sent().map((m) => m.mobiles)).toEqual([to.slice(2)]);
  expect(result.ids).toEqual([resellerA.sent()[0]!.taskId, resellerB.sent()[0]!.taskId]);
});

it('a reset after the request was written: those numbers are pending, b never asked', async () => {
  resellerA.setFault({ type: 'reset', action: 'send', times: 1 });
  const channel = createSmsChannel(router, { signature: '店', chunkSize: 2, concurrency: 1 });
  const error = await channel.send({ to, text: '通知' }).catch((thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(SmsChannelError);
  expect(error).toMatchObject({ pending: to.slice(0, 2), sent: to.slice(2) });
  // The pending chunk went out on a (once); the next chunk on a too; b was never needed.
  expect(resellerA.sent().map((m) => m.mobiles)).toEqual([to.slice(0, 2), to.slice(2)]);
  expect(resellerB.requests()).toHaveLength(0);
});
