/** Platform variants: smsJson.aspx (JSON answers) and the signed v2 family. */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './index.js';
import { boxes, post, raw, tag } from './test-utils/raw.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [{ userId: '12', account: 'demo', password: 'mima', balance: 20 }],
  });
});
afterAll(() => emulator.close());
afterEach(() => emulator.reset());

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

describe('smsJson.aspx', () => {
  const auth = { userid: '12', account: 'demo', password: 'mima' };

  it('answers send with the XML keys as JSON strings (the taskID stays exact)', async () => {
    const res = await post(emulator.url, '/smsJson.aspx', {
      action: 'send',
      ...auth,
      mobile: '13800138000',
      content: '【签名】json',
    });
    expect(res.contentType).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.text)).toEqual({
      returnstatus: 'Success',
      message: 'ok',
      remainpoint: '19',
      taskID: '9007199254740993',
      successCounts: '1',
    });
    expect(res.text).toContain('"taskID":"9007199254740993"');
  });

  it('answers failures, overage and checkkeyword as JSON', async () => {
    const failed = JSON.parse(
      (
        await post(emulator.url, '/smsjson.aspx', {
          action: 'send',
          ...auth,
          mobile: '',
          content: 'x',
        })
      ).text,
    );
    expect(failed).toMatchObject({ returnstatus: 'Faild', message: '短信号码不能为空' });
    const overage = JSON.parse(
      (await post(emulator.url, '/smsJson.aspx', { action: 'overage', ...auth })).text,
    );
    expect(overage).toEqual({
      returnstatus: 'Sucess',
      message: '',
      payinfo: '预付费',
      overage: '20',
      sendTotal: '20',
    });
    const check = JSON.parse(
      (
        await post(emulator.url, '/smsJson.aspx', {
          action: 'checkkeyword',
          ...auth,
          content: '赌博',
        })
      ).text,
    );
    expect(check).toEqual({ message: '包含非法字符：赌博' });
  });

  it('malformed JSON under the malformed fault', async () => {
    emulator.setFault({ type: 'malformed', times: 1 });
    const res = await post(emulator.url, '/smsJson.aspx', { action: 'overage', ...auth });
    expect(() => JSON.parse(res.text)).toThrow();
  });
});

describe('v2 signed endpoints', () => {
  const signed = (timestamp = '20120701231212', password = 'mima') => ({
    userid: '12',
    timestamp,
    sign: md5(`demo${password}${timestamp}`),
  });

  it('accepts the documented example: account test, password mima, 20120701231212', async () => {
    emulator.setAccount({ account: 'test', userId: '7', password: 'mima' });
    const res = await post(emulator.url, '/v2sms.aspx', {
      action: 'overage',
      userid: '7',
      timestamp: '20120701231212',
      sign: '5cc68982f55ac74348e3d819f868fbe1',
    });
    expect(tag(res.text, 'returnstatus')).toBe('Sucess');
  });

  it('v2sms.aspx sends with userid + timestamp + sign, no password on the wire', async () => {
    const res = await post(emulator.url, '/v2sms.aspx', {
      action: 'send',
      ...signed(),
      mobile: '13800138000',
      content: '【签名】v2',
      sendTime: '',
      extno: '',
    });
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(emulator.sent()[0]).toMatchObject({ account: 'demo', content: '【签名】v2' });
    expect(emulator.requests()[0]?.params.sign).toBe('***');
  });

  it('v2smsGBK.aspx reads GBK and accepts an uppercase sign and an account name', async () => {
    const fields = { ...signed(), sign: signed().sign.toUpperCase(), account: 'demo' };
    const res = await post(
      emulator.url,
      '/v2smsGBK.aspx',
      { action: 'send', ...fields, mobile: '13800138000', content: '【签名】国标' },
      'gbk',
    );
    expect(res.contentType).toBe('text/xml; charset=gb2312');
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(emulator.sent()[0]?.content).toBe('【签名】国标');
  });

  it('用户名或密码不能为空 without a sign or timestamp; 用户名或密码错误 for a wrong one', async () => {
    const noSign = await post(emulator.url, '/v2sms.aspx', {
      action: 'overage',
      userid: '12',
      account: 'demo',
      password: 'mima',
      timestamp: '20120701231212',
    });
    expect(tag(noSign.text, 'message')).toBe('用户名或密码不能为空');
    const wrong = await post(emulator.url, '/v2sms.aspx', {
      action: 'overage',
      ...signed('20120701231212', 'nope'),
    });
    expect(tag(wrong.text, 'message')).toBe('用户名或密码错误');
    const otherUser = await post(emulator.url, '/v2sms.aspx', {
      action: 'overage',
      ...signed(),
      userid: '99',
    });
    expect(tag(otherUser.text, 'message')).toBe('用户名或密码错误');
    const ok = await post(emulator.url, '/v2sms.aspx', { action: 'overage', ...signed() });
    expect(tag(ok.text, 'returnstatus')).toBe('Sucess');
  });

  it('v2statusApi.aspx and v2callApi.aspx pull with a signature', async () => {
    await post(emulator.url, '/v2sms.aspx', {
      action: 'send',
      ...signed(),
      mobile: '13800138000',
      content: '【签名】v2',
    });
    emulator.injectReply({ account: 'demo', mobile: '13800138000', content: '好' });
    const reports = await raw(emulator.url, {
      path: `/v2statusApi.aspx?action=query&userid=12&timestamp=20120701231212&sign=${signed().sign}`,
    });
    expect(boxes(reports.text, 'statusbox')).toHaveLength(1);
    const replies = await post(emulator.url, '/v2callApi.aspx', { action: 'query', ...signed() });
    expect(boxes(replies.text, 'callbox')[0]?.content).toBe('好');
    const bad = await post(emulator.url, '/v2statusApi.aspx', { action: 'query', userid: '12' });
    expect(tag(bad.text, 'error')).toBe('1');
  });

  it('after changespwd the signature uses the new password', async () => {
    const res = await post(emulator.url, '/v2sms.aspx', {
      action: 'changespwd',
      ...signed(),
      newpwd: 'neu',
      renewpwd: 'neu',
    });
    expect(tag(res.text, 'message')).toBe('密码修改成功');
    expect(
      tag(
        (await post(emulator.url, '/v2sms.aspx', { action: 'overage', ...signed() })).text,
        'message',
      ),
    ).toBe('用户名或密码错误');
    expect(
      tag(
        (
          await post(emulator.url, '/v2sms.aspx', {
            action: 'overage',
            ...signed('20260101000000', 'neu'),
          })
        ).text,
        'returnstatus',
      ),
    ).toBe('Sucess');
  });
});
