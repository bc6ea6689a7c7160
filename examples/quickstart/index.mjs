// Quickstart: a local platform (the emulator), one SMS sent, its delivery report fetched.
// Point baseUrl/account/password at a real platform and drop the emulator to go live.
import { SmsClient, SmsError } from '@sms/core';
import { startEmulator } from '@sms/emulator';

const emulator = await startEmulator({
  accounts: [{ userId: '12', account: 'demo', password: 'secret', balance: 100 }],
  report: { delayMs: 500 },
});
const sms = new SmsClient({
  baseUrl: emulator.url,
  userId: '12',
  account: 'demo',
  password: 'secret',
});

try {
  const sent = await sms.send({ mobiles: '138 0013 8000', content: '【示例】您的验证码是 1234' });
  console.log('sent:', sent);
  console.log('balance:', await sms.balance());

  // Reports are pull-once: each is handed out a single time, so keep what you fetch.
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), 10_000);
  let ours; // the report for our task
  for await (const report of sms.reports({ intervalMs: 200, signal: controller.signal })) {
    console.log('report:', report);
    if (report.taskId === sent.taskId) {
      ours = report;
      break;
    }
  }
  clearTimeout(timeout);
  // The example is also a test (`pnpm test`): what it shows must have happened.
  if (!ours) throw new Error(`no report for task ${sent.taskId} within 10 s`);
  if (ours.status !== 'delivered') {
    throw new Error(`task ${sent.taskId} was not delivered: ${ours.errorCode}`);
  }
} catch (error) {
  console.error('failed:', error instanceof SmsError ? `${error.code} ${error.message}` : error);
  process.exitCode = 1;
} finally {
  await sms.close();
  await emulator.close();
}
