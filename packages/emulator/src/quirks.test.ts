/** Wild-server XML (quirks), raw and through SmsClient. */
import { SmsClient, type SmsError, isSmsError } from '@sms/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './index.js';
import { boxes, post, raw, tag } from './test-utils/raw.js';

const auth = { userid: '12', account: 'demo', password: 'secret' };

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [
      { userId: '12', account: 'demo', password: 'secret', balance: 100 },
      { userId: '13', account: 'barred', password: 'pw', reportsAllowed: false },
    ],
    quirks: true,
  });
});
afterAll(() => emulator.close());
afterEach(() => emulator.reset());

describe('raw', () => {
  it('CRLF, a single-quoted declaration, spaced closing tags, 预付 and a BOM on UTF-8', async () => {
    const res = await post(emulator.url, '/sms.aspx', { action: 'overage', ...auth });
    expect([...res.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = res.text.replace(/^\uFEFF/, '');
    expect(text.startsWith("<?xml version='1.0' encoding='utf-8'?>\r\n")).toBe(true);
    expect(text).toContain('\r\n  <payinfo>预付</payinfo >\r\n');
    expect(tag(text, 'overage')).toBe('100');
  });

  it('no BOM on the GBK endpoint', async () => {
    const res = await post(emulator.url, '/smsGBK.aspx', { action: 'overage', ...auth }, 'gbk');
    expect(res.bytes[0]).toBe('<'.charCodeAt(0));
    expect(tag(res.text, 'payinfo')).toBe('预付');
  });

  it('< checkCounts > </ checkCounts > exactly as the interface text prints it', async () => {
    const res = await post(emulator.url, '/sms.aspx', {
      action: 'changespwd',
      ...auth,
      newpwd: 'n',
      renewpwd: 'n',
    });
    expect(res.text).toContain('< checkCounts > </ checkCounts >');
    expect(tag(res.text, 'message')).toBe('密码修改成功');
  });

  it('an extra <userid> in each box, <returnsms/> when empty, send-style pull errors', async () => {
    await post(emulator.url, '/sms.aspx', {
      action: 'send',
      ...auth,
      mobile: '13800138000',
      content: '【签名】hi',
    });
    const reports = await post(emulator.url, '/statusApi.aspx', { action: 'query', ...auth });
    expect(boxes(reports.text, 'statusbox')).toEqual([
      expect.objectContaining({ userid: '12', mobile: '13800138000', status: '10' }),
    ]);
    const empty = await post(emulator.url, '/statusApi.aspx', { action: 'query', ...auth });
    expect(empty.text.endsWith('<returnsms/>')).toBe(true);
    const barred = await post(emulator.url, '/statusApi.aspx', {
      action: 'query',
      userid: '13',
      account: 'barred',
      password: 'pw',
    });
    expect(tag(barred.text, 'returnstatus')).toBe('Faild');
    expect(tag(barred.text, 'message')).toBe('该用户不允许查看状态报告');
    expect(barred.text).not.toContain('errorstatus');
  });

  it('setQuirks switches at run time; reset() restores the option; the control API too', async () => {
    emulator.setQuirks(false);
    expect((await post(emulator.url, '/sms.aspx', { action: 'overage', ...auth })).text).toMatch(
      /^<\?xml version="1\.0" encoding="utf-8" \?>\n<returnsms><returnstatus>Sucess/,
    );
    emulator.setQuirks({ shortPayInfo: true });
    const short = await post(emulator.url, '/sms.aspx', { action: 'overage', ...auth });
    expect(short.text).toContain('<payinfo>预付</payinfo>');
    expect(short.text.startsWith('<?xml version="1.0"')).toBe(true);
    emulator.reset();
    expect((await post(emulator.url, '/sms.aspx', { action: 'overage', ...auth })).text).toContain(
      '</payinfo >',
    );
    const set = await raw(emulator.url, {
      method: 'POST',
      path: '/__emulator/quirks',
      body: '{"selfClosingEmpty":true}',
      contentType: 'application/json',
    });
    expect(JSON.parse(set.text)).toEqual({ selfClosingEmpty: true });
    const empty = await post(emulator.url, '/callApi.aspx', { action: 'query', ...auth });
    expect(empty.text).toBe('<?xml version="1.0" encoding="utf-8" ?>\n<returnsms/>');
  });
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

describe.each(['utf-8', 'gbk'] as const)('SmsClient against every quirk over %s', (charset) => {
  it('every operation still works', async () => {
    const client = new SmsClient({
      baseUrl: emulator.url,
      userId: '12',
      account: 'demo',
      password: 'secret',
      charset,
      retry: false,
    });
    const barred = new SmsClient({
      baseUrl: emulator.url,
      account: 'barred',
      password: 'pw',
      charset,
      retry: false,
    });
    try {
      const sent = await client.send({
        mobiles: ['13800138000'],
        content: '【签名】怪异',
        extNo: '01',
      });
      expect(sent).toMatchObject({ taskId: '9007199254740993', successCounts: 1, remainPoint: 99 });
      expect(await client.balance()).toMatchObject({
        payType: 'prepaid',
        overage: 99,
        sendTotal: 100,
      });
      expect((await client.checkKeyword('赌博')).blocked).toBe(true);
      const reports = await client.fetchReports();
      expect(reports.map((r) => [r.mobile, r.taskId, r.status, r.extNo])).toEqual([
        ['13800138000', sent.taskId, 'delivered', '01'],
      ]);
      expect(await client.fetchReports()).toEqual([]);
      emulator.injectReply({ account: 'demo', mobile: '13800138000', content: '收到' });
      expect((await client.fetchReplies()).map((r) => r.content)).toEqual(['收到']);
      expect(await client.fetchReplies()).toEqual([]);
      expect((await client.changePassword('second')).message).toBe('密码修改成功');
      expect((await failure(barred.fetchReports())).code).toBe('REPORTS_NOT_PERMITTED');
    } finally {
      await client.close();
      await barred.close();
    }
  });
});
