/**
 * `SmsRouter` over two emulated resellers: one test per row of the failover table
 * (docs/sending.md). Each checks where the message went and that it went out at most once
 * through what the emulators themselves recorded, not through what the router says.
 */
import {
  type RoutedSendResult,
  SmsError,
  type SmsErrorCode,
  SmsRouter,
  type SmsRouterOptions,
} from '@sms/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ResetBeforeWrite, startResetBeforeWrite } from './reset-before-write.js';
import { type Resellers, closedPort, startResellers } from './two-resellers.js';

let resellers: Resellers;
let resetter: ResetBeforeWrite;
const routers: SmsRouter[] = [];

beforeAll(async () => {
  // Reseller B blocks no words: a keyword A refuses would go out there unreviewed.
  resellers = await startResellers({}, { keywords: [] });
  resetter = await startResetBeforeWrite();
});

afterEach(async () => {
  await Promise.all(routers.splice(0).map((router) => router.close()));
  resellers.reset();
});

afterAll(async () => {
  await resellers.close();
  await resetter.close();
});

function router(
  first: { name: string; options: ReturnType<Resellers['optionsA']> },
  options: Partial<SmsRouterOptions> = {},
): SmsRouter {
  const created = new SmsRouter({
    accounts: [first, { name: 'b', options: resellers.optionsB() }],
    ...options,
  });
  routers.push(created);
  return created;
}

const message = (text: string) => ({ mobiles: ['13800138000'], content: `【示例】${text}` });

async function failure(promise: Promise<unknown>, code: SmsErrorCode): Promise<SmsError> {
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

/** The emulators' own records: where `content` went, how many times. */
function where(content: string): string[] {
  return resellers
    .sentEverywhere()
    .filter((sent) => sent.content === content)
    .map((sent) => sent.reseller);
}

describe('fails over when the send surely did not go out', () => {
  it('refused connection (nothing listens on the port): sent once, on b', async () => {
    const port = await closedPort();
    const sms = router({
      name: 'a',
      options: resellers.optionsA({ baseUrl: `http://127.0.0.1:${port}` }),
    });
    const result = await sms.send(message('refused'));
    expect(result).toMatchObject({ account: 'b', attempts: [{ account: 'a', code: 'NETWORK' }] });
    expect(where('【示例】refused')).toEqual(['b']);
    expect(resellers.b.sent()[0]?.taskId).toBe(result.taskId);
  });

  it('connection reset before the request was written: sent once, on b; a got no byte', async () => {
    const sms = router({ name: 'a', options: resellers.optionsA({ baseUrl: resetter.url }) });
    const resets = resetter.resets();
    const sending = sms.send(message('reset before write'));
    resetter.hold();
    const result = await sending;
    expect(result).toMatchObject({ account: 'b', attempts: [{ account: 'a', code: 'NETWORK' }] });
    expect(result.attempts[0]?.message).toContain('ECONNRESET');
    expect(resetter.resets()).toBe(resets + 1);
    expect(resetter.bytesReceived()).toBe(0);
    expect(where('【示例】reset before write')).toEqual(['b']);
  });

  it('wrong password (AUTH_FAILED): sent once, on b', async () => {
    const sms = router({
      name: 'a',
      options: resellers.optionsA({ password: 'not-the-password' }),
    });
    const result = await sms.send(message('wrong password'));
    expect(result).toMatchObject({
      account: 'b',
      attempts: [{ account: 'a', code: 'AUTH_FAILED' }],
    });
    expect(where('【示例】wrong password')).toEqual(['b']);
    expect(resellers.a.requests().filter((r) => r.action === 'send')).toHaveLength(1);
  });

  it('balance exhausted mid-batch: a sends until it cannot, b takes the rest, each once', async () => {
    resellers.a.setAccount({ account: 'alpha', balance: 5 });
    const sms = router({ name: 'a', options: resellers.optionsA() }, { breaker: false });
    const results: RoutedSendResult[] = [];
    // Three single sends fit (5 -> 2); one request to four numbers does not: refused whole.
    for (let i = 0; i < 3; i++)
      results.push(await sms.send({ mobiles: [`1380000000${i}`], content: `【示例】batch ${i}` }));
    const four = ['13900000001', '13900000002', '13900000003', '13900000004'];
    results.push(await sms.send({ mobiles: four, content: '【示例】batch 3' }));
    results.push(await sms.send({ mobiles: ['13800000004'], content: '【示例】batch 4' }));
    expect(results.map((r) => r.account)).toEqual(['a', 'a', 'a', 'b', 'a']);
    expect(results[3]?.attempts).toEqual([
      expect.objectContaining({ account: 'a', code: 'INSUFFICIENT_BALANCE' }),
    ]);
    for (let i = 0; i < 5; i++) expect(where(`【示例】batch ${i}`)).toHaveLength(1);
    expect(resellers.b.sent()[0]?.mobiles).toEqual(four);
    expect(resellers.a.account('alpha').balance).toBe(1);
  });

  it('sendBatch: a runs out of balance mid-batch, b takes the remaining chunks; every number once', async () => {
    resellers.a.setAccount({ account: 'alpha', balance: 7 });
    const sms = router({ name: 'a', options: resellers.optionsA() });
    const numbers = Array.from({ length: 12 }, (_, i) => String(13_700_000_000 + i));
    const outcome = await sms.sendBatch({
      mobiles: numbers,
      content: '【示例】batch',
      chunkSize: 3,
      concurrency: 1,
    });
    expect(outcome.failures).toEqual([]);
    // 7 points: two chunks of three on a (7 -> 1), then a refuses each chunk as a whole.
    expect(outcome.results.map((chunk) => (chunk.result as RoutedSendResult).account)).toEqual([
      'a',
      'a',
      'b',
      'b',
    ]);
    const everywhere = resellers.sentEverywhere().flatMap((sent) => sent.mobiles);
    expect(everywhere.sort()).toEqual([...numbers].sort());
    expect(resellers.a.account('alpha').balance).toBe(1);
  });

  it('every account refused: ALL_ACCOUNTS_FAILED lists each reason, nothing sent', async () => {
    const port = await closedPort();
    const sms = new SmsRouter({
      accounts: [
        { name: 'a', options: resellers.optionsA({ password: 'wrong' }) },
        { name: 'down', options: resellers.optionsB({ baseUrl: `http://127.0.0.1:${port}` }) },
      ],
    });
    routers.push(sms);
    const error = await failure(sms.send(message('nowhere')), 'ALL_ACCOUNTS_FAILED');
    expect(error.attempts.map((a) => [a.account, a.code])).toEqual([
      ['a', 'AUTH_FAILED'],
      ['down', 'NETWORK'],
    ]);
    expect(error.message).toContain('a: AUTH_FAILED');
    expect(error.message).toContain('down: NETWORK');
    expect(error.message).not.toContain('alpha-secret');
    expect(resellers.sentEverywhere()).toEqual([]);
  });
});

describe('never fails over when the message may have gone out, or on its content', () => {
  it('reset after the request was written: UNKNOWN_OUTCOME naming a; a sent it, b never tried', async () => {
    resellers.a.setFault({ type: 'reset', action: 'send', times: 1 });
    const sms = router({ name: 'a', options: resellers.optionsA() });
    const error = await failure(sms.send(message('reset after write')), 'UNKNOWN_OUTCOME');
    expect(error.account).toBe('a');
    expect(error.message).toContain('account a');
    expect(error.attempts).toEqual([
      expect.objectContaining({ account: 'a', code: 'UNKNOWN_OUTCOME' }),
    ]);
    // It did go out on a (the emulator handled it before the reset): once, and only there.
    expect(where('【示例】reset after write')).toEqual(['a']);
    expect(resellers.b.requests()).toHaveLength(0);
  });

  it('timeout after the request was written: UNKNOWN_OUTCOME, b never tried', async () => {
    resellers.a.setFault({ type: 'latency', ms: 1500, action: 'send', times: 1 });
    const sms = router({ name: 'a', options: resellers.optionsA({ timeoutMs: 300 }) });
    const error = await failure(sms.send(message('timeout')), 'UNKNOWN_OUTCOME');
    expect(error.account).toBe('a');
    expect(resellers.a.requests().filter((r) => r.action === 'send')).toHaveLength(1);
    expect(resellers.b.requests()).toHaveLength(0);
    expect(where('【示例】timeout')).not.toContain('b');
  });

  it('HTTP 500 from the platform: HTTP, b never tried', async () => {
    resellers.a.setFault({ type: 'html500', action: 'send', times: 1 });
    const sms = router({ name: 'a', options: resellers.optionsA() });
    const error = await failure(sms.send(message('html 500')), 'HTTP');
    expect(error.account).toBe('a');
    expect(resellers.b.requests()).toHaveLength(0);
  });

  it('keyword refusal: ILLEGAL_KEYWORD, b (which blocks no words) never tried', async () => {
    const sms = router({ name: 'a', options: resellers.optionsA() });
    const error = await failure(sms.send(message('赌博 keyword')), 'ILLEGAL_KEYWORD');
    expect(error).toMatchObject({ account: 'a', words: ['赌博'] });
    expect(resellers.b.requests()).toHaveLength(0);
    expect(resellers.sentEverywhere()).toEqual([]);
  });

  it('keyword refusal with failoverOnKeyword: sent once, on b', async () => {
    const sms = router({ name: 'a', options: resellers.optionsA() }, { failoverOnKeyword: true });
    const result = await sms.send(message('赌博 opt-in'));
    expect(result).toMatchObject({
      account: 'b',
      attempts: [{ account: 'a', code: 'ILLEGAL_KEYWORD' }],
    });
    expect(where('【示例】赌博 opt-in')).toEqual(['b']);
  });

  it('SQL injection and a missing signature: refused on a, b never tried', async () => {
    const sms = router({ name: 'a', options: resellers.optionsA() }, { failoverOnKeyword: true });
    await failure(sms.send(message("x'; drop table users --")), 'SQL_INJECTION');
    resellers.a.setAccount({ account: 'alpha' });
    const strict = await startResellers({ requireSignature: true });
    try {
      const sms2 = new SmsRouter({
        accounts: [
          { name: 'a', options: strict.optionsA() },
          { name: 'b', options: strict.optionsB() },
        ],
      });
      routers.push(sms2);
      await failure(
        sms2.send({ mobiles: ['13800138000'], content: 'no signature' }),
        'SIGNATURE_REQUIRED',
      );
      expect(strict.b.requests()).toHaveLength(0);
    } finally {
      await strict.close();
    }
    expect(resellers.b.requests()).toHaveLength(0);
  });
});

describe('circuit breaker', () => {
  it('opens after N failures, skips the account (no request), probes after the cool-down and closes', async () => {
    resellers.a.setAccount({ account: 'alpha', password: 'rotated' }); // a refuses us now
    const changes: string[] = [];
    const sms = router(
      { name: 'a', options: resellers.optionsA() },
      {
        breaker: { failures: 3, windowMs: 60_000, coolDownMs: 400 },
        onBreakerChange: (account, state) => changes.push(`${account}:${state}`),
      },
    );
    for (let i = 0; i < 3; i++) {
      const result = await sms.send(message(`open ${i}`));
      expect(result.attempts).toEqual([
        expect.objectContaining({ account: 'a', code: 'AUTH_FAILED' }),
      ]);
    }
    expect(sms.breakers()[0]).toMatchObject({ account: 'a', state: 'open', failures: 3 });
    const requestsToA = resellers.a.requests().length;
    const skipped = await sms.send(message('skipped'));
    expect(skipped).toMatchObject({
      account: 'b',
      attempts: [{ account: 'a', code: 'CIRCUIT_OPEN' }],
    });
    expect(resellers.a.requests()).toHaveLength(requestsToA); // not even asked

    // A probe that fails opens it again.
    await until(() => sms.breakers()[0]?.state === 'half-open');
    const probe = await sms.send(message('failed probe'));
    expect(probe.attempts[0]).toMatchObject({ account: 'a', code: 'AUTH_FAILED' });
    expect(sms.breakers()[0]?.state).toBe('open');

    // a accepts us again: the next probe sends there and closes the breaker.
    resellers.a.setAccount({ account: 'alpha', password: 'alpha-secret' });
    await until(() => sms.breakers()[0]?.state === 'half-open');
    const back = await sms.send(message('probe'));
    expect(back).toMatchObject({ account: 'a', attempts: [] });
    expect(sms.breakers()[0]).toMatchObject({ state: 'closed', failures: 0 });
    expect(changes).toEqual(['a:open', 'a:half-open', 'a:open', 'a:half-open', 'a:closed']);
    for (const text of ['open 0', 'open 1', 'open 2', 'skipped', 'failed probe'])
      expect(where(`【示例】${text}`)).toEqual(['b']);
    expect(where('【示例】probe')).toEqual(['a']);
  });

  it('half-open lets exactly one probe through while other sends go on to b', async () => {
    const sms = new SmsRouter({
      breaker: { failures: 1, windowMs: 60_000, coolDownMs: 200 },
      accounts: [
        { name: 'a', options: resellers.optionsA() },
        { name: 'b', options: resellers.optionsB() },
      ],
    });
    routers.push(sms);
    resellers.a.setFault({ type: 'html500', action: 'send', times: 1 });
    await failure(sms.send(message('trip')), 'HTTP'); // one counted failure opens a
    expect(sms.breakers()[0]?.state).toBe('open');
    await until(() => sms.breakers()[0]?.state === 'half-open');
    // The probe is slow: while it is on the wire, every other send skips a.
    resellers.a.setFault({ type: 'latency', ms: 300, action: 'send', times: 1 });
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => sms.send(message(`concurrent ${i}`))),
    );
    expect(results.filter((r) => r.account === 'a')).toHaveLength(1);
    expect(results.filter((r) => r.attempts[0]?.code === 'CIRCUIT_OPEN')).toHaveLength(4);
    expect(resellers.a.requests().filter((r) => r.action === 'send')).toHaveLength(2); // trip + probe
    expect(sms.breakers()[0]?.state).toBe('closed');
    for (let i = 0; i < 5; i++) expect(where(`【示例】concurrent ${i}`)).toHaveLength(1);
  });

  it('a content refusal does not count against the account', async () => {
    const sms = router({ name: 'a', options: resellers.optionsA() }, { breaker: { failures: 2 } });
    for (let i = 0; i < 4; i++) await failure(sms.send(message(`赌博 ${i}`)), 'ILLEGAL_KEYWORD');
    expect(sms.breakers()[0]).toMatchObject({ state: 'closed', failures: 0 });
  });
});

describe('reports and replies from every account', () => {
  it('pulls both resellers and tags each record with its account', async () => {
    const sms = router({ name: 'a', options: resellers.optionsA() }, { strategy: 'round-robin' });
    const first = await sms.send({ mobiles: ['13800000001'], content: '【示例】one' });
    const second = await sms.send({ mobiles: ['13800000002'], content: '【示例】two' });
    expect([first.account, second.account]).toEqual(['a', 'b']);
    resellers.b.injectReply({ account: 'beta', mobile: '13800000002', content: '收到' });
    const reports = await sms.fetchReports();
    expect(reports.map((r) => [r.account, r.taskId, r.mobile]).sort()).toEqual(
      [
        ['a', first.taskId, '13800000001'],
        ['b', second.taskId, '13800000002'],
      ].sort(),
    );
    const replies = await sms.fetchReplies();
    expect(replies).toEqual([
      expect.objectContaining({ account: 'b', mobile: '13800000002', content: '收到' }),
    ]);
    // Pull-once: both queues are empty on the emulators now.
    expect(resellers.a.pendingReports('alpha')).toHaveLength(0);
    expect(resellers.b.pendingReports('beta')).toHaveLength(0);
  });

  it('one account failing keeps the records the other returned on the error', async () => {
    const sms = router({ name: 'a', options: resellers.optionsA() }, { strategy: 'round-robin' });
    await sms.send({ mobiles: ['13800000001'], content: '【示例】one' });
    await sms.send({ mobiles: ['13800000002'], content: '【示例】two' });
    resellers.a.setFault({ type: 'html500', path: '/statusApi.aspx' });
    const error = await failure(sms.fetchReports(), 'HTTP');
    expect(error.account).toBe('a');
    expect(error.records).toEqual([
      expect.objectContaining({ account: 'b', mobile: '13800000002' }),
    ]);
  });

  it('balances() shows each account, an error for one that refuses', async () => {
    const sms = new SmsRouter({
      accounts: [
        { name: 'a', options: resellers.optionsA({ password: 'wrong' }) },
        { name: 'b', options: resellers.optionsB() },
      ],
    });
    routers.push(sms);
    const balances = await sms.balances();
    expect(balances[0]).toMatchObject({ account: 'a', error: { code: 'AUTH_FAILED' } });
    expect(balances[1]).toMatchObject({ account: 'b', balance: { overage: 100_000 } });
  });
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
