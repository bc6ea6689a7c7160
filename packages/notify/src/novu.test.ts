import {
  ChannelTypeEnum,
  type ISmsProvider,
  NovuStateless,
  SmsEventStatusEnum,
} from '@novu/stateless';
import { SmsClient, type StatusReport } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmsChannel } from './channel.js';
import { type SmsReportEvent, novuSmsProvider } from './novu.js';
import { testSmsDriver } from './testing/conformance.js';

testSmsDriver({
  name: '@novu/stateless (NovuStateless.trigger)',
  // trigger() resolves to nothing: Novu keeps the provider's id to itself.
  returnsId: false,
  makeSender: async (channel) => {
    const novu = new NovuStateless();
    await novu.registerProvider(novuSmsProvider(channel));
    await novu.registerTemplate({
      id: 'notice',
      messages: [{ channel: ChannelTypeEnum.SMS, template: '{{{text}}}' }],
    });
    return {
      async send({ to, text }) {
        await novu.trigger('notice', { $user_id: 'user-1', $phone: to, text });
        return undefined;
      },
    };
  },
});

testSmsDriver({
  name: '@novu/stateless ISmsProvider.sendMessage (as the Novu worker calls it)',
  returnsId: true,
  makeSender: (channel) => {
    const provider: ISmsProvider = novuSmsProvider(channel, { id: 'sms-ruanwei' });
    return {
      async send({ to, text }) {
        const response = await provider.sendMessage({
          to,
          content: text,
          from: 'Shop',
          id: 'novu-message-1',
          customData: {},
        });
        expect(Number.isNaN(Date.parse(response.date ?? ''))).toBe(false);
        expect(response.ids).toEqual([response.id]);
        return response.id;
      },
    };
  },
});

describe('Novu delivery events from @sms/webhook-relay reports', () => {
  const ACCOUNT = { userId: '', account: 'novu', password: 'pw' };
  let emulator: Emulator;
  let client: SmsClient;

  beforeAll(async () => {
    emulator = await startEmulator({
      accounts: [ACCOUNT],
      report: { delayMs: 0, failMobiles: ['13900139000'], failErrorCode: 'UNDELIV' },
    });
    client = new SmsClient({ baseUrl: emulator.url, ...ACCOUNT });
  });
  afterAll(async () => {
    await client.close();
    await emulator.close();
  });

  // What the relay posts for a report (Standard Webhooks payload), after a JSON round trip.
  const asWebhook = (report: StatusReport): SmsReportEvent =>
    JSON.parse(
      JSON.stringify({ type: 'sms.report', timestamp: new Date().toISOString(), data: report }),
    );

  it('maps delivered and failed reports of sent messages to Novu SMS statuses', async () => {
    const provider = novuSmsProvider(createSmsChannel(client, { signature: '店' }));
    expect(provider.channelType).toBe(ChannelTypeEnum.SMS);
    const ok = await provider.sendMessage({ to: '13800138000', content: '到货了' });
    const ko = await provider.sendMessage({ to: '13900139000', content: '到货了' });
    emulator.flush();
    const reports = await client.fetchReports();
    expect(reports).toHaveLength(2);
    const events = reports.map(asWebhook);
    const body = [
      ...events,
      { type: 'sms.reply', data: { taskId: ok.id, mobile: '13800138000', content: 'TD' } },
    ];

    expect(provider.getMessageId(body).sort()).toEqual([ok.id, ko.id].sort());

    const delivered = provider.parseEventBody(body, ok.id!);
    const index = reports.findIndex((r) => r.taskId === ok.id);
    const report = reports[index]!;
    expect(delivered).toEqual({
      status: SmsEventStatusEnum.DELIVERED,
      date: report.receivedAt.toISOString(),
      externalId: ok.id,
      response: 'DELIVRD',
      row: JSON.stringify(events[index]),
    });
    const failed = provider.parseEventBody(body, ko.id!);
    expect(failed?.status).toBe(SmsEventStatusEnum.FAILED);
    expect(failed?.response).toBe('UNDELIV');
  });

  it('reads a single event, a raw JSON string, and ignores what is not a report', () => {
    const provider = novuSmsProvider(createSmsChannel(client));
    const event = {
      type: 'sms.report',
      data: {
        taskId: '9007199254740993',
        mobile: '13800138000',
        status: 'delivered',
        errorCode: 'DELIVRD',
        receivedAt: '2030-01-02T00:00:00.000Z',
      },
    };
    expect(provider.getMessageId(event)).toEqual(['9007199254740993']);
    expect(provider.getMessageId(JSON.stringify(event))).toEqual(['9007199254740993']);
    expect(provider.parseEventBody(JSON.stringify(event), '9007199254740993')?.date).toBe(
      '2030-01-02T00:00:00.000Z',
    );
    expect(provider.parseEventBody(event, 'other')).toBeUndefined();
    expect(provider.getMessageId({ type: 'sms.reply', data: { taskId: '1' } })).toEqual([]);
    expect(provider.getMessageId('not json')).toEqual([]);
    expect(provider.getMessageId(null)).toEqual([]);
  });
});
