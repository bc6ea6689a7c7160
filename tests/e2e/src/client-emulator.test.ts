/**
 * @sms/core's client against a real @sms/emulator over HTTP: every operation and every
 * platform error code, on both charsets. What happened is checked on the emulator's side
 * (what it recorded), not only through what the client says.
 */
import { type Charset, SmsClient, SmsError, type SmsErrorCode } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

let emulator: Emulator;
const clients: SmsClient[] = [];

beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [
      { userId: '12', account: 'demo', password: 'secret', balance: 1000 },
      { userId: '13', account: 'poor', password: 'pw', balance: 1 },
      { userId: '14', account: 'barred', password: 'pw', reportsAllowed: false },
      { userId: '', account: 'later', password: 'pw', payType: 'postpaid', balance: 0 },
    ],
    report: { delayMs: 0, failMobiles: ['13900000000'], failErrorCode: 'MK:0011' },
    autoReplies: [{ contains: '回复', reply: '好的，收到' }],
  });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  emulator.reset();
});

afterAll(() => emulator.close());

function client(
  charset: Charset,
  overrides: Partial<ConstructorParameters<typeof SmsClient>[0]> = {},
) {
  const created = new SmsClient({
    baseUrl: emulator.url,
    userId: '12',
    account: 'demo',
    password: 'secret',
    charset,
    ...overrides,
  });
  clients.push(created);
  return created;
}

async function refusal(promise: Promise<unknown>, code: SmsErrorCode): Promise<SmsError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}`);
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SmsError);
  expect((error as SmsError).code).toBe(code);
  return error as SmsError;
}

describe.each(['utf-8', 'gbk'] as const)('charset %s', (charset) => {
  const path = charset === 'gbk' ? '/smsGBK.aspx' : '/sms.aspx';

  it('sends, and the platform records exactly what was meant', async () => {
    const result = await client(charset).send({
      mobiles: '+86 138-0013-8000，13800138001',
      content: '【测试】您的验证码是 1234，五分钟内有效',
      extNo: '01',
    });
    expect(result.successCounts).toBe(2);
    expect(result.taskId).toBe('9007199254740993');
    expect(result.remainPoint).toBe(998);
    const [sent] = emulator.sent();
    expect(sent).toMatchObject({
      mobiles: ['13800138000', '13800138001'],
      content: '【测试】您的验证码是 1234，五分钟内有效',
      extNo: '01',
      charset,
      path,
    });
    expect(emulator.account('demo').balance).toBe(998);
  });

  it('bills segments x numbers', async () => {
    await client(charset).send({
      mobiles: ['13800138000', '13800138001'],
      content: `【测试】${'长'.repeat(80)}`,
    });
    expect(emulator.account('demo').balance).toBe(1000 - 2 * 2);
  });

  it('schedules a send in UTC+8', async () => {
    const at = new Date(Date.now() + 3_600_000);
    await client(charset).send({ mobiles: ['13800138000'], content: '【测试】定时', sendTime: at });
    const [sent] = emulator.sent();
    expect(sent?.delivered).toBe(false);
    expect(sent?.deliverAt.getTime()).toBe(Math.floor(at.getTime() / 1000) * 1000);
  });

  it('reads the balance', async () => {
    expect(await client(charset).balance()).toEqual({
      payType: 'prepaid',
      overage: 1000,
      sendTotal: 1000,
      payInfo: '预付费',
    });
    expect(
      (await client(charset, { account: 'later', userId: '', password: 'pw' }).balance()).payType,
    ).toBe('postpaid');
  });

  it('checks keywords', async () => {
    expect((await client(charset).checkKeyword('【测试】您好')).blocked).toBe(false);
    const blocked = await client(charset).checkKeyword('【测试】六合彩开奖');
    expect(blocked.blocked).toBe(true);
    // The emulator names the word, as real servers do.
    expect(blocked.message).toBe('包含非法字符：六合彩');
    expect(blocked.words).toEqual(['六合彩']);
  });

  it('fetches delivery reports once, honouring statusNum', async () => {
    const sms = client(charset);
    const { taskId } = await sms.send({
      mobiles: ['13800138000', '13900000000', '13800138002'],
      content: '【测试】报告',
      extNo: '007',
    });
    const first = await sms.fetchReports({ max: 2 });
    const second = await sms.fetchReports();
    expect(first).toHaveLength(2);
    expect(second).toHaveLength(1);
    expect(await sms.fetchReports()).toEqual([]);
    const all = [...first, ...second];
    expect(all.every((report) => report.taskId === taskId && report.extNo === '007')).toBe(true);
    const failed = all.find((report) => report.mobile === '13900000000');
    expect(failed).toMatchObject({ status: 'failed', statusCode: 20, errorCode: 'MK:0011' });
    expect(all.filter((report) => report.status === 'delivered')).toHaveLength(2);
    expect(Math.abs(all[0]!.receivedAt.getTime() - Date.now())).toBeLessThan(5_000);
  });

  it('fetches replies once, auto and injected', async () => {
    const sms = client(charset);
    await sms.send({ mobiles: ['13800138000'], content: '【测试】请回复 Y' });
    emulator.injectReply({ account: 'demo', mobile: '13800138009', content: '退订 & <谢谢>' });
    const replies = await sms.fetchReplies();
    expect(replies.map((reply) => reply.content).sort()).toEqual(
      ['好的，收到', '退订 & <谢谢>'].sort(),
    );
    expect(await sms.fetchReplies()).toEqual([]);
  });

  it('changes the password: the client keeps working, the old password does not', async () => {
    const sms = client(charset);
    expect(await sms.changePassword('n3w-pass')).toEqual({ message: '密码修改成功' });
    expect((await sms.balance()).overage).toBe(1000);
    await refusal(client(charset).balance(), 'AUTH_FAILED');
  });

  describe('every refusal has its code', () => {
    it('AUTH_FAILED, and a blank account refused before sending', async () => {
      const wrong = await refusal(
        client(charset, { password: 'nope' }).send({ mobiles: '13800138000', content: 'x' }),
        'AUTH_FAILED',
      );
      expect(wrong.platformMessage).toBe('用户名或密码错误');
      expect(wrong.message).not.toContain('nope');
      await refusal(client(charset, { password: 'nope' }).fetchReports(), 'AUTH_FAILED');
      await refusal(client(charset, { password: 'nope' }).fetchReplies(), 'AUTH_FAILED');
      await refusal(client(charset, { password: 'nope' }).checkKeyword('x'), 'AUTH_FAILED');
      // A blank account never reaches the platform (its AUTH_MISSING answer is parsed in core's tests).
      expect(() => client(charset, { account: ' ' })).toThrow(
        expect.objectContaining({ code: 'VALIDATION', field: 'account' }),
      );
    });

    it('SQL_INJECTION', async () => {
      await refusal(
        client(charset).send({ mobiles: '13800138000', content: "【测试】'; drop table users --" }),
        'SQL_INJECTION',
      );
    });

    it('ILLEGAL_KEYWORD, with the words', async () => {
      const error = await refusal(
        client(charset).send({ mobiles: '13800138000', content: '【测试】赌博 六合彩' }),
        'ILLEGAL_KEYWORD',
      );
      expect(error.words.sort()).toEqual(['六合彩', '赌博'].sort());
    });

    it('INSUFFICIENT_BALANCE, and nothing billed', async () => {
      await refusal(
        client(charset, { account: 'poor', userId: '13', password: 'pw' }).send({
          mobiles: ['13800138000', '13800138001'],
          content: '【测试】x',
        }),
        'INSUFFICIENT_BALANCE',
      );
      expect(emulator.account('poor').balance).toBe(1);
      expect(emulator.sent()).toEqual([]);
    });

    it('REPORTS_NOT_PERMITTED', async () => {
      await refusal(
        client(charset, { account: 'barred', userId: '14', password: 'pw' }).fetchReports(),
        'REPORTS_NOT_PERMITTED',
      );
    });

    it('SIGNATURE_REQUIRED, MOBILE_EMPTY, CONTENT_EMPTY and BAD_PARAMS from the wire', async () => {
      const strict = await startEmulator({
        accounts: [{ userId: '1', account: 'a', password: 'p' }],
        requireSignature: true,
      });
      try {
        await refusal(
          client(charset, { baseUrl: strict.url, userId: '1', account: 'a', password: 'p' }).send({
            mobiles: '13800138000',
            content: '没有签名',
          }),
          'SIGNATURE_REQUIRED',
        );
      } finally {
        await strict.close();
      }
      // The client validates these before sending, so speak to the platform raw to see its codes mapped.
      const { parseSendResponse, parseReportsResponse } = await import('@sms/core');
      const raw = async (p: string, body: string) =>
        (
          await fetch(`${emulator.url}${p}`, { method: 'POST', body: new URLSearchParams(body) })
        ).text();
      expect(() => parseSendResponse('')).toThrow(SmsError);
      const noMobile = await raw(
        '/sms.aspx',
        'action=send&userid=12&account=demo&password=secret&mobile=&content=x',
      );
      expect(() => parseSendResponse(noMobile)).toThrow(
        expect.objectContaining({ code: 'MOBILE_EMPTY' }),
      );
      const noContent = await raw(
        '/sms.aspx',
        'action=send&userid=12&account=demo&password=secret&mobile=13800138000&content=',
      );
      expect(() => parseSendResponse(noContent)).toThrow(
        expect.objectContaining({ code: 'CONTENT_EMPTY' }),
      );
      const badNum = await raw(
        '/statusApi.aspx',
        'action=query&userid=12&account=demo&password=secret&statusNum=abc',
      );
      expect(() => parseReportsResponse(badNum)).toThrow(
        expect.objectContaining({ code: 'BAD_PARAMS' }),
      );
    });

    it('PLATFORM_ERROR for anything else', async () => {
      emulator.setFault({
        type: 'malformed',
        body: '<returnsms><returnstatus>Faild</returnstatus><message>其他错误</message></returnsms>',
        times: 1,
      });
      await refusal(
        client(charset).send({ mobiles: '13800138000', content: '【测试】x' }),
        'PLATFORM_ERROR',
      );
    });
  });

  describe('faults', () => {
    it('HTML 500 is HTTP, with status and excerpt', async () => {
      emulator.setFault({ type: 'html500' });
      const error = await refusal(client(charset, { retry: false }).balance(), 'HTTP');
      expect(error.status).toBe(500);
      expect(error.excerpt).toMatch(/error/i);
    });

    it('malformed XML is PROTOCOL, and the send was billed', async () => {
      emulator.setFault({ type: 'malformed', action: 'send' });
      await refusal(
        client(charset).send({ mobiles: '13800138000', content: '【测试】x' }),
        'PROTOCOL',
      );
      expect(emulator.sent()).toHaveLength(1);
    });

    it('a reset after the send was handled is UNKNOWN_OUTCOME, sent once, never retried', async () => {
      emulator.setFault({ type: 'reset', action: 'send' });
      await refusal(
        client(charset).send({ mobiles: '13800138000', content: '【测试】x' }),
        'UNKNOWN_OUTCOME',
      );
      expect(emulator.sent()).toHaveLength(1);
      expect(emulator.requests().filter((r) => r.action === 'send')).toHaveLength(1);
    });

    it('a truncated body is UNKNOWN_OUTCOME for a send', async () => {
      emulator.setFault({ type: 'truncate', action: 'send' });
      await refusal(
        client(charset).send({ mobiles: '13800138000', content: '【测试】x' }),
        'UNKNOWN_OUTCOME',
      );
    });

    it('latency beyond the timeout is UNKNOWN_OUTCOME for a send and TIMEOUT for a balance, retried', async () => {
      const timeoutMs = 300;
      emulator.setFault({ type: 'latency', ms: 1500 });
      await refusal(
        client(charset, { timeoutMs }).send({ mobiles: '13800138000', content: '【测试】x' }),
        'UNKNOWN_OUTCOME',
      );
      // The send may have been handled: it is never retried.
      expect(emulator.requests().filter((r) => r.action === 'send')).toHaveLength(1);

      emulator.reset();
      emulator.setFault({ type: 'latency', ms: 1500, action: 'overage', times: 1 });
      const failures: unknown[] = [];
      const started = performance.now();
      const balance = await client(charset, {
        timeoutMs,
        retry: { retries: 1, minDelayMs: 1, maxDelayMs: 1 },
        logger: { warn: (_message, fields) => failures.push(fields) },
      }).balance();
      const elapsed = performance.now() - started;
      expect(balance.overage).toBe(1000);
      expect(failures).toEqual([
        expect.objectContaining({ action: 'overage', code: 'TIMEOUT', attempt: 0, retrying: true }),
      ]);

      // Two attempts reached the platform: the slow one, then the retry that was answered.
      const attempts = emulator.requests().filter((r) => r.action === 'overage');
      expect(attempts.map((r) => r.fault)).toEqual(['latency', undefined]);
      // The first attempt was given up after about timeoutMs (one deadline for the whole
      // request), not after the 1500 ms the platform took, and the retry followed at once.
      const [first, second] = attempts.map((r) => r.at.getTime()) as [number, number];
      const gap = second - first;
      // (The deadline starts before the request is written, the record when it has arrived.)
      expect(gap).toBeGreaterThanOrEqual(timeoutMs - 50);
      expect(gap).toBeLessThan(timeoutMs + 200);
      expect(elapsed).toBeLessThan(1000);
    });
  });
});

it('GBK: characters GBK cannot hold are refused before any request', async () => {
  await refusal(
    client('gbk').send({ mobiles: '13800138000', content: '【测试】emoji 😀' }),
    'VALIDATION',
  );
  expect(emulator.requests()).toEqual([]);
});

it('a batch of 2,500 numbers goes out in chunks and every number is billed once', async () => {
  const mobiles = Array.from({ length: 2500 }, (_, i) => `138${String(i).padStart(8, '0')}`);
  const outcome = await client('utf-8', { account: 'later', userId: '', password: 'pw' }).sendBatch(
    {
      mobiles,
      content: '【测试】群发',
      chunkSize: 1000,
      concurrency: 2,
    },
  );
  expect(outcome.results.map((r) => r.mobiles.length)).toEqual([1000, 1000, 500]);
  expect(outcome.failures).toEqual([]);
  expect(outcome.successCounts).toBe(2500);
  expect(
    emulator
      .sent()
      .flatMap((m) => m.mobiles)
      .sort(),
  ).toEqual([...mobiles].sort());
});
