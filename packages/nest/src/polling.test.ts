import { Inject, Injectable, Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type Reply, SmsClient, type StatusReport } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { OnSmsDeadLetter, OnSmsReply, OnSmsReport } from './decorators.js';
import type { SmsDeadLetter, SmsHandlerContext, SmsPollingOptions } from './options.js';
import { SmsModule } from './sms.module.js';
import {
  ALPHA,
  BETA,
  clientOptions,
  handlesBeyond,
  openHandles,
  waitFor,
} from './test-utils/fixtures.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, accounts: [ALPHA, BETA] });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());
afterEach(() => vi.restoreAllMocks());

@Injectable()
class Inbox {
  reports: StatusReport[] = [];
  replies: Array<{ reply: Reply; ctx: SmsHandlerContext }> = [];
  dead: SmsDeadLetter[] = [];
  calls = new Map<string, number>();

  @OnSmsReport()
  onReport(report: StatusReport) {
    this.reports.push(report);
  }

  @OnSmsReply()
  async onReply(reply: Reply, ctx: SmsHandlerContext) {
    const count = (this.calls.get(reply.content) ?? 0) + 1;
    this.calls.set(reply.content, count);
    if (reply.content === 'always fails') throw new Error('database down');
    if (reply.content === 'hangs') await new Promise(() => {});
    if (reply.content === 'fails once' && count === 1) throw new Error('transient');
    this.replies.push({ reply, ctx });
  }

  @OnSmsDeadLetter()
  onDeadLetter(letter: SmsDeadLetter) {
    this.dead.push(letter);
  }
}

function pollingModule(polling: SmsPollingOptions) {
  return Test.createTestingModule({
    imports: [SmsModule.forRoot({ ...clientOptions(emulator, ALPHA), polling })],
    providers: [Inbox],
  }).compile();
}

describe('polling', () => {
  it('hands delivery reports and replies to decorated handlers', async () => {
    const moduleRef = await pollingModule({ reports: true, replies: true, intervalMs: 30 });
    await moduleRef.init();
    const inbox = moduleRef.get(Inbox);
    const sms = moduleRef.get(SmsClient);
    const { taskId } = await sms.send({ mobiles: ['13800138000'], content: '【测试】hi' });
    emulator.injectReply({ account: 'alpha', mobile: '13800138000', content: '好的' });

    await waitFor(() => inbox.reports.length === 1 && inbox.replies.length === 1);
    expect(inbox.reports[0]).toMatchObject({ mobile: '13800138000', taskId, status: 'delivered' });
    expect(inbox.replies[0]?.reply).toMatchObject({
      mobile: '13800138000',
      content: '好的',
      taskId,
    });
    expect(inbox.replies[0]?.ctx).toEqual({ kind: 'reply', client: undefined, attempt: 1 });
    expect(emulator.account('alpha')).toMatchObject({ pendingReports: 0, pendingReplies: 0 });
    await moduleRef.close();
  });

  it('retries a throwing handler with backoff and keeps the record', async () => {
    const moduleRef = await pollingModule({
      replies: true,
      intervalMs: 30,
      retry: { attempts: 3, baseDelayMs: 5 },
    });
    await moduleRef.init();
    const inbox = moduleRef.get(Inbox);
    emulator.injectReply({ account: 'alpha', mobile: '13800138000', content: 'fails once' });
    await waitFor(() => inbox.replies.length === 1);
    expect(inbox.calls.get('fails once')).toBe(2);
    expect(inbox.replies[0]?.ctx.attempt).toBe(2);
    expect(inbox.dead).toEqual([]);
    await moduleRef.close();
  });

  it('dead-letters a record after the last attempt, to the option and to @OnSmsDeadLetter', async () => {
    const viaOption: SmsDeadLetter[] = [];
    const moduleRef = await pollingModule({
      replies: true,
      intervalMs: 30,
      retry: { attempts: 3, baseDelayMs: 5 },
      onDeadLetter: (letter) => {
        viaOption.push(letter);
      },
    });
    await moduleRef.init();
    const inbox = moduleRef.get(Inbox);
    emulator.injectReply({ account: 'alpha', mobile: '13800138009', content: 'always fails' });
    await waitFor(() => inbox.dead.length === 1);
    expect(inbox.calls.get('always fails')).toBe(3);
    expect(inbox.dead[0]).toMatchObject({
      kind: 'reply',
      client: undefined,
      handler: 'Inbox.onReply',
      attempts: 3,
      reason: 'exhausted',
      record: { mobile: '13800138009', content: 'always fails' },
    });
    expect(inbox.dead[0]?.error).toEqual(new Error('database down'));
    expect(viaOption).toHaveLength(1);
    expect(viaOption[0]?.record).toBe(inbox.dead[0]?.record);
    await moduleRef.close();
  });

  it('logs a dead letter with its record when no dead-letter hook exists', async () => {
    const errors: string[] = [];
    vi.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => {
      errors.push(String(message));
    });
    @Injectable()
    class Failing {
      @OnSmsReply()
      onReply() {
        throw new Error('nope');
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsModule.forRoot({
          ...clientOptions(emulator, ALPHA),
          polling: { replies: true, intervalMs: 30, retry: { attempts: 2, baseDelayMs: 1 } },
        }),
      ],
      providers: [Failing],
    }).compile();
    await moduleRef.init();
    emulator.injectReply({ account: 'alpha', mobile: '13800138007', content: 'lost?' });
    await waitFor(() => errors.some((line) => line.includes('dead letter')));
    const line = errors.find((l) => l.includes('dead letter')) ?? '';
    expect(line).toContain('Failing.onReply');
    expect(line).toContain('13800138007');
    expect(line).toContain('lost?');
    expect(line).not.toContain(ALPHA.password);
    await moduleRef.close();
  });

  it('dead-letters with reason "shutdown" when the app stops during a backoff', async () => {
    const moduleRef = await pollingModule({
      replies: true,
      intervalMs: 30,
      retry: { attempts: 5, baseDelayMs: 60_000 },
    });
    await moduleRef.init();
    const inbox = moduleRef.get(Inbox);
    emulator.injectReply({ account: 'alpha', mobile: '13800138000', content: 'always fails' });
    await waitFor(() => inbox.calls.get('always fails') === 1);
    const started = Date.now();
    await moduleRef.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(inbox.dead).toHaveLength(1);
    expect(inbox.dead[0]).toMatchObject({ reason: 'shutdown', attempts: 1 });
  });

  it('dead-letters a hung record and those queued behind it after shutdownTimeoutMs', async () => {
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const moduleRef = await pollingModule({
      replies: true,
      intervalMs: 30,
      shutdownTimeoutMs: 100,
    });
    const inbox = moduleRef.get(Inbox);
    emulator.injectReply({ account: 'alpha', mobile: '13800138001', content: 'hangs' });
    emulator.injectReply({ account: 'alpha', mobile: '13800138002', content: 'queued' });
    await moduleRef.init();
    await waitFor(() => inbox.calls.get('hangs') === 1);
    const started = Date.now();
    await moduleRef.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(inbox.dead.map((l) => [l.record.mobile, l.reason, l.attempts])).toEqual([
      ['13800138001', 'shutdown', 1],
      ['13800138002', 'shutdown', 0],
    ]);
    expect(inbox.calls.get('queued')).toBeUndefined();
  });

  it('does not pull records when no handler exists for them (they would be lost)', async () => {
    const warnings: string[] = [];
    vi.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsModule.forRoot({
          ...clientOptions(emulator, ALPHA),
          polling: { replies: true, reports: true, intervalMs: 20 },
        }),
      ],
    }).compile();
    emulator.injectReply({ account: 'alpha', mobile: '13800138000', content: 'keep me' });
    await moduleRef.init();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(emulator.account('alpha').pendingReplies).toBe(1);
    expect(emulator.requests().filter((r) => r.action === 'query')).toHaveLength(0);
    expect(warnings.some((w) => w.includes('@OnSmsReply()'))).toBe(true);
    await moduleRef.close();
  });

  it('routes each named client to its own handlers', async () => {
    @Injectable()
    class PerClient {
      alpha: Reply[] = [];
      beta: Reply[] = [];
      @OnSmsReply('alpha')
      onAlpha(reply: Reply) {
        this.alpha.push(reply);
      }
      @OnSmsReply('beta')
      onBeta(reply: Reply, ctx: SmsHandlerContext) {
        expect(ctx.client).toBe('beta');
        this.beta.push(reply);
      }
    }
    const polling = { replies: true, intervalMs: 30 };
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsModule.forRoot({ ...clientOptions(emulator, ALPHA), name: 'alpha', polling }),
        SmsModule.forRootAsync({
          name: 'beta',
          useFactory: () => ({ ...clientOptions(emulator, BETA), polling }),
        }),
      ],
      providers: [PerClient],
    }).compile();
    await moduleRef.init();
    const handlers = moduleRef.get(PerClient);
    emulator.injectReply({ account: 'alpha', mobile: '13800138001', content: 'to alpha' });
    emulator.injectReply({ account: 'beta', mobile: '13800138002', content: 'to beta' });
    await waitFor(() => handlers.alpha.length === 1 && handlers.beta.length === 1);
    expect(handlers.alpha[0]?.content).toBe('to alpha');
    expect(handlers.beta[0]?.content).toBe('to beta');
    await moduleRef.close();
  });

  it('keeps polling after a failed fetch', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const moduleRef = await pollingModule({ replies: true, intervalMs: 20 });
    emulator.setFault({ type: 'html500' });
    await moduleRef.init();
    await waitFor(() => emulator.requests().length >= 2);
    emulator.setFault(null);
    emulator.injectReply({ account: 'alpha', mobile: '13800138000', content: 'after the outage' });
    const inbox = moduleRef.get(Inbox);
    await waitFor(() => inbox.replies.length === 1);
    await moduleRef.close();
  });
});

describe('records salvaged from a failed pull (pull-once)', () => {
  const XML = '<?xml version="1.0" encoding="utf-8" ?>';

  it('dispatches the complete reply of a malformed answer, then keeps polling', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    emulator.setFault({
      type: 'malformed',
      path: '/callApi.aspx',
      times: 1,
      body:
        `${XML}<returnsms><callbox><mobile>13800138000</mobile><taskid></taskid>` +
        '<content>saved from the wreck</content><receivetime>2026-01-02 03:04:05</receivetime>' +
        '<extno></extno></callbox><callbox><mobile>1390013',
    });
    const moduleRef = await pollingModule({ replies: true, intervalMs: 20 });
    await moduleRef.init();
    const inbox = moduleRef.get(Inbox);
    await waitFor(() => inbox.replies.length === 1);
    expect(inbox.replies[0]?.reply).toMatchObject({
      mobile: '13800138000',
      content: 'saved from the wreck',
    });
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/fetching replies failed: .*PROTOCOL.*dispatching the 1 complete/),
    );

    emulator.injectReply({ account: 'alpha', mobile: '13800138000', content: 'next one' });
    await waitFor(() => inbox.replies.length === 2);
    expect(inbox.replies[1]?.reply.content).toBe('next one');
    expect(inbox.dead).toEqual([]);
    await moduleRef.close();
  });

  it('dispatches the complete reports of an answer cut off mid-body', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const mobiles = Array.from({ length: 6 }, (_, i) => `1380013800${i}`);
    for (const mobile of mobiles) {
      emulator.injectReport({ account: 'alpha', mobile, taskId: '4242', status: 10 });
    }
    // Half of the answer's bytes, then the connection closes (UNKNOWN_OUTCOME).
    emulator.setFault({ type: 'truncate', path: '/statusApi.aspx', times: 1 });
    const moduleRef = await pollingModule({ reports: true, intervalMs: 20 });
    await moduleRef.init();
    const inbox = moduleRef.get(Inbox);
    await waitFor(() => emulator.requests().length >= 2);
    // Every complete report of the broken answer reached the handler, in order; the rest
    // of that answer is lost (handed out once) and no other report was pulled since.
    expect(inbox.reports.length).toBeGreaterThan(0);
    expect(inbox.reports.length).toBeLessThan(mobiles.length);
    expect(inbox.reports.map((r) => r.mobile)).toEqual(mobiles.slice(0, inbox.reports.length));
    expect(emulator.account('alpha').pendingReports).toBe(0);
    await moduleRef.close();
  });

  it('dispatches a report that came with an <errorstatus>', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    emulator.setFault({
      type: 'malformed',
      path: '/statusApi.aspx',
      times: 1,
      body:
        `${XML}<returnsms><statusbox><mobile>13800138000</mobile><taskid>77</taskid>` +
        '<status>20</status><receivetime>2026-01-02 03:04:05</receivetime>' +
        '<errorcode>UNDELIV</errorcode><extno></extno></statusbox>' +
        '<errorstatus><error>4</error><remark>参数错误</remark></errorstatus></returnsms>',
    });
    const moduleRef = await pollingModule({ reports: true, intervalMs: 20 });
    await moduleRef.init();
    const inbox = moduleRef.get(Inbox);
    await waitFor(() => inbox.reports.length === 1);
    expect(inbox.reports[0]).toMatchObject({
      mobile: '13800138000',
      taskId: '77',
      status: 'failed',
      errorCode: 'UNDELIV',
    });
    await moduleRef.close();
  });
});

describe('shutdown', () => {
  it('stops the pollers and closes the client: no sockets or timers left open', async () => {
    const before = openHandles();
    const moduleRef = await pollingModule({ reports: true, replies: true, intervalMs: 25 });
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const sms = app.get(SmsClient);
    await sms.send({ mobiles: ['13800138000'], content: '【测试】bye' });
    const inbox = app.get(Inbox);
    await waitFor(() => inbox.reports.length === 1);
    expect(handlesBeyond(before)).toContain('TCPSocketWrap');
    await app.close();
    await waitFor(() => handlesBeyond(before).length === 0, 2000);
    expect(handlesBeyond(before)).toEqual([]);
    const queries = emulator.requests().length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(emulator.requests().length).toBe(queries);
  });
});

@Injectable()
class UsesClient {
  constructor(@Inject(SmsClient) readonly sms: SmsClient) {}
}

describe('overrideProvider recipe', () => {
  it('replaces the client with one pointed at the emulator', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsModule.forRoot({ baseUrl: 'http://127.0.0.1:1', account: 'prod', password: 'prod-pw' }),
      ],
      providers: [UsesClient],
    })
      .overrideProvider(SmsClient)
      .useValue(new SmsClient(clientOptions(emulator, ALPHA)))
      .compile();
    await moduleRef.get(UsesClient).sms.send({ mobiles: '13800138000', content: '【测试】x' });
    expect(emulator.sent({ account: 'alpha' })).toHaveLength(1);
    await moduleRef.close();
  });
});

describe('backlog', () => {
  it('fetches again at once when a report batch is full (maxReports)', async () => {
    const moduleRef = await pollingModule({ reports: true, intervalMs: 60_000, maxReports: 2 });
    const sender = new SmsClient(clientOptions(emulator, ALPHA));
    const mobiles = ['13800138001', '13800138002', '13800138003', '13800138004', '13800138005'];
    await sender.send({ mobiles, content: '【测试】batch' });
    await sender.close();
    expect(emulator.account('alpha').pendingReports).toBe(5);
    await moduleRef.init();
    const inbox = moduleRef.get(Inbox);
    // Three requests (2 + 2 + 1) well before the 60 s interval.
    await waitFor(() => inbox.reports.length === 5, 3000);
    const queries = emulator.requests().filter((r) => r.path.toLowerCase().includes('status'));
    expect(queries.map((r) => r.params['statusnum'])).toEqual(['2', '2', '2']);
    await moduleRef.close();
  });
});

describe('misconfiguration warnings', () => {
  it('warns about handlers that can never be called', async () => {
    const warnings: string[] = [];
    vi.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    @Injectable()
    class Orphans {
      @OnSmsReport()
      onReport() {}
      @OnSmsReply('nobody')
      onReply() {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [SmsModule.forRoot(clientOptions(emulator, ALPHA))],
      providers: [Orphans],
    }).compile();
    await moduleRef.init();
    expect(warnings).toContain(
      '@OnSmsReport() handlers exist but polling.reports is off: they receive nothing',
    );
    expect(warnings).toContain(
      "SMS handlers exist for client 'nobody' but no SmsModule is named 'nobody'",
    );
    expect(emulator.requests()).toHaveLength(0);
    await moduleRef.close();
  });
});
