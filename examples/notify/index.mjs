// SMS notifications through the libraries apps already use: one channel over @sms/core,
// a notifme-sdk provider and a Novu provider on top of it, a local platform (the emulator).
// Point baseUrl/account/password at a real platform and drop the emulator to go live.
import { ChannelTypeEnum, NovuStateless } from '@novu/stateless';
import { SmsClient } from '@sms/core';
import { startEmulator } from '@sms/emulator';
import { createSmsChannel } from '@sms/notify';
import { notifmeSmsProvider } from '@sms/notify/notifme';
import { novuSmsProvider } from '@sms/notify/novu';
import notifmeSdk from 'notifme-sdk';

// notifme-sdk is Babel-compiled CommonJS: from native ESM its class is on `.default`.
const NotifmeSdk = notifmeSdk.default ?? notifmeSdk;

const emulator = await startEmulator({
  accounts: [{ userId: '12', account: 'demo', password: 'secret', balance: 100 }],
  report: { delayMs: 0, failMobiles: ['13900139000'] },
});
const client = new SmsClient({
  baseUrl: emulator.url,
  userId: '12',
  account: 'demo',
  password: 'secret',
});
const sms = createSmsChannel(client, { signature: '示例' });

try {
  // 1. The channel itself.
  console.log('channel:', await sms.send({ to: '13800138000', text: '您的验证码是 1234' }));

  // 2. notifme-sdk: our provider first, notifme falls back to the next one if it rejects.
  const notifme = new NotifmeSdk({
    channels: { sms: { providers: [notifmeSmsProvider(sms)], multiProviderStrategy: 'fallback' } },
  });
  const notified = await notifme.send({
    sms: { from: 'Shop', to: '13800138001', text: '您的订单已发货' },
  });
  console.log('notifme:', notified);
  if (notified.status !== 'success') throw new Error('notifme did not send through our provider');

  // 3. Novu (stateless): register the provider and a template, trigger an event.
  const provider = novuSmsProvider(sms);
  const novu = new NovuStateless();
  await novu.registerProvider(provider);
  await novu.registerTemplate({
    id: 'order-arrived',
    messages: [{ channel: ChannelTypeEnum.SMS, template: '{{name}}，您的包裹已到达驿站' }],
  });
  await novu.trigger('order-arrived', { $user_id: 'u-1', $phone: '13900139000', name: '张三' });

  if (emulator.sent().length !== 3) throw new Error('the emulator did not record three sends');
  console.log('the platform received:');
  for (const m of emulator.sent()) console.log(' ', m.taskId, m.mobiles.join(','), m.content);

  // 4. Delivery reports, as @sms/webhook-relay posts them, read into Novu SMS statuses.
  emulator.flush();
  const events = (await client.fetchReports()).map((data) => ({ type: 'sms.report', data }));
  const body = JSON.parse(JSON.stringify(events));
  const statuses = new Map();
  for (const id of provider.getMessageId(body)) {
    const status = provider.parseEventBody(body, id);
    console.log(`novu status of ${id}:`, status?.status, status?.response);
    statuses.set(id, status?.status);
  }
  // Every message has its status: delivered, except the one to the failing number.
  for (const m of emulator.sent()) {
    const expected = m.mobiles.includes('13900139000') ? 'failed' : 'delivered';
    if (statuses.get(m.taskId) !== expected) {
      throw new Error(`expected ${m.taskId} ${expected}, got ${statuses.get(m.taskId)}`);
    }
  }
} catch (error) {
  console.error('failed:', error);
  process.exitCode = 1;
} finally {
  await client.close();
  await emulator.close();
}
