import { describe, expect, it } from 'vitest';
import { decodeForm } from './charset.js';
import { SmsError } from './errors.js';
import {
  buildChangePasswordRequest,
  buildReportsRequest,
  buildSendRequest,
  parseBalanceResponse,
  parseChangePasswordResponse,
  parseCheckKeywordResponse,
  parseRepliesResponse,
  parseReportsResponse,
  parseSendResponse,
} from './protocol.js';

const creds = { userId: '12', account: 'demo', password: 'S3CRET-PW' };
const DECL = '<?xml version="1.0" encoding="utf-8" ?>';

function expectSmsError(fn: () => unknown, code: string): SmsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SmsError);
    expect((error as SmsError).code).toBe(code);
    return error as SmsError;
  }
  throw new Error(`expected an SmsError ${code}`);
}

describe('requests', () => {
  it('builds the send form in the spec order with normalised numbers', () => {
    const wire = buildSendRequest(creds, {
      mobiles: '+86 138-0013-8000，0086 13900139000',
      content: '【测试】验证码 1234',
      sendTime: new Date(Date.UTC(2036, 11, 1, 1, 0, 0)),
      extNo: '01',
    });
    expect(wire.path).toBe('/sms.aspx');
    expect(wire.contentType).toBe('application/x-www-form-urlencoded');
    const form = decodeForm(wire.body, 'utf-8');
    expect([...form.keys()]).toEqual([
      'action',
      'userid',
      'account',
      'password',
      'mobile',
      'content',
      'sendtime',
      'extno',
    ]);
    expect(form.get('mobile')).toBe('13800138000,13900139000');
    expect(form.get('content')).toBe('【测试】验证码 1234');
    expect(form.get('sendtime')).toBe('2036-12-01 09:00:00');
    expect(form.get('extno')).toBe('01');
  });

  it('encodes GBK values as GBK bytes on smsGBK.aspx', () => {
    const wire = buildSendRequest(creds, { mobiles: ['13800138000'], content: '你好' }, 'gbk');
    expect(wire.path).toBe('/smsGBK.aspx');
    expect(wire.body.toString('latin1')).toContain('content=%C4%E3%BA%C3');
    expect(decodeForm(wire.body, 'gbk').get('content')).toBe('你好');
  });

  it('refuses characters GBK cannot hold before any request', () => {
    const error = expectSmsError(
      () =>
        buildSendRequest(creds, { mobiles: ['13800138000'], content: '【签名】笑一个😀' }, 'gbk'),
      'VALIDATION',
    );
    expect(error.field).toBe('content');
    expect(error.message).toContain('😀');
  });

  it.each([
    [{ mobiles: [], content: 'x' }, 'mobiles'],
    [{ mobiles: ['12345'], content: 'x' }, 'mobiles'],
    [{ mobiles: ['13800138000'], content: '   ' }, 'content'],
    [{ mobiles: ['13800138000'], content: 'x', extNo: 'abc' }, 'extNo'],
    [{ mobiles: ['13800138000'], content: 'x', extNo: '12345678901' }, 'extNo'],
    [{ mobiles: ['13800138000'], content: 'x', sendTime: 'tomorrow' }, 'sendTime'],
    [{ mobiles: ['13800138000'], content: 'x', sendTime: new Date(Number.NaN) }, 'sendTime'],
  ])('rejects invalid send input %#', (input, field) => {
    expect(expectSmsError(() => buildSendRequest(creds, input), 'VALIDATION').field).toBe(field);
  });

  it('never puts the password in an error message', () => {
    const error = expectSmsError(
      () => buildSendRequest(creds, { mobiles: ['1'], content: 'x' }),
      'VALIDATION',
    );
    expect(JSON.stringify(error.toJSON()) + error.message).not.toContain(creds.password);
  });

  it('sends both new-password fields and statusNum only when asked', () => {
    const pw = decodeForm(buildChangePasswordRequest(creds, 'n3w').body, 'utf-8');
    expect(pw.get('newpwd')).toBe('n3w');
    expect(pw.get('renewpwd')).toBe('n3w');
    expect(decodeForm(buildReportsRequest(creds).body, 'utf-8').has('statusnum')).toBe(false);
    expect(decodeForm(buildReportsRequest(creds, { max: 10 }).body, 'utf-8').get('statusnum')).toBe(
      '10',
    );
  });
});

describe('send responses', () => {
  it('reads the spec answer, keeping a 16-digit taskID exact', () => {
    const result = parseSendResponse(
      `${DECL}\r\n<returnsms>\r\n<returnstatus>Success</returnstatus>\r\n<message>ok</message>\r\n<remainpoint> 988</remainpoint>\r\n<taskID>1234567890123456789</taskID>\r\n<successCounts>2</successCounts></returnsms>`,
    );
    expect(result).toEqual({
      taskId: '1234567890123456789',
      successCounts: 2,
      remainPoint: 988,
      message: 'ok',
    });
  });

  it('accepts 操作成功, single quotes, whitespace in tags and leading blank lines', () => {
    const result = parseSendResponse(
      `\r\n  <?xml version='1.0' encoding='utf-8'?>\n<returnsms >< returnstatus >Success</ returnstatus >\n<message>操作成功</message><remainpoint>5</remainpoint><taskID>77</taskID ><successCounts>1</successCounts><userid>12</userid ></returnsms>`,
    );
    expect(result.message).toBe('操作成功');
    expect(result.taskId).toBe('77');
  });

  it.each([
    ['用户名或密码不能为空', 'AUTH_MISSING'],
    ['用户名或密码错误', 'AUTH_FAILED'],
    ['发送内容包含sql注入字符', 'SQL_INJECTION'],
    ['短信号码不能为空', 'MOBILE_EMPTY'],
    ['短信内容不能为空', 'CONTENT_EMPTY'],
    ['对不起，您当前要发送的量大于您当前余额', 'INSUFFICIENT_BALANCE'],
    ['需要签名', 'SIGNATURE_REQUIRED'],
    ['其他错误', 'PLATFORM_ERROR'],
    ['数据库繁忙', 'PLATFORM_ERROR'],
  ])('maps Faild %s to %s', (message, code) => {
    const error = expectSmsError(
      () =>
        parseSendResponse(
          `${DECL}<returnsms><returnstatus>Faild</returnstatus><message>${message}</message><remainpoint>0</remainpoint><taskID></taskID><successCounts>0</successCounts></returnsms>`,
        ),
      code,
    );
    expect(error.platformMessage).toBe(message);
    expect(error.action).toBe('send');
  });

  it('parses the blocked words of 包含非法字符', () => {
    const error = expectSmsError(
      () =>
        parseSendResponse(
          `${DECL}<returnsms><returnstatus>Faild</returnstatus><message>包含非法字符：赌博，发票</message></returnsms>`,
        ),
      'ILLEGAL_KEYWORD',
    );
    expect(error.words).toEqual(['赌博', '发票']);
  });

  it.each([
    ['an empty body', ''],
    ['an HTML page', '<!DOCTYPE html><html><body>Server Error in "/" Application.</body></html>'],
    ['a truncated body', `${DECL}<returnsms><returnstatus>Success</returnstatus><message>o`],
    ['garbage', '\u0000\u0001 not xml at all'],
    ['another root', '<error>nope</error>'],
  ])('turns %s into a PROTOCOL error with an excerpt', (_, body) => {
    const error = expectSmsError(() => parseSendResponse(body), 'PROTOCOL');
    expect(error.excerpt?.length ?? 0).toBeLessThanOrEqual(201);
  });
});

describe('balance, keyword and password responses', () => {
  it('accepts Sucess (sic) and Success, 预付 and 后付费', () => {
    expect(
      parseBalanceResponse(
        `${DECL}<returnsms><returnstatus>Sucess</returnstatus><message></message><payinfo>预付费</payinfo><overage>1000</overage><sendTotal>2000</sendTotal></returnsms>`,
      ),
    ).toEqual({ payType: 'prepaid', overage: 1000, sendTotal: 2000, payInfo: '预付费' });
    expect(
      parseBalanceResponse(
        `<returnsms><returnstatus>Success</returnstatus><message/><payinfo>后付费</payinfo><overage>0</overage><sendTotal>17</sendTotal></returnsms>`,
      ).payType,
    ).toBe('postpaid');
    expect(
      parseBalanceResponse(
        `<returnsms><returnstatus>Sucess</returnstatus><payinfo>预付</payinfo><overage>3.5</overage><sendTotal>4</sendTotal></returnsms>`,
      ).overage,
    ).toBe(3.5);
  });

  it('maps a failed balance query', () => {
    expectSmsError(
      () =>
        parseBalanceResponse(
          `<returnsms><returnstatus>Faild</returnstatus><message>用户名或密码错误</message></returnsms>`,
        ),
      'AUTH_FAILED',
    );
  });

  it('reads keyword check answers', () => {
    expect(
      parseCheckKeywordResponse(`${DECL}<returnsms><message>没有包含屏蔽词</message></returnsms>`),
    ).toEqual({
      blocked: false,
      words: [],
      message: '没有包含屏蔽词',
    });
    expect(
      parseCheckKeywordResponse(`<returnsms><message>包含非法字符</message></returnsms>`).blocked,
    ).toBe(true);
    expect(
      parseCheckKeywordResponse(`<returnsms><message>包含非法字符：赌博</message></returnsms>`)
        .words,
    ).toEqual(['赌博']);
    expectSmsError(
      () =>
        parseCheckKeywordResponse(`<returnsms><message>用户名或密码不能为空</message></returnsms>`),
      'AUTH_MISSING',
    );
  });

  it('reads the password change answer with < checkCounts >', () => {
    expect(
      parseChangePasswordResponse(
        `${DECL}<returnsms><returnstatus>Success</returnstatus><message>密码修改成功</message>< checkCounts > </ checkCounts ></returnsms>`,
      ),
    ).toEqual({ message: '密码修改成功' });
  });
});

describe('pull responses', () => {
  const spec = `${DECL} \r\n<returnsms>\r\n<statusbox>\r\n<mobile>15023239810</mobile>\r\n<taskid>1212</taskid>\r\n<status>10</status>\r\n<receivetime>2011-12-02 22:12:11</receivetime>\r\n<errorcode>DELIVRD</errorcode>\r\n<extno>01</extno>\r\n</statusbox>\r\n<statusbox>\r\n<mobile>15023239811</mobile>\r\n<taskid>1212</taskid>\r\n<status>20</status>\r\n<receivetime>2011-12-02 22:12:11</receivetime>\r\n<errorcode>2</errorcode>\r\n<extno></extno>\r\n<userid>12</userid>\r\n</statusbox>\r\n</returnsms>`;

  it('reads the spec example, extno 01 kept, time read as UTC+8', () => {
    const [first, second] = parseReportsResponse(spec);
    expect(first).toEqual({
      mobile: '15023239810',
      taskId: '1212',
      status: 'delivered',
      statusCode: 10,
      receivedAt: new Date('2011-12-02T14:12:11.000Z'),
      receiveTime: '2011-12-02 22:12:11',
      errorCode: 'DELIVRD',
      extNo: '01',
    });
    expect(second?.status).toBe('failed');
    expect(second?.errorCode).toBe('2');
  });

  it.each([
    '<returnsms></returnsms>',
    '<returnsms/>',
    `${DECL}\r\n<returnsms>\r\n</returnsms>`,
    "<?xml version='1.0'?><returnsms />",
  ])('reads an empty queue %s', (body) => {
    expect(parseReportsResponse(body)).toEqual([]);
    expect(parseRepliesResponse(body)).toEqual([]);
  });

  it('reads replies', () => {
    const [reply] = parseRepliesResponse(
      `<returnsms><callbox><mobile>15023239810</mobile><taskid>1212</taskid><content>你好，我不需要 &amp; 谢谢</content><receivetime>2011-12-02 22:12:11</receivetime><extno>01</extno></callbox></returnsms>`,
    );
    expect(reply?.content).toBe('你好，我不需要 & 谢谢');
    expect(reply?.extNo).toBe('01');
  });

  it.each([
    [1, 'AUTH_MISSING'],
    [2, 'AUTH_FAILED'],
    [3, 'REPORTS_NOT_PERMITTED'],
    [4, 'BAD_PARAMS'],
  ])('maps <errorstatus> %i to %s', (number, code) => {
    const body = `${DECL}<returnsms>\r\n<errorstatus>\r\n<error>${number}</error>\r\n<remark>x</remark>\r\n</errorstatus>\r\n</returnsms>`;
    expectSmsError(() => parseReportsResponse(body), code);
    expectSmsError(() => parseRepliesResponse(body), code);
  });

  it('accepts the send-style Faild form on the pull endpoints', () => {
    const body =
      '<returnsms><returnstatus>Faild</returnstatus><message>用户名或密码错误</message></returnsms>';
    expectSmsError(() => parseReportsResponse(body), 'AUTH_FAILED');
  });

  it('keeps the raw receivetime and falls back to the fetch time when it is garbage', () => {
    const fetchedAt = new Date('2026-01-01T00:00:00Z');
    const [report] = parseReportsResponse(
      '<returnsms><statusbox><mobile>1</mobile><status>10</status><receivetime>soon</receivetime></statusbox></returnsms>',
      fetchedAt,
    );
    expect(report?.receiveTime).toBe('soon');
    expect(report?.receivedAt).toEqual(fetchedAt);
  });
});

describe('malformed text', () => {
  it('rejects a lone surrogate as VALIDATION instead of crashing', () => {
    expect(() =>
      buildSendRequest(creds, { mobiles: ['13800138000'], content: 'a\ud800b' }),
    ).toThrow(/lone surrogate/);
  });
});

describe('variants', () => {
  it('reads smsJson.aspx answers, a bare 19-digit taskID kept exact', async () => {
    const { parseSendResponse: parse } = await import('./protocol.js');
    expect(
      parse(
        '{"returnstatus":"Success","message":"ok","remainpoint":7,"taskID":1234567890123456789,"successCounts":"1"}',
      ),
    ).toEqual({ taskId: '1234567890123456789', successCounts: 1, remainPoint: 7, message: 'ok' });
    expect(() => parse('{"returnstatus":"Faild","message":"用户名或密码错误"}')).toThrow(
      expect.objectContaining({ code: 'AUTH_FAILED' }),
    );
    expect(() => parse('{"returnstatus":')).toThrow(expect.objectContaining({ code: 'PROTOCOL' }));
  });

  it('signs v2 requests with MD5(account + password + timestamp) in Shanghai time', async () => {
    const { createHash } = await import('node:crypto');
    const now = () => new Date('2026-11-25T16:00:01Z');
    const wire = buildReportsRequest(creds, {}, { auth: 'signed', now });
    expect(wire.path).toBe('/v2statusApi.aspx');
    const form = decodeForm(wire.body, 'utf-8');
    expect(form.get('timestamp')).toBe('20261126000001');
    expect(form.get('sign')).toBe(
      createHash('md5').update(`demoS3CRET-PW20261126000001`).digest('hex'),
    );
    expect(form.has('password')).toBe(false);
    expect(wire.body.toString()).not.toContain('S3CRET');
  });
});

describe('decodeForm', () => {
  it('reads unencoded non-ASCII bytes of a body byte for byte (regression: they were double-encoded)', () => {
    expect(decodeForm(Buffer.from('content=中文&x=1', 'utf8'), 'utf-8').get('content')).toBe(
      '中文',
    );
    expect(
      decodeForm(Buffer.concat([Buffer.from('content='), Buffer.from([0xc4, 0xe3])]), 'gbk').get(
        'content',
      ),
    ).toBe('你');
    expect(decodeForm('content=中文😀', 'gbk').get('content')).toBe('中文?');
    expect(decodeForm('content=中文😀', 'utf-8').get('content')).toBe('中文😀');
    expect(decodeForm('a=%E4%BD%A0+b&A=ignored', 'utf-8').get('a')).toBe('你 b');
  });
});
