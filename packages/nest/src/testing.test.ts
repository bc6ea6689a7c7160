import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type Reply, SmsClient } from '@sms/core';
import type { Emulator } from '@sms/emulator';
import { describe, expect, it } from 'vitest';
import { InjectSmsClient, OnSmsReply } from './decorators.js';
import {
  getSmsEmulatorToken,
  InjectSmsEmulator,
  SMS_TEST_ACCOUNT,
  SmsTestingModule,
} from './testing.js';
import { handlesBeyond, openHandles, waitFor } from './test-utils/fixtures.js';

@Injectable()
class Greeter {
  replies: Reply[] = [];
  constructor(
    @InjectSmsClient() readonly sms: SmsClient,
    @InjectSmsEmulator() readonly emulator: Emulator,
  ) {}

  greet(mobile: string) {
    return this.sms.send({ mobiles: mobile, content: '【测试】欢迎' });
  }

  @OnSmsReply()
  onReply(reply: Reply) {
    this.replies.push(reply);
  }
}

describe('SmsTestingModule', () => {
  it('backs SmsClient with a real emulator and closes both at shutdown', async () => {
    const before = openHandles();
    const moduleRef = await Test.createTestingModule({
      imports: [SmsTestingModule.forRoot({ polling: { replies: true, intervalMs: 20 } })],
      providers: [Greeter],
    }).compile();
    await moduleRef.init();
    const greeter = moduleRef.get(Greeter);
    expect(moduleRef.get(SmsClient)).toBe(greeter.sms);
    const { taskId } = await greeter.greet('13800138000');
    expect(greeter.emulator.sent({ account: SMS_TEST_ACCOUNT.account })[0]?.taskId).toBe(taskId);
    greeter.emulator.injectReply({
      account: SMS_TEST_ACCOUNT.account,
      mobile: '13800138000',
      content: '谢谢',
    });
    await waitFor(() => greeter.replies.length === 1);
    expect(greeter.replies[0]).toMatchObject({ content: '谢谢', taskId });

    const url = greeter.emulator.url;
    await moduleRef.close();
    await expect(fetch(`${url}/sms.aspx`, { method: 'POST' })).rejects.toThrow();
    await waitFor(() => handlesBeyond(before).length === 0, 2000);
  });

  it('supports a named client and custom accounts', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsTestingModule.forRoot({
          name: 'marketing',
          emulator: {
            accounts: [
              { userId: '9', account: 'mkt', password: 'pw', payType: 'postpaid', balance: 0 },
            ],
          },
        }),
      ],
    }).compile();
    const sms = moduleRef.get<SmsClient>('SmsClient:marketing');
    const emulator = moduleRef.get<Emulator>(getSmsEmulatorToken('marketing'));
    expect(await sms.balance()).toMatchObject({ payType: 'postpaid' });
    expect(emulator.account('mkt').payType).toBe('postpaid');
    await moduleRef.close();
  });
});
