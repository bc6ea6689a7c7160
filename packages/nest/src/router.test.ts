/**
 * `SmsModule.forRoot({ accounts, strategy })` over two emulated resellers: the module's
 * router fails over only where the send surely did not go out (the emulators' own records
 * say where each message went), and polling hands every account's records, tagged, to one
 * set of handlers.
 */
import { createServer } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  type AccountReport,
  SmsClient,
  SmsError,
  SmsRouter,
  type SmsRouterAccount,
} from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TerminusModule } from '@nestjs/terminus';
import { InjectSmsRouter, OnSmsReport } from './decorators.js';
import { SmsHealthIndicator } from './health.js';
import { SmsModule } from './sms.module.js';
import { ALPHA, BETA, clientOptions, waitFor } from './test-utils/fixtures.js';

let resellerA: Emulator;
let resellerB: Emulator;
beforeAll(async () => {
  resellerA = await startEmulator({ port: 0, accounts: [ALPHA] });
  resellerB = await startEmulator({ port: 0, accounts: [BETA], keywords: [] });
});
afterAll(async () => {
  await resellerA.close();
  await resellerB.close();
});
beforeEach(() => {
  resellerA.reset();
  resellerB.reset();
});

function accounts(a: Partial<SmsRouterAccount['options']> = {}): SmsRouterAccount[] {
  return [
    { name: 'a', options: { ...clientOptions(resellerA, ALPHA), retry: false, ...a } },
    { name: 'b', options: { ...clientOptions(resellerB, BETA), retry: false } },
  ];
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

@Injectable()
class Notifier {
  constructor(
    @InjectSmsRouter() readonly router: SmsRouter,
    @Inject(SmsClient) readonly sender: Pick<SmsClient, 'send'>,
  ) {}
}

const message = (text: string) => ({ mobiles: ['13800138000'], content: `【测试】${text}` });

describe('SmsModule with accounts', () => {
  it('forRoot: a refused connection on a fails over to b; the message went out once, on b', async () => {
    const port = await closedPort();
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsModule.forRoot({
          accounts: accounts({ baseUrl: `http://127.0.0.1:${port}` }),
          strategy: 'priority',
        }),
      ],
      providers: [Notifier],
    }).compile();
    const { router, sender } = moduleRef.get(Notifier);
    expect(router).toBeInstanceOf(SmsRouter);
    expect(sender).toBe(router); // code that injects SmsClient and calls send() gets failover too
    const result = await sender.send(message('refused'));
    expect(result).toMatchObject({ account: 'b', attempts: [{ account: 'a', code: 'NETWORK' }] });
    expect(resellerB.sent().map((m) => m.taskId)).toEqual([result.taskId]);
    expect(resellerA.sent()).toEqual([]);
    await moduleRef.close();
  });

  it('forRootAsync: a reset after the request was written is UNKNOWN_OUTCOME on a; b is never asked', async () => {
    resellerA.setFault({ type: 'reset', action: 'send', times: 1 });
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsModule.forRootAsync({
          useFactory: async () => ({ accounts: accounts(), strategy: 'priority' }),
        }),
      ],
      providers: [Notifier],
    }).compile();
    const { router } = moduleRef.get(Notifier);
    const error = await router
      .send(message('reset after write'))
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(SmsError);
    expect(error).toMatchObject({ code: 'UNKNOWN_OUTCOME', account: 'a' });
    expect(resellerA.sent()).toHaveLength(1); // it did go out on a
    expect(resellerB.requests()).toHaveLength(0);
    await moduleRef.close();
  });

  it('polls every account and hands each report, tagged with its account, to the same handler', async () => {
    @Injectable()
    class Reports {
      seen: AccountReport[] = [];
      @OnSmsReport() onReport(report: AccountReport) {
        this.seen.push(report);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsModule.forRoot({
          accounts: accounts(),
          strategy: 'round-robin',
          polling: { reports: true, intervalMs: 20 },
        }),
      ],
      providers: [Notifier, Reports],
    }).compile();
    await moduleRef.init();
    const { router } = moduleRef.get(Notifier);
    const first = await router.send({ mobiles: ['13800000001'], content: '【测试】one' });
    const second = await router.send({ mobiles: ['13800000002'], content: '【测试】two' });
    const reports = moduleRef.get(Reports);
    await waitFor(() => reports.seen.length === 2);
    expect(reports.seen.map((r) => [r.account, r.taskId]).sort()).toEqual(
      [
        [first.account, first.taskId],
        [second.account, second.taskId],
      ].sort(),
    );
    expect(new Set(reports.seen.map((r) => r.account))).toEqual(new Set(['a', 'b']));
    await moduleRef.close();
  });

  it('with one account, SmsRouter is injectable too: a router over that client', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SmsModule.forRoot(clientOptions(resellerA, ALPHA))],
      providers: [Notifier],
    }).compile();
    const { router, sender } = moduleRef.get(Notifier);
    expect(sender).toBeInstanceOf(SmsClient);
    const result = await router.send(message('one account'));
    expect(result).toMatchObject({ account: 'alpha', attempts: [] });
    expect(resellerA.sent().map((m) => m.taskId)).toEqual([result.taskId]);
    await moduleRef.close();
  });

  it('health: up while one account can send, with each account in the details; down when none can', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TerminusModule.forRoot({ logger: false }),
        SmsModule.forRoot({ accounts: accounts({ password: 'wrong' }) }),
      ],
      providers: [SmsHealthIndicator],
    }).compile();
    const health = moduleRef.get(SmsHealthIndicator);
    const up = await health.isHealthy('sms');
    expect(up.sms).toMatchObject({
      status: 'up',
      accounts: {
        a: { status: 'down', code: 'AUTH_FAILED', breaker: 'closed' },
        b: { status: 'up', payType: 'postpaid', breaker: 'closed' },
      },
    });
    resellerB.setAccount({ account: BETA.account, password: 'rotated' });
    const down = await health.isHealthy('sms');
    expect(down.sms).toMatchObject({ status: 'down', message: 'no account can send' });
    expect(JSON.stringify(down)).not.toContain('alpha-secret');
    await moduleRef.close();
  });
});
