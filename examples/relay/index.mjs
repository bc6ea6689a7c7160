// emulator -> sms-relay -> a local receiver that checks each signature with @sms/core.
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { SmsClient, generateWebhookSecret, verifyWebhook } from '@sms/core';
import { startEmulator } from '@sms/emulator';
import { createRelay, loadConfig } from '@sms/webhook-relay';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const cleanDb = () => {
  for (const suffix of ['', '-wal', '-shm', '-owner'])
    rmSync(here(`relay.db${suffix}`), { force: true });
};
cleanDb();

const password = 'secret';
const emulator = await startEmulator({ accounts: [{ userId: '12', account: 'demo', password }] });

const secret = generateWebhookSecret();
const received = [];
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const event = verifyWebhook({
      headers: req.headers,
      body: Buffer.concat(chunks),
      secrets: secret,
    });
    console.log(`webhook ${req.headers['webhook-id']}: ${event.type}`, event.data);
    received.push(event);
    res.writeHead(204).end();
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));

const config = loadConfig(here('relay.json'), {
  SMS_BASE_URL: emulator.url,
  SMS_PASSWORD: password,
  WEBHOOK_URL: `http://127.0.0.1:${receiver.address().port}/hooks/sms`,
  WEBHOOK_SECRET: secret,
});
const relay = createRelay({ ...config, http: { port: 0, host: '127.0.0.1' } });
await relay.start();

const sms = new SmsClient({ baseUrl: emulator.url, userId: '12', account: 'demo', password });
const { taskId } = await sms.send({ mobiles: ['13800138000'], content: '【示例】验证码 1234' });
emulator.injectReply({ account: 'demo', mobile: '13800138000', content: '收到，谢谢' });
console.log(`sent task ${taskId}; waiting for its report and the reply as webhooks…`);

// What should arrive: the report of this task, delivered, and the reply, each as its type.
const report = () => received.find((e) => e.type === 'sms.report' && e.data.taskId === taskId);
const reply = () => received.find((e) => e.type === 'sms.reply' && e.data.mobile === '13800138000');
const deadline = Date.now() + 15_000;
while (!(report() && reply()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
console.log(
  (await (await fetch(`${relay.url}/metrics`)).text())
    .split('\n')
    .filter((l) => l.startsWith('sms_relay_deliveries_delivered_total'))
    .join('\n'),
);

await relay.stop();
await sms.close();
await emulator.close();
receiver.close();
cleanDb();
// The example is also a test (`pnpm test`): exit 1 unless both arrived as they should.
const problems = [];
if (report()?.data.status !== 'delivered') {
  problems.push(
    `no "delivered" sms.report for task ${taskId} (got ${report()?.data.status ?? 'none'})`,
  );
}
if (reply()?.data.content !== '收到，谢谢') {
  problems.push(
    `no sms.reply "收到，谢谢" from 13800138000 (got ${reply()?.data.content ?? 'none'})`,
  );
}
if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
