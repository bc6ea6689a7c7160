/** The platform variants: signed v2 endpoints (no password on the wire) and smsJson.aspx. */
import { SmsClient } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

let emulator: Emulator;
const clients: SmsClient[] = [];
beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [{ userId: '12', account: 'demo', password: 'mima-123', balance: 50 }],
  });
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  emulator.reset();
});
afterAll(() => emulator.close());

function client(options: Partial<ConstructorParameters<typeof SmsClient>[0]>) {
  const created = new SmsClient({
    baseUrl: emulator.url,
    userId: '12',
    account: 'demo',
    password: 'mima-123',
    ...options,
  });
  clients.push(created);
  return created;
}

describe.each(['utf-8', 'gbk'] as const)('signed v2 endpoints, %s', (charset) => {
  it('sends, queries and pulls without the password ever on the wire', async () => {
    const sms = client({ auth: 'signed', charset });
    const sent = await sms.send({ mobiles: '13800138000', content: '【签名】你好' });
    expect(sent.successCounts).toBe(1);
    expect((await sms.balance()).overage).toBe(49);
    expect((await sms.checkKeyword('【签名】你好')).blocked).toBe(false);
    expect(await sms.fetchReports()).toHaveLength(1);
    expect(await sms.fetchReplies()).toEqual([]);
    const requests = emulator.requests();
    expect(requests.map((r) => r.path)).toEqual([
      charset === 'gbk' ? '/v2smsGBK.aspx' : '/v2sms.aspx',
      charset === 'gbk' ? '/v2smsGBK.aspx' : '/v2sms.aspx',
      charset === 'gbk' ? '/v2smsGBK.aspx' : '/v2sms.aspx',
      '/v2statusApi.aspx',
      '/v2callApi.aspx',
    ]);
    for (const request of requests) {
      expect(Object.keys(request.params).map((k) => k.toLowerCase())).not.toContain('password');
      expect(Object.keys(request.params).map((k) => k.toLowerCase())).toEqual(
        expect.arrayContaining(['timestamp', 'sign']),
      );
      expect(request.url).not.toContain('mima-123');
    }
  });

  it('a wrong password signs wrongly and is AUTH_FAILED', async () => {
    await expect(
      client({ auth: 'signed', charset, password: 'wrong' }).balance(),
    ).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });
});

describe('smsJson.aspx', () => {
  it('sends and reads the JSON answers, taskID exact', async () => {
    const sms = client({ format: 'json' });
    const sent = await sms.send({ mobiles: '13800138000', content: '【签名】json' });
    expect(sent).toEqual({
      taskId: '9007199254740993',
      successCounts: 1,
      remainPoint: 49,
      message: 'ok',
    });
    expect((await sms.balance()).payType).toBe('prepaid');
    expect((await sms.checkKeyword('【签名】赌博')).blocked).toBe(true);
    await expect(
      sms.send({ mobiles: '13800138000', content: '【签名】赌博' }),
    ).rejects.toMatchObject({ code: 'ILLEGAL_KEYWORD', words: ['赌博'] });
    expect(emulator.requests().map((r) => r.path)).toContain('/smsJson.aspx');
    expect(await sms.fetchReports()).toHaveLength(1);
  });

  it('refuses json with gbk before any request', () => {
    expect(() => client({ format: 'json', charset: 'gbk' })).toThrow(/json/);
  });
});
