/**
 * sms.aspx and smsGBK.aspx, every action and every message of the interface text,
 * with raw requests built by hand.
 */
import iconv from 'iconv-lite';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './index.js';
import {
  type Charset,
  encodeValue,
  form,
  isReturnSms,
  multipart,
  post,
  raw,
  tag,
} from './test-utils/raw.js';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [
      { userId: '12', account: 'demo', password: 'secret', balance: 100 },
      { userId: '13', account: 'post', password: 'pw', payType: 'postpaid', balance: 5 },
      { userId: '14', account: 'md5', password: 'E10ADC3949BA59ABBE56E057F20F883E', balance: 10 },
    ],
    keywords: ['赌博', '六合彩', 'casino'],
  });
});
afterAll(() => emulator.close());
afterEach(() => emulator.reset());

const paths: Array<[Charset, string]> = [
  ['utf-8', '/sms.aspx'],
  ['gbk', '/smsGBK.aspx'],
];

const auth = { userid: '12', account: 'demo', password: 'secret' };

describe.each(paths)('%s endpoint %s', (charset, path) => {
  const send = (fields: Record<string, string>) =>
    post(
      emulator.url,
      path,
      { action: 'send', ...auth, sendTime: '', extno: '', ...fields },
      charset,
    );

  it('answers with the declared content type and the spec envelope', async () => {
    const res = await post(emulator.url, path, { action: 'overage', ...auth }, charset);
    expect(res.status).toBe(200);
    expect(res.contentType).toBe(
      charset === 'gbk' ? 'text/xml; charset=gb2312' : 'text/xml; charset=utf-8',
    );
    expect(isReturnSms(res.text)).toBe(true);
  });

  it('send: Success, ok, remainpoint, a numeric taskID beyond 2^53, successCounts', async () => {
    const content = '【测试】您的验证码是 1234，请勿泄露';
    const res = await send({ mobile: '13800138000,13900139000', content });
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(tag(res.text, 'message')).toBe('ok');
    expect(tag(res.text, 'remainpoint')).toBe('98');
    const taskId = tag(res.text, 'taskID')!;
    expect(taskId).toMatch(/^\d{16,}$/);
    expect(BigInt(taskId) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(tag(res.text, 'successCounts')).toBe('2');
    const [message] = emulator.sent();
    expect(message).toMatchObject({
      taskId,
      account: 'demo',
      mobiles: ['13800138000', '13900139000'],
      content,
      segments: 1,
      cost: 2,
      charset,
    });
    expect(emulator.account('demo').balance).toBe(98);
  });

  it('send: GBK/UTF-8 content with every kind of character arrives exactly', async () => {
    const content = '【签名】￥100元，"引号" & <尖括号> 50% + 空格 a=b&c';
    const res = await send({ mobile: '13800138000', content });
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(emulator.sent()[0]?.content).toBe(content);
  });

  it('send: bills segments x numbers (71 characters = 2 segments)', async () => {
    const content = `【签名】${'长'.repeat(67)}`;
    expect([...content].length).toBe(71);
    const res = await send({ mobile: '13800138000,13800138001,13800138002', content });
    expect(tag(res.text, 'remainpoint')).toBe(String(100 - 2 * 3));
    expect(emulator.sent()[0]).toMatchObject({ segments: 2, cost: 6 });
  });

  it('send: invalid numbers in the list are dropped and not counted', async () => {
    const res = await send({ mobile: '13800138000,12345,abc,13900139000', content: '【签名】hi' });
    expect(tag(res.text, 'successCounts')).toBe('2');
    expect(emulator.sent()[0]?.invalidMobiles).toEqual(['12345', 'abc']);
    expect(emulator.account('demo').balance).toBe(98);
  });

  it('send: each call gets a new, larger taskID', async () => {
    const first = tag(
      (await send({ mobile: '13800138000', content: '【签名】1' })).text,
      'taskID',
    )!;
    const second = tag(
      (await send({ mobile: '13800138000', content: '【签名】2' })).text,
      'taskID',
    )!;
    expect(BigInt(second)).toBe(BigInt(first) + 1n);
  });

  it('send: 对不起，您当前要发送的量大于您当前余额 when a prepaid balance is short', async () => {
    emulator.setAccount({ account: 'demo', balance: 1 });
    const res = await send({ mobile: '13800138000,13900139000', content: '【签名】hi' });
    expect(tag(res.text, 'returnstatus')).toBe('Faild');
    expect(tag(res.text, 'message')).toBe('对不起，您当前要发送的量大于您当前余额');
    expect(tag(res.text, 'taskID')).toBe('');
    expect(emulator.sent()).toHaveLength(0);
    expect(emulator.account('demo').balance).toBe(1);
  });

  it('send: postpaid accounts are never refused and may go negative', async () => {
    const res = await post(
      emulator.url,
      path,
      {
        action: 'send',
        userid: '13',
        account: 'post',
        password: 'pw',
        mobile: Array(10).fill('13800138000').join(','),
        content: '【签名】hi',
      },
      charset,
    );
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(tag(res.text, 'remainpoint')).toBe('-5');
    expect(emulator.account('post').balance).toBe(-5);
  });

  it.each([
    ["it's", "' (ASCII quote)"],
    ['a -- b', '--'],
    ['1; drop table users', '; drop'],
    ['DELETE FROM users', 'delete from'],
    ['x union select password', 'union select'],
    ['exec xp_cmdshell', 'exec'],
  ])('send: 发送内容包含sql注入字符 for %j', async (content) => {
    const res = await send({ mobile: '13800138000', content: `【签名】${content}` });
    expect(tag(res.text, 'returnstatus')).toBe('Faild');
    expect(tag(res.text, 'message')).toBe('发送内容包含sql注入字符');
    expect(emulator.sent()).toHaveLength(0);
  });

  it('send: ordinary Chinese text with full-width punctuation is not SQL injection', async () => {
    const content =
      '【京东】尊敬的客户：您的订单已发货；请注意查收！更新（update）时间：明天—后天。';
    const res = await send({ mobile: '13800138000', content });
    expect(tag(res.text, 'message')).toBe('ok');
  });

  it('send: 短信号码不能为空 for an empty mobile, or a list without one valid number', async () => {
    for (const mobile of ['', '  ', '123,abc']) {
      const res = await send({ mobile, content: '【签名】hi' });
      expect(tag(res.text, 'returnstatus')).toBe('Faild');
      expect(tag(res.text, 'message')).toBe('短信号码不能为空');
    }
  });

  it('send: 短信内容不能为空 for empty or blank content', async () => {
    for (const content of ['', '   ']) {
      const res = await send({ mobile: '13800138000', content });
      expect(tag(res.text, 'message')).toBe('短信内容不能为空');
    }
  });

  it('send: 包含非法字符：words names every blocked word', async () => {
    const res = await send({ mobile: '13800138000', content: '【签名】赌博和六合彩 CASINO' });
    expect(tag(res.text, 'returnstatus')).toBe('Faild');
    expect(tag(res.text, 'message')).toBe('包含非法字符：赌博,六合彩,casino');
    expect(emulator.sent()).toHaveLength(0);
  });

  it('send: 其他错误 for an unparseable sendTime or a bad extno', async () => {
    const cases: Array<Record<string, string>> = [
      { sendTime: 'tomorrow' },
      { sendTime: '2026-02-30 10:00:00' },
      { extno: '12a' },
      { extno: '12345678901' },
    ];
    for (const fields of cases) {
      const res = await send({ mobile: '13800138000', content: '【签名】hi', ...fields });
      expect(tag(res.text, 'message')).toBe('其他错误');
    }
  });

  it('send: extno of up to 10 digits is kept as typed (leading zero)', async () => {
    await send({ mobile: '13800138000', content: '【签名】hi', extno: '01' });
    expect(emulator.sent()[0]?.extNo).toBe('01');
  });

  it('auth: 用户名或密码不能为空 for an empty account or password, on every action', async () => {
    for (const action of ['send', 'overage', 'changespwd']) {
      const cases: Array<Record<string, string>> = [
        { account: '', password: 'secret' },
        { account: 'demo', password: '' },
        {},
      ];
      for (const creds of cases) {
        const res = await post(
          emulator.url,
          path,
          {
            action,
            userid: '12',
            ...creds,
            mobile: '13800138000',
            content: '【签名】hi',
            newpwd: 'x',
            renewpwd: 'x',
          },
          charset,
        );
        expect(tag(res.text, 'returnstatus')).toBe('Faild');
        expect(tag(res.text, 'message')).toBe('用户名或密码不能为空');
      }
    }
    const check = await post(
      emulator.url,
      path,
      { action: 'checkkeyword', userid: '12', account: 'demo', content: 'x' },
      charset,
    );
    expect(tag(check.text, 'message')).toBe('用户名或密码不能为空');
  });

  it('auth: 用户名或密码错误 for a wrong password, an unknown account or a wrong userid', async () => {
    for (const creds of [
      { userid: '12', account: 'demo', password: 'nope' },
      { userid: '12', account: 'nobody', password: 'secret' },
      { userid: '99', account: 'demo', password: 'secret' },
    ]) {
      for (const action of ['send', 'overage', 'checkkeyword', 'changespwd']) {
        const res = await post(
          emulator.url,
          path,
          {
            action,
            ...creds,
            mobile: '13800138000',
            content: '【签名】hi',
            newpwd: 'x',
            renewpwd: 'x',
          },
          charset,
        );
        expect(tag(res.text, 'message')).toBe('用户名或密码错误');
      }
    }
    expect(emulator.sent()).toHaveLength(0);
    expect(emulator.account('demo').password).toBe('secret');
  });

  it('auth: an empty userid works with account + password; MD5-style passwords are opaque', async () => {
    const res = await post(
      emulator.url,
      path,
      {
        action: 'overage',
        userid: '',
        account: 'md5',
        password: 'E10ADC3949BA59ABBE56E057F20F883E',
      },
      charset,
    );
    expect(tag(res.text, 'returnstatus')).toBe('Sucess');
    const lower = await post(
      emulator.url,
      path,
      {
        action: 'overage',
        userid: '',
        account: 'md5',
        password: 'e10adc3949ba59abbe56e057f20f883e',
      },
      charset,
    );
    expect(tag(lower.text, 'message')).toBe('用户名或密码错误');
  });

  it('overage: Sucess (sic), empty message, 预付费, overage and sendTotal', async () => {
    await send({ mobile: '13800138000', content: '【签名】hi' });
    const res = await post(emulator.url, path, { action: 'overage', ...auth }, charset);
    expect(tag(res.text, 'returnstatus')).toBe('Sucess');
    expect(tag(res.text, 'message')).toBe('');
    expect(tag(res.text, 'payinfo')).toBe('预付费');
    expect(tag(res.text, 'overage')).toBe('99');
    expect(tag(res.text, 'sendTotal')).toBe('100');
  });

  it('overage: 后付费, and sendTotal counts what a postpaid account sent', async () => {
    const creds = { userid: '13', account: 'post', password: 'pw' };
    await post(
      emulator.url,
      path,
      { action: 'send', ...creds, mobile: '13800138000,13900139000', content: '【签名】hi' },
      charset,
    );
    const res = await post(emulator.url, path, { action: 'overage', ...creds }, charset);
    expect(tag(res.text, 'payinfo')).toBe('后付费');
    expect(tag(res.text, 'overage')).toBe('3');
    expect(tag(res.text, 'sendTotal')).toBe('2');
  });

  it('checkkeyword: 没有包含屏蔽词 / 包含非法字符, message only', async () => {
    const clean = await post(
      emulator.url,
      path,
      { action: 'checkkeyword', ...auth, content: '【签名】你好' },
      charset,
    );
    expect(clean.text).toMatch(/<returnsms><message>没有包含屏蔽词<\/message><\/returnsms>$/);
    const blocked = await post(
      emulator.url,
      path,
      { action: 'checkkeyword', ...auth, content: '来赌博吧' },
      charset,
    );
    // Named, as real servers do (a check that hides the word is no help).
    expect(tag(blocked.text, 'message')).toBe('包含非法字符：赌博');
    expect(tag(blocked.text, 'returnstatus')).toBeUndefined();
  });

  it('changespwd: 密码修改成功 with a checkCounts element; the old password stops working', async () => {
    const res = await post(
      emulator.url,
      path,
      { action: 'changespwd', ...auth, newpwd: '新密码1', renewpwd: '新密码1' },
      charset,
    );
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(tag(res.text, 'message')).toBe('密码修改成功');
    expect(res.text).toContain('<checkCounts></checkCounts>');
    expect(emulator.account('demo').password).toBe('新密码1');
    const old = await post(emulator.url, path, { action: 'overage', ...auth }, charset);
    expect(tag(old.text, 'message')).toBe('用户名或密码错误');
    const fresh = await post(
      emulator.url,
      path,
      { action: 'overage', ...auth, password: '新密码1' },
      charset,
    );
    expect(tag(fresh.text, 'returnstatus')).toBe('Sucess');
  });

  it('changespwd: refuses differing or empty new passwords and keeps the old one', async () => {
    const differ = await post(
      emulator.url,
      path,
      { action: 'changespwd', ...auth, newpwd: 'a', renewpwd: 'b' },
      charset,
    );
    expect(tag(differ.text, 'returnstatus')).toBe('Faild');
    expect(tag(differ.text, 'message')).toBe('两次输入的密码不一致');
    const empty = await post(
      emulator.url,
      path,
      { action: 'changespwd', ...auth, newpwd: '', renewpwd: '' },
      charset,
    );
    expect(tag(empty.text, 'returnstatus')).toBe('Faild');
    expect(emulator.account('demo').password).toBe('secret');
  });

  it('an unknown or missing action answers Faild + 其他错误', async () => {
    for (const action of ['launch', '']) {
      const res = await post(emulator.url, path, { action, ...auth }, charset);
      expect(tag(res.text, 'returnstatus')).toBe('Faild');
      expect(tag(res.text, 'message')).toBe('其他错误');
    }
  });

  it('accepts a GET query string', async () => {
    const query = form(
      { action: 'send', ...auth, mobile: '13800138000', content: '【签名】查询串' },
      charset,
    );
    const res = await raw(emulator.url, { path: `${path}?${query}` });
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(emulator.sent()[0]?.content).toBe('【签名】查询串');
  });

  it('accepts parameters split between the URL and the body', async () => {
    const res = await raw(emulator.url, {
      path: `${path}?action=send&userid=12`,
      body: form(
        { account: 'demo', password: 'secret', mobile: '13800138000', content: '【签名】分开' },
        charset,
      ),
    });
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(emulator.sent()[0]?.content).toBe('【签名】分开');
  });

  it('treats parameter names and the path case-insensitively', async () => {
    const body = `ACTION=Send&UserId=12&Account=demo&PassWord=secret&Mobile=13800138000&CONTENT=${encodeValue('【签名】大小写', charset)}&SendTime=&ExtNo=7`;
    const res = await raw(emulator.url, { path: path.toUpperCase(), body });
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(emulator.sent()[0]).toMatchObject({ content: '【签名】大小写', extNo: '7' });
  });

  it('reads a multipart/form-data body (as PHP curl sends an array)', async () => {
    const content = '【签名】多部分 a=b&c\r\n第二行';
    const { body, contentType } = multipart(
      { action: 'send', ...auth, mobile: '13800138000', content },
      charset,
    );
    const res = await raw(emulator.url, { path, body, contentType });
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(emulator.sent()[0]?.content).toBe(content);
  });

  it('reads raw, unencoded charset bytes in a form body (as old clients send them)', async () => {
    const content = '【签名】原始字节';
    const text = `action=send&userid=12&account=demo&password=secret&mobile=13800138000&content=${content}`;
    const body = charset === 'gbk' ? iconv.encode(text, 'gbk') : Buffer.from(text, 'utf8');
    const res = await raw(emulator.url, { path, body });
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(emulator.sent()[0]?.content).toBe(content);
  });

  it('decodes + as a space and keeps %2B as a plus', async () => {
    const res = await raw(emulator.url, {
      path,
      body: `action=send&userid=12&account=demo&password=secret&mobile=13800138000&content=${encodeValue('【签名】', charset)}a+b%2Bc`,
    });
    expect(tag(res.text, 'returnstatus')).toBe('Success');
    expect(emulator.sent()[0]?.content).toBe('【签名】a b+c');
  });
});

describe('charsets', () => {
  it('smsGBK.aspx answers GB2312 bytes (not UTF-8) under an XML declaration that says utf-8', async () => {
    const res = await post(emulator.url, '/smsGBK.aspx', { action: 'overage', ...auth }, 'gbk');
    expect(res.contentType).toBe('text/xml; charset=gb2312');
    expect(res.bytes.includes(Buffer.from('预付费', 'utf8'))).toBe(false);
    expect(res.text).toContain('<payinfo>预付费</payinfo>');
    expect(res.text.startsWith('<?xml version="1.0" encoding="utf-8" ?>')).toBe(true);
  });

  it('smsGBK.aspx reads GBK bytes: the same bytes on sms.aspx are not the same text', async () => {
    const content = '【签名】中文内容';
    await post(
      emulator.url,
      '/smsGBK.aspx',
      { action: 'send', ...auth, mobile: '13800138000', content },
      'gbk',
    );
    await post(
      emulator.url,
      '/sms.aspx',
      { action: 'send', ...auth, mobile: '13800138000', content },
      'gbk',
    );
    const [gbk, utf8] = emulator.sent();
    expect(gbk?.content).toBe(content);
    expect(gbk?.charset).toBe('gbk');
    expect(utf8?.content).not.toBe(content);
  });

  it('escapes XML special characters in answers', async () => {
    emulator.setAccount({ account: 'demo', password: 'secret' });
    emulator.injectReply({ account: 'demo', mobile: '13800138000', content: 'a<b>&"c"' });
    const res = await post(emulator.url, '/callApi.aspx', { action: 'query', ...auth });
    expect(res.text).toContain('<content>a&lt;b&gt;&amp;&quot;c&quot;</content>');
  });

  it('ignores a body that is not a form (parameters must then come from the query)', async () => {
    const res = await raw(emulator.url, {
      path: '/sms.aspx?action=overage',
      body: JSON.stringify(auth),
      contentType: 'application/json',
    });
    expect(tag(res.text, 'message')).toBe('用户名或密码不能为空');
  });

  it('answers an HTML 404 for unknown paths', async () => {
    const res = await raw(emulator.url, { path: '/nope.aspx' });
    expect(res.status).toBe(404);
    expect(res.contentType).toContain('text/html');
  });
});

describe('options', () => {
  it('requireSignature: 需要签名 without a 【…】 at the start or end', async () => {
    const strict = await startEmulator({
      accounts: [{ userId: '1', account: 'a', password: 'p' }],
      requireSignature: true,
    });
    try {
      const creds = {
        action: 'send',
        userid: '1',
        account: 'a',
        password: 'p',
        mobile: '13800138000',
      };
      for (const [charset, path] of paths) {
        for (const content of ['验证码 1234', '验证码【签名】1234', '【签名验证码 1234']) {
          const unsigned = await post(strict.url, path, { ...creds, content }, charset);
          expect(tag(unsigned.text, 'returnstatus')).toBe('Faild');
          expect(tag(unsigned.text, 'message')).toBe('需要签名');
        }
        for (const content of ['【签名】验证码 1234', '验证码 1234【签名】']) {
          const signed = await post(strict.url, path, { ...creds, content }, charset);
          expect(tag(signed.text, 'returnstatus')).toBe('Success');
        }
      }
      expect(strict.sent()).toHaveLength(4);
    } finally {
      await strict.close();
    }
  });

  it('successMessage, checkKeywordWords, custom SQL patterns (strings and /regex/), firstTaskId', async () => {
    const custom = await startEmulator({
      accounts: [{ userId: '1', account: 'a', password: 'p' }],
      successMessage: '操作成功',
      checkKeywordWords: false,
      keywords: ['禁词'],
      sqlInjectionPatterns: ['SELECT', '/^x+$/'],
      firstTaskId: '1234567890123456789',
    });
    const creds = { userid: '1', account: 'a', password: 'p' };
    try {
      const ok = await post(custom.url, '/sms.aspx', {
        action: 'send',
        ...creds,
        mobile: '13800138000',
        content: "it's -- fine",
      });
      expect(tag(ok.text, 'message')).toBe('操作成功');
      expect(tag(ok.text, 'taskID')).toBe('1234567890123456789');
      for (const content of ['please select one', 'xxx']) {
        const sql = await post(custom.url, '/sms.aspx', {
          action: 'send',
          ...creds,
          mobile: '13800138000',
          content,
        });
        expect(tag(sql.text, 'message')).toBe('发送内容包含sql注入字符');
      }
      const check = await post(custom.url, '/sms.aspx', {
        action: 'checkkeyword',
        ...creds,
        content: '有禁词',
      });
      expect(tag(check.text, 'message')).toBe('包含非法字符');
    } finally {
      await custom.close();
    }
  });
});
