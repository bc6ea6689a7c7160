/** statusApi.aspx and callApi.aspx: reports and replies, pull-once, statusNum, errors, timing. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './index.js';
import { boxes, form, post, raw, sleep, tag, waitFor } from './test-utils/raw.js';

const auth = { userid: '12', account: 'demo', password: 'secret' };
const barred = { userid: '20', account: 'barred', password: 'pw' };

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({
    accounts: [
      { userId: '12', account: 'demo', password: 'secret', balance: 100000 },
      { userId: '20', account: 'barred', password: 'pw', reportsAllowed: false },
    ],
    report: { failMobiles: ['13900000000'], failErrorCode: 'MK:0011' },
    autoReplies: [{ contains: '回复', reply: 'TD' }],
  });
});
afterAll(() => emulator.close());
afterEach(() => emulator.reset());

const send = (fields: Record<string, string>, path = '/sms.aspx') =>
  post(
    emulator.url,
    path,
    { action: 'send', ...auth, sendTime: '', extno: '', ...fields },
    path === '/smsGBK.aspx' ? 'gbk' : 'utf-8',
  );
const queryReports = (fields: Record<string, string> = {}) =>
  post(emulator.url, '/statusApi.aspx', { action: 'query', ...auth, ...fields });
const queryReplies = (fields: Record<string, string> = {}) =>
  post(emulator.url, '/callApi.aspx', { action: 'query', ...auth, ...fields });

describe('statusApi.aspx', () => {
  it('hands out each report once: status 10 DELIVRD, taskid, receivetime, extno', async () => {
    const sent = await send({
      mobile: '13800138000,13800138001',
      content: '【签名】hi',
      extno: '01',
    });
    const taskId = tag(sent.text, 'taskID');
    const res = await queryReports();
    expect(res.contentType).toBe('text/xml; charset=utf-8');
    const reports = boxes(res.text, 'statusbox');
    expect(reports).toEqual([
      {
        mobile: '13800138000',
        taskid: taskId,
        status: '10',
        receivetime: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
        errorcode: 'DELIVRD',
        extno: '01',
      },
      {
        mobile: '13800138001',
        taskid: taskId,
        status: '10',
        receivetime: expect.any(String),
        errorcode: 'DELIVRD',
        extno: '01',
      },
    ]);
    const again = await queryReports();
    expect(boxes(again.text, 'statusbox')).toEqual([]);
    expect(again.text).toMatch(/<returnsms><\/returnsms>$/);
  });

  it('fails failMobiles with status 20 and their code', async () => {
    await send({ mobile: '13900000000,13800138000', content: '【签名】hi' });
    const reports = boxes((await queryReports()).text, 'statusbox');
    expect(reports.map((r) => [r.mobile, r.status, r.errorcode])).toEqual([
      ['13900000000', '20', 'MK:0011'],
      ['13800138000', '10', 'DELIVRD'],
    ]);
  });

  it('honours statusNum, oldest first, the rest staying queued', async () => {
    const mobiles = Array.from({ length: 10 }, (_, i) => `1380013800${i}`);
    await send({ mobile: mobiles.join(','), content: '【签名】hi' });
    const first = boxes((await queryReports({ statusNum: '3' })).text, 'statusbox');
    expect(first.map((r) => r.mobile)).toEqual(mobiles.slice(0, 3));
    expect(emulator.account('demo').pendingReports).toBe(7);
    const rest = boxes((await queryReports({ STATUSNUM: '100' })).text, 'statusbox');
    expect(rest.map((r) => r.mobile)).toEqual(mobiles.slice(3));
  });

  it('defaults statusNum to 4000 (absent, empty or 0)', async () => {
    const mobiles = Array.from({ length: 4100 }, (_, i) => `13${String(i).padStart(9, '0')}`);
    await send({ mobile: mobiles.join(','), content: '【签名】hi' });
    expect(boxes((await queryReports()).text, 'statusbox')).toHaveLength(4000);
    expect(boxes((await queryReports({ statusNum: '' })).text, 'statusbox')).toHaveLength(100);
    await send({ mobile: mobiles.join(','), content: '【签名】hi' });
    expect(boxes((await queryReports({ statusNum: '0' })).text, 'statusbox')).toHaveLength(4000);
  });

  it('errorstatus 4 参数不正确 for a non-numeric statusNum (nothing is dequeued)', async () => {
    await send({ mobile: '13800138000', content: '【签名】hi' });
    for (const statusNum of ['abc', '-1', '1.5', '10x']) {
      const res = await queryReports({ statusNum });
      expect(tag(res.text, 'error')).toBe('4');
      expect(tag(res.text, 'remark')).toBe('参数不正确');
    }
    expect(emulator.account('demo').pendingReports).toBe(1);
  });

  it('errorstatus 1, 2 and 3', async () => {
    const missing = await post(emulator.url, '/statusApi.aspx', {
      action: 'query',
      userid: '12',
      account: 'demo',
      password: '',
    });
    expect(missing.text).toMatch(
      /<errorstatus><error>1<\/error><remark>用户名或密码不能为空<\/remark><\/errorstatus>/,
    );
    const wrong = await queryReports({ password: 'bad' });
    expect(tag(wrong.text, 'error')).toBe('2');
    expect(tag(wrong.text, 'remark')).toBe('用户名或密码错误');
    const denied = await post(emulator.url, '/statusApi.aspx', { action: 'query', ...barred });
    expect(tag(denied.text, 'error')).toBe('3');
    expect(tag(denied.text, 'remark')).toBe('该用户不允许查看状态报告');
  });

  it('errorstatus 4 for an action other than query', async () => {
    const res = await queryReports({ action: 'send' });
    expect(tag(res.text, 'error')).toBe('4');
  });

  it('accepts GET, an empty userid and case-insensitive names', async () => {
    await send({ mobile: '13800138000', content: '【签名】hi' });
    const res = await raw(emulator.url, {
      path: `/StatusApi.aspx?Action=query&UserID=&Account=demo&Password=secret&StatusNum=1`,
    });
    expect(boxes(res.text, 'statusbox')).toHaveLength(1);
  });

  it('serves injected reports, with their defaults', async () => {
    emulator.injectReport({
      account: 'demo',
      mobile: '13800138000',
      taskId: '12345678901234567',
      status: 20,
      errorCode: 'UNDELIV',
      extNo: '5',
      receiveTime: '2011-12-02 22:12:11',
    });
    emulator.injectReport({ userId: '12', mobile: '13800138001', taskId: '1', status: 10 });
    const reports = boxes((await queryReports()).text, 'statusbox');
    expect(reports[0]).toEqual({
      mobile: '13800138000',
      taskid: '12345678901234567',
      status: '20',
      receivetime: '2011-12-02 22:12:11',
      errorcode: 'UNDELIV',
      extno: '5',
    });
    expect(reports[1]).toMatchObject({ status: '10', errorcode: 'DELIVRD', extno: '' });
  });
});

describe('report timing', () => {
  it('produces reports only after report.delayMs', async () => {
    const slow = await startEmulator({
      accounts: [{ userId: '12', account: 'demo', password: 'secret' }],
      report: { delayMs: 300 },
    });
    try {
      await post(slow.url, '/sms.aspx', {
        action: 'send',
        ...auth,
        mobile: '13800138000',
        content: '【签名】hi',
      });
      const early = await post(slow.url, '/statusApi.aspx', { action: 'query', ...auth });
      expect(boxes(early.text, 'statusbox')).toHaveLength(0);
      await sleep(350);
      const late = await post(slow.url, '/statusApi.aspx', { action: 'query', ...auth });
      expect(boxes(late.text, 'statusbox')).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });

  it('delivers a scheduled send (UTC+8 sendTime) at its time, billed at submission', async () => {
    const sendAt = new Date(Date.now() + 1500);
    const sendTime = new Date(sendAt.getTime() + 8 * 3600_000)
      .toISOString()
      .slice(0, 19)
      .replace('T', ' ');
    await send({ mobile: '13800138000', content: '【签名】定时', sendTime });
    const [message] = emulator.sent();
    expect(message?.delivered).toBe(false);
    expect(message?.sendTime).toBe(sendTime);
    expect(Math.abs(message!.deliverAt.getTime() - sendAt.getTime())).toBeLessThan(1000);
    expect(emulator.account('demo').balance).toBe(99999);
    expect(boxes((await queryReports()).text, 'statusbox')).toHaveLength(0);
    const reports = await waitFor(async () => {
      const found = boxes((await queryReports()).text, 'statusbox');
      return found.length > 0 ? found : undefined;
    }, 4000);
    expect(Date.now()).toBeGreaterThanOrEqual(message!.deliverAt.getTime());
    expect(reports[0]).toMatchObject({ mobile: '13800138000', status: '10' });
    expect(emulator.sent()[0]?.delivered).toBe(true);
  });

  it('a sendTime in the past is delivered at once; flush() runs future ones now', async () => {
    await send({ mobile: '13800138000', content: '【签名】过去', sendTime: '2001-01-01 00:00:00' });
    expect(emulator.account('demo').pendingReports).toBe(1);
    await send({ mobile: '13800138001', content: '【签名】将来', sendTime: '2099-12-31 23:59:59' });
    expect(emulator.account('demo').pendingReports).toBe(1);
    emulator.flush();
    expect(emulator.account('demo').pendingReports).toBe(2);
  });

  it('uses the now() clock for receivetime and for deciding what is in the future', async () => {
    const fixed = new Date('2026-01-01T00:00:00Z');
    const clocked = await startEmulator({
      accounts: [{ userId: '12', account: 'demo', password: 'secret' }],
      now: () => fixed,
    });
    try {
      await post(clocked.url, '/sms.aspx', {
        action: 'send',
        ...auth,
        mobile: '13800138000',
        content: '【签名】hi',
      });
      const res = await post(clocked.url, '/statusApi.aspx', { action: 'query', ...auth });
      expect(tag(res.text, 'receivetime')).toBe('2026-01-01 08:00:00');
      // 08:00:01 in Shanghai is one second after the fixed clock: scheduled, not immediate.
      await post(clocked.url, '/sms.aspx', {
        action: 'send',
        ...auth,
        mobile: '13800138000',
        content: '【签名】hi',
        sendTime: '2026-01-01 08:00:01',
      });
      expect(clocked.sent()[1]?.delivered).toBe(false);
      expect(clocked.sent()[1]?.deliverAt.toISOString()).toBe('2026-01-01T00:00:01.000Z');
    } finally {
      await clocked.close();
    }
  });

  it('failRate fails a seeded, reproducible share of numbers with errorCode', async () => {
    const run = async () => {
      const flaky = await startEmulator({
        accounts: [{ userId: '12', account: 'demo', password: 'secret', balance: 1000 }],
        report: { failRate: 0.5, errorCode: 'EXPIRED' },
        seed: 42,
      });
      try {
        const mobiles = Array.from({ length: 200 }, (_, i) => `139${String(i).padStart(8, '0')}`);
        await post(flaky.url, '/sms.aspx', {
          action: 'send',
          ...auth,
          mobile: mobiles.join(','),
          content: '【签名】hi',
        });
        return boxes(
          (await post(flaky.url, '/statusApi.aspx', { action: 'query', ...auth })).text,
          'statusbox',
        );
      } finally {
        await flaky.close();
      }
    };
    const first = await run();
    const failed = first.filter((r) => r.status === '20');
    expect(failed.length).toBeGreaterThan(60);
    expect(failed.length).toBeLessThan(140);
    expect(failed.every((r) => r.errorcode === 'EXPIRED')).toBe(true);
    const second = await run();
    expect(second.map((r) => r.status)).toEqual(first.map((r) => r.status));
  });
});

describe('callApi.aspx', () => {
  it('hands out injected replies once, with the last send’s taskid and extno by default', async () => {
    const sent = await send({ mobile: '13800138000', content: '【签名】hi', extno: '01' });
    emulator.injectReply({ account: 'demo', mobile: '13800138000', content: '你好，我不需要' });
    emulator.injectReply({
      userId: '12',
      mobile: '13800138009',
      content: '本次活动路线是怎么的',
      extNo: '7',
      taskId: '1212',
      receiveTime: '2011-12-02 22:12:11',
    });
    const res = await queryReplies();
    expect(res.contentType).toBe('text/xml; charset=utf-8');
    expect(boxes(res.text, 'callbox')).toEqual([
      {
        mobile: '13800138000',
        taskid: tag(sent.text, 'taskID'),
        content: '你好，我不需要',
        receivetime: expect.any(String),
        extno: '01',
      },
      {
        mobile: '13800138009',
        taskid: '1212',
        content: '本次活动路线是怎么的',
        receivetime: '2011-12-02 22:12:11',
        extno: '7',
      },
    ]);
    expect(boxes((await queryReplies()).text, 'callbox')).toEqual([]);
  });

  it('queues autoReplies on delivery of matching messages', async () => {
    await send({ mobile: '13800138000', content: '【签名】回复TD退订' });
    await send({ mobile: '13800138001', content: '【签名】无关' });
    const replies = boxes((await queryReplies()).text, 'callbox');
    expect(replies).toEqual([expect.objectContaining({ mobile: '13800138000', content: 'TD' })]);
  });

  it('errorstatus 1 and 2; barred accounts may still read replies; 4 for another action', async () => {
    const missing = await queryReplies({ account: '' });
    expect(tag(missing.text, 'error')).toBe('1');
    const wrong = await queryReplies({ password: 'x' });
    expect(tag(wrong.text, 'error')).toBe('2');
    emulator.injectReply({ account: 'barred', mobile: '13800138000', content: 'hi' });
    const allowed = await post(emulator.url, '/callApi.aspx', { action: 'query', ...barred });
    expect(boxes(allowed.text, 'callbox')).toHaveLength(1);
    const other = await queryReplies({ action: 'list' });
    expect(tag(other.text, 'error')).toBe('4');
  });

  it('accepts GET with an empty userid', async () => {
    emulator.injectReply({ account: 'demo', mobile: '13800138000', content: '上行' });
    const res = await raw(emulator.url, {
      path: `/callApi.aspx?${form({ action: 'query', userid: '', account: 'demo', password: 'secret' })}`,
    });
    expect(boxes(res.text, 'callbox')[0]?.content).toBe('上行');
  });
});
