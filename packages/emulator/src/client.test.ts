/**
 * Cross-check with @sms/core's SmsClient, after the raw-HTTP tests: every operation and
 * every platform error code through the real client, on both charsets.
 */
import { SmsClient, type SmsError, isSmsError } from '@sms/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './index.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [
      { userId: '12', account: 'demo', password: 'secret', balance: 10 },
      { userId: '', account: 'barred', password: 'pw', reportsAllowed: false },
    ],
    keywords: ['赌博'],
    requireSignature: true,
    report: { failMobiles: ['13900000000'] },
    autoReplies: [{ contains: 'TD', reply: '退订' }],
  });
});
afterAll(() => emulator.close());
afterEach(() => {
  emulator.reset();
  emulator.setFault(null);
});

async function failure(promise: Promise<unknown>): Promise<SmsError> {
  try {
    await promise;
  } catch (error) {
    if (isSmsError(error)) return error;
    throw error;
  }
  throw new Error('expected an SmsError');
}

describe.each(['utf-8', 'gbk'] as const)('SmsClient over %s', (charset) => {
  let client: SmsClient;
  beforeAll(() => {
    client = new SmsClient({
      baseUrl: emulator.url,
      userId: '12',
      account: 'demo',
      password: 'secret',
      charset,
      retry: false,
    });
  });
  afterAll(() => client.close());

  it('send, balance, reports, replies', async () => {
    const sent = await client.send({
      mobiles: ['13800138000', '13900000000'],
      content: '【签名】回复TD退订',
      extNo: '01',
    });
    expect(sent).toMatchObject({ successCounts: 2, remainPoint: 8, message: 'ok' });
    expect(sent.taskId).toBe(emulator.sent()[0]?.taskId);
    expect(sent.taskId).toBe('9007199254740993');
    expect(emulator.sent()[0]?.content).toBe('【签名】回复TD退订');
    expect(await client.balance()).toMatchObject({ payType: 'prepaid', overage: 8, sendTotal: 10 });
    const reports = await client.fetchReports();
    expect(reports.map((r) => [r.mobile, r.status, r.taskId, r.extNo])).toEqual([
      ['13800138000', 'delivered', sent.taskId, '01'],
      ['13900000000', 'failed', sent.taskId, '01'],
    ]);
    expect(await client.fetchReports()).toEqual([]);
    const replies = await client.fetchReplies();
    expect(replies.map((r) => [r.mobile, r.content, r.taskId])).toEqual([
      ['13800138000', '退订', sent.taskId],
      ['13900000000', '退订', sent.taskId],
    ]);
  });

  it('checkKeyword and changePassword', async () => {
    expect(await client.checkKeyword('你好')).toMatchObject({ blocked: false });
    // The words reach the client (what `sms check` prints), as from real servers.
    expect(await client.checkKeyword('来赌博吧')).toMatchObject({
      blocked: true,
      words: ['赌博'],
      message: '包含非法字符：赌博',
    });
    const other = new SmsClient({
      baseUrl: emulator.url,
      account: 'demo',
      password: 'secret',
      charset,
      retry: false,
    });
    try {
      expect((await other.changePassword('新的')).message).toBe('密码修改成功');
      expect(emulator.account('demo').password).toBe('新的');
      expect((await other.balance()).overage).toBe(10);
      expect((await failure(client.balance())).code).toBe('AUTH_FAILED');
    } finally {
      await other.close();
    }
  });

  it('maps every send refusal to its code', async () => {
    const cases: Array<[Parameters<SmsClient['send']>[0], string]> = [
      [{ mobiles: '13800138000', content: "【签名】it's" }, 'SQL_INJECTION'],
      [{ mobiles: '13800138000', content: '【签名】赌博' }, 'ILLEGAL_KEYWORD'],
      [{ mobiles: '13800138000', content: '没有签名' }, 'SIGNATURE_REQUIRED'],
      [
        {
          mobiles: Array.from({ length: 11 }, (_, n) => `138001380${String(n).padStart(2, '0')}`),
          content: '【签名】多',
        },
        'INSUFFICIENT_BALANCE',
      ],
    ];
    for (const [input, code] of cases) {
      const error = await failure(client.send(input));
      expect(error.code).toBe(code);
      expect(error.action).toBe('send');
    }
    expect(
      (await failure(client.send({ mobiles: '13800138000', content: '【签名】赌博' }))).words,
    ).toEqual(['赌博']);
    const wrong = new SmsClient({
      baseUrl: emulator.url,
      account: 'demo',
      password: 'nope',
      charset,
      retry: false,
    });
    try {
      expect(
        (await failure(wrong.send({ mobiles: '13800138000', content: '【签名】x' }))).code,
      ).toBe('AUTH_FAILED');
      expect((await failure(wrong.fetchReports())).code).toBe('AUTH_FAILED');
    } finally {
      await wrong.close();
    }
    expect(emulator.sent()).toHaveLength(0);
  });

  it('REPORTS_NOT_PERMITTED for a barred account', async () => {
    const barred = new SmsClient({
      baseUrl: emulator.url,
      account: 'barred',
      password: 'pw',
      charset,
      retry: false,
    });
    try {
      expect((await failure(barred.fetchReports())).code).toBe('REPORTS_NOT_PERMITTED');
    } finally {
      await barred.close();
    }
  });

  it('faults: HTTP for html500, PROTOCOL for malformed XML, UNKNOWN_OUTCOME for a reset send', async () => {
    emulator.setFault({ type: 'html500', times: 1 });
    const http = await failure(client.balance());
    expect(http.code).toBe('HTTP');
    expect(http.status).toBe(500);
    emulator.setFault({ type: 'malformed', times: 1 });
    expect((await failure(client.balance())).code).toBe('PROTOCOL');
    emulator.setFault({ type: 'reset', action: 'send', times: 1 });
    expect(
      (await failure(client.send({ mobiles: '13800138000', content: '【签名】重置' }))).code,
    ).toBe('UNKNOWN_OUTCOME');
    expect(emulator.sent()).toHaveLength(1);
    // Handled and billed, then cut off mid-answer: not NETWORK ("safe to resend") but
    // UNKNOWN_OUTCOME, and not resent.
    emulator.setFault({ type: 'truncate', action: 'send', times: 1 });
    expect(
      (await failure(client.send({ mobiles: '13800138000', content: '【签名】截断' }))).code,
    ).toBe('UNKNOWN_OUTCOME');
    expect(emulator.sent()).toHaveLength(2);
    expect(emulator.requests().filter((r) => r.action === 'send')).toHaveLength(2);
  });
});
