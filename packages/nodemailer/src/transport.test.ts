import { SmsClient, SmsError } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { SmsTransportError } from './errors.js';
import { type SmsSentMessageInfo, SmsTransport, smsTransport } from './transport.js';

const ACCOUNT = { userId: '12', account: 'demo', password: 'secret' };

// The peer range starts at 6.9: run the suite through the newest 6.x as well as the current major.
// A computed specifier keeps TypeScript from looking for types nodemailer 6 does not ship.
const legacySpecifier: string = 'nodemailer-6';
const nodemailer6 = ((await import(legacySpecifier)) as { default: typeof nodemailer }).default;
const MAILERS = [
  { major: 'current', lib: nodemailer },
  { major: '6.x', lib: nodemailer6 },
];

let emulator: Emulator;
let options: { baseUrl: string; userId: string; account: string; password: string };

beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [{ ...ACCOUNT, balance: 100_000 }],
    requireSignature: true,
  });
  options = { baseUrl: emulator.url, ...ACCOUNT };
});
const opened: SmsTransport[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((transport) => transport.close()));
  emulator.reset();
});
afterAll(() => emulator.close());

function transporter(
  extra: Partial<ConstructorParameters<typeof SmsTransport>[0]> = {},
  lib: typeof nodemailer = nodemailer,
) {
  const transport = new SmsTransport({ ...options, signature: '测试', ...extra });
  opened.push(transport);
  return lib.createTransport(transport);
}

async function failure(promise: Promise<unknown>): Promise<SmsTransportError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SmsTransportError);
  return error as SmsTransportError;
}

describe.each(MAILERS)('sendMail through the real nodemailer ($major)', ({ lib }) => {
  it('sends text to every recipient form and reports the task ID as messageId', async () => {
    const mailer = transporter({}, lib);
    const info = await mailer.sendMail({
      from: 'shop@example.com',
      to: ['13800138000', '张三 <13800138001@sms>', { name: '李四', address: '13800138002' }],
      cc: '138 0013 8003, +86 13800138004',
      bcc: '0086-138-0013-8005',
      subject: 'ignored',
      text: '您的验证码是 1234',
    });
    expectTypeOf(info).toEqualTypeOf<SmsSentMessageInfo>();

    const sent = emulator.sent();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.mobiles).toEqual([
      '13800138000',
      '13800138001',
      '13800138002',
      '13800138003',
      '13800138004',
      '13800138005',
    ]);
    expect(sent[0]!.content).toBe('【测试】您的验证码是 1234');
    expect(info.messageId).toBe(sent[0]!.taskId);
    expect(info.taskIds).toEqual([sent[0]!.taskId]);
    expect(info.accepted).toEqual(sent[0]!.mobiles);
    expect(info.rejected).toEqual([]);
    expect(info.pending).toEqual([]);
    expect(info.envelope).toEqual({ from: 'shop@example.com', to: sent[0]!.mobiles });
    expect(info.successCounts).toBe(6);
    expect(info.remainPoint).toBe(emulator.account('demo').balance);
    expect(info.response).toContain(`taskID ${sent[0]!.taskId}`);
    mailer.close();
  });

  it('keeps a bare number written before a display-name address in the same list', async () => {
    // Nodemailer's address parser folds "13800138000, 张三" into one display name.
    const mailer = transporter({}, lib);
    const info = await mailer.sendMail({
      to: '13800138000, 张三 <13800138001@sms>, "Li, Si" <13800138002>, someone@example.com',
      text: 'hi',
    });
    expect(emulator.sent()[0]!.mobiles).toEqual(['13800138000', '13800138001', '13800138002']);
    expect(info.rejected).toEqual(['someone@example.com']);
  });

  it('puts invalid recipients in rejected and still sends to the valid ones', async () => {
    const mailer = transporter({}, lib);
    const info = await mailer.sendMail({
      to: '13800138000, someone@example.com, 1380013800x, 12345',
      text: '【测试】hello',
    });
    expect(emulator.sent()[0]!.mobiles).toEqual(['13800138000']);
    expect(info.accepted).toEqual(['13800138000']);
    expect(info.rejected).toEqual(['someone@example.com', '1380013800x', '12345']);
  });

  it('fails with EENVELOPE and sends nothing when no recipient is a mobile number', async () => {
    const mailer = transporter({}, lib);
    const error = await failure(mailer.sendMail({ to: 'a@example.com, 123', text: 'hi' }));
    expect(error.code).toBe('EENVELOPE');
    expect(error.rejected).toEqual(['a@example.com', '123']);
    expect(emulator.requests()).toHaveLength(0);
  });

  it('uses an explicit envelope instead of the headers', async () => {
    const mailer = transporter({}, lib);
    const info = await mailer.sendMail({
      envelope: { from: 'x@example.com', to: ['13900139000', '13900139001@sms'] },
      to: '13800138000',
      text: 'hi',
    });
    expect(emulator.sent()[0]!.mobiles).toEqual(['13900139000', '13900139001']);
    expect(info.accepted).toEqual(['13900139000', '13900139001']);
  });

  it('reduces html to text when there is no text part', async () => {
    const mailer = transporter({}, lib);
    await mailer.sendMail({
      to: '13800138000',
      html: '<p>验证码 <b>1234</b></p><p>5&nbsp;分钟内有效</p>',
    });
    expect(emulator.sent()[0]!.content).toBe('【测试】验证码 1234\n5 分钟内有效');
  });

  it('reads content from a Buffer (resolved by mail.normalize)', async () => {
    const mailer = transporter({}, lib);
    await mailer.sendMail({ to: '13800138000', text: Buffer.from('缓冲区内容') });
    expect(emulator.sent()[0]!.content).toBe('【测试】缓冲区内容');
  });

  it('maps X-SMS-Send-Time and X-SMS-Ext-No to sendTime and extno', async () => {
    const mailer = transporter({}, lib);
    await mailer.sendMail({
      to: '13800138000',
      text: 'later',
      headers: { 'X-SMS-Send-Time': '2030-01-02T00:00:00Z', 'x-sms-ext-no': '0123' },
    });
    const sent = emulator.sent()[0]!;
    expect(sent.sendTime).toBe('2030-01-02 08:00:00');
    expect(sent.extNo).toBe('0123');
    expect(sent.delivered).toBe(false);
  });

  it('chunks long recipient lists into several requests', async () => {
    const mailer = transporter({ chunkSize: 2 }, lib);
    const to = ['13800138000', '13800138001', '13800138002', '13800138003', '13800138004'];
    const info = await mailer.sendMail({ to, text: 'bulk' });
    const sent = emulator.sent();
    expect(sent.map((m) => m.mobiles.length)).toEqual([2, 2, 1]);
    expect(info.taskIds).toEqual(sent.map((m) => m.taskId));
    expect(info.messageId).toBe(sent[0]!.taskId);
    expect([...info.accepted].sort()).toEqual(to);
  });

  it('refuses with EMESSAGE when the platform blocks a keyword, keeping the SmsError as cause', async () => {
    const mailer = transporter({}, lib);
    const error = await failure(mailer.sendMail({ to: '13800138000', text: '赌博网站' }));
    expect(error.code).toBe('EMESSAGE');
    expect(error.command).toBe('send');
    expect(error.response).toBe('包含非法字符：赌博');
    expect(error.cause).toBeInstanceOf(SmsError);
    expect((error.cause as SmsError).code).toBe('ILLEGAL_KEYWORD');
    expect(emulator.sent()).toHaveLength(0);
  });

  it('refuses with EMESSAGE when the platform wants a signature and none is configured', async () => {
    const mailer = transporter({ signature: undefined }, lib);
    const error = await failure(mailer.sendMail({ to: '13800138000', text: 'no signature' }));
    expect(error.code).toBe('EMESSAGE');
    expect((error.cause as SmsError).code).toBe('SIGNATURE_REQUIRED');
  });

  it('fails with EMESSAGE before any request when there is no text', async () => {
    const mailer = transporter({}, lib);
    const error = await failure(mailer.sendMail({ to: '13800138000', subject: 'only a subject' }));
    expect(error.code).toBe('EMESSAGE');
    expect(emulator.requests()).toHaveLength(0);
  });

  it('fails with EAUTH on a wrong password, through the callback API too', async () => {
    const mailer = transporter({ password: 'wrong' }, lib);
    const error = await new Promise<Error | null>((resolve) =>
      mailer.sendMail({ to: '13800138000', text: 'hi' }, (err) => resolve(err)),
    );
    expect(error).toBeInstanceOf(SmsTransportError);
    expect((error as SmsTransportError).code).toBe('EAUTH');
    expect((error as SmsTransportError).response).toBe('用户名或密码错误');
    expect(error!.message).not.toContain('wrong');
  });

  it('fails with ETIMEDOUT when the outcome is unknown, and names the numbers as pending', async () => {
    emulator.setFault({ type: 'reset', action: 'send' });
    const mailer = transporter({}, lib);
    const error = await failure(mailer.sendMail({ to: '13800138000', text: 'lost answer' }));
    expect(error.code).toBe('ETIMEDOUT');
    expect((error.cause as SmsError).code).toBe('UNKNOWN_OUTCOME');
    expect(error.pending).toEqual(['13800138000']);
    // The platform did handle it: exactly once, never retried.
    expect(emulator.sent()).toHaveLength(1);
  });

  it('fails with EPROTOCOL and the HTTP status on an HTML error page', async () => {
    emulator.setFault({ type: 'html500', action: 'send' });
    const mailer = transporter({}, lib);
    const error = await failure(mailer.sendMail({ to: '13800138000', text: 'hi' }));
    expect(error.code).toBe('EPROTOCOL');
    expect(error.responseCode).toBe(500);
  });

  it('fails with ECONNECTION when nothing listens', async () => {
    const closed = await startEmulator({ accounts: [ACCOUNT] });
    const baseUrl = closed.url;
    await closed.close();
    const mailer = lib.createTransport(new SmsTransport({ ...ACCOUNT, baseUrl, retry: false }));
    const error = await failure(mailer.sendMail({ to: '13800138000', text: 'hi' }));
    expect(error.code).toBe('ECONNECTION');
    mailer.close();
  });
});

describe('GBK accounts', () => {
  it('sends through smsGBK.aspx, and refuses with EMESSAGE what GBK cannot carry', async () => {
    const mailer = transporter({ charset: 'gbk' });
    await mailer.sendMail({ to: '13800138000', text: '您好，世界' });
    const [sent] = emulator.sent();
    expect(sent!.charset).toBe('gbk');
    expect(sent!.content).toBe('【测试】您好，世界');

    const error = await failure(mailer.sendMail({ to: '13800138000', text: '表情 😀' }));
    expect(error.code).toBe('EMESSAGE');
    expect((error.cause as SmsError).code).toBe('VALIDATION');
    expect(emulator.sent()).toHaveLength(1);
  });
});

describe('verify', () => {
  it('resolves true with a balance query (promise form, as transporter.verify() calls it)', async () => {
    const mailer = transporter();
    await expect(mailer.verify()).resolves.toBe(true);
    expect(emulator.requests().map((r) => r.action)).toEqual(['overage']);
  });

  it('calls back (null, true), or with EAUTH', async () => {
    const ok = await new Promise<[Error | null, unknown]>((resolve) =>
      transporter().verify((err, success) => resolve([err, success])),
    );
    expect(ok).toEqual([null, true]);
    const bad = await new Promise<Error | null>((resolve) =>
      transporter({ password: 'nope' }).verify((err) => resolve(err)),
    );
    expect((bad as SmsTransportError).code).toBe('EAUTH');
    expect((bad as SmsTransportError).command).toBe('verify');
  });
});

describe('construction and close', () => {
  it('uses a client you pass in and leaves it open on close()', async () => {
    const client = new SmsClient(options);
    const transport = smsTransport({ client, signature: '测试' });
    expect(transport.client).toBe(client);
    await transport.close();
    await nodemailer.createTransport(transport).sendMail({ to: '13800138000', text: 'reuse' });
    expect(emulator.sent()).toHaveLength(1);
    await client.close();
  });

  it('has the name and version Nodemailer logs', () => {
    const transport = new SmsTransport(options);
    opened.push(transport);
    expect(transport.name).toBe('SmsTransport');
    expect(transport.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('throws ECONFIG on bad client options', () => {
    expect(() => new SmsTransport({ ...options, baseUrl: 'not a url' })).toThrow(
      expect.objectContaining({ code: 'ECONFIG' }),
    );
  });
});
