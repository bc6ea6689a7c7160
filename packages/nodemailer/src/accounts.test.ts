/**
 * `SmsTransport` over several accounts (`accounts`, or an `SmsRouter` as `client`), on two
 * emulated resellers: a mail fails over only when its send surely did not go out, and the
 * emulators' own records say where each number went.
 */
import { createServer } from 'node:net';
import { SmsRouter } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { type SmsSentMessageInfo, SmsTransport } from './transport.js';

const A = { userId: '21', account: 'alpha', password: 'alpha-secret' };
const B = { userId: '', account: 'beta', password: 'beta-secret' };
let resellerA: Emulator;
let resellerB: Emulator;
const opened: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  resellerA = await startEmulator({ accounts: [{ ...A, balance: 1000 }] });
  resellerB = await startEmulator({ accounts: [{ ...B, balance: 1000 }] });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((item) => item.close()));
  resellerA.reset();
  resellerB.reset();
});
afterAll(async () => {
  await resellerA.close();
  await resellerB.close();
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const mail = {
  from: 'shop@example.com',
  to: '13800138000, 13800138001',
  text: '【测试】您的订单已发货',
};

it('accounts: a refused connection on a sends the mail on b, each number once', async () => {
  const port = await closedPort();
  const transport = new SmsTransport({
    accounts: [
      { name: 'a', options: { baseUrl: `http://127.0.0.1:${port}`, ...A, retry: false } },
      { name: 'b', options: { baseUrl: resellerB.url, ...B } },
    ],
  });
  opened.push(transport);
  const mailer = nodemailer.createTransport(transport);
  await expect(mailer.verify()).resolves.toBe(true); // b answers
  const info = (await mailer.sendMail(mail)) as unknown as SmsSentMessageInfo;
  expect(info.accepted).toEqual(['13800138000', '13800138001']);
  expect(resellerB.sent().map((m) => [m.taskId, m.mobiles])).toEqual([
    [info.messageId, ['13800138000', '13800138001']],
  ]);
  expect(resellerA.requests()).toHaveLength(0);
});

it('an SmsRouter as client: a reset after the request was written leaves the numbers pending, b never asked', async () => {
  resellerA.setFault({ type: 'reset', action: 'send', times: 1 });
  const router = new SmsRouter({
    accounts: [
      { name: 'a', options: { baseUrl: resellerA.url, ...A } },
      { name: 'b', options: { baseUrl: resellerB.url, ...B } },
    ],
  });
  opened.push(router);
  const transport = new SmsTransport({ client: router });
  opened.push(transport);
  const error = await nodemailer
    .createTransport(transport)
    .sendMail(mail)
    .catch((thrown: unknown) => thrown);
  expect(error).toMatchObject({ pending: ['13800138000', '13800138001'] });
  expect(resellerA.sent()).toHaveLength(1); // it went out on a
  expect(resellerB.requests()).toHaveLength(0);
});
