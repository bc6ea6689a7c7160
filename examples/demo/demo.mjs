// The demo: a local platform (@sms/emulator), the webhook relay on SQLite, and a small
// receiver that verifies each Standard Webhooks signature. Four SMS go out (one now, one
// scheduled, one to a number that fails, one that gets a reply); every report and the
// reply arrive as webhooks. `--keep` keeps everything running; `--quiet` prints less.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SmsClient, formatShanghai, generateWebhookSecret, verifyWebhook } from '@sms/core';
import { startEmulator } from '@sms/emulator';
import { createRelay } from '@sms/webhook-relay';

const keep = process.argv.includes('--keep');
const quiet = process.argv.includes('--quiet');
const DEADLINE_MS = 30_000;
const FAILING = '13900000000';
const colour = (code, text) =>
  process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[${code}m${text}\x1b[0m` : text;
const step = (text) => console.log(`${colour('36', '›')} ${text}`);

// 1. The platform.
const emulator = await startEmulator({
  accounts: [{ userId: '12', account: 'demo', password: 'secret', balance: 100 }],
  report: { delayMs: 800, failMobiles: [FAILING], failErrorCode: 'UNDELIV' },
  autoReplies: [{ contains: '回复', reply: '收到，谢谢', delayMs: 1500 }],
});
step(`emulator on ${emulator.url}`);
step(`inbox: ${emulator.url}/ (every message, report and reply; run with --keep to look)`);

// 2. The app that wants webhooks.
const secret = generateWebhookSecret();
const events = [];
let onEvent = () => {};
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    try {
      const event = verifyWebhook({
        headers: req.headers,
        body: Buffer.concat(chunks),
        secrets: secret,
      });
      events.push({ id: req.headers['webhook-id'], event });
      const d = event.data;
      const what =
        event.type === 'sms.report'
          ? `${d.status === 'delivered' ? colour('32', 'delivered') : colour('31', `failed (${d.errorCode})`)}`
          : `reply "${d.content}"`;
      console.log(
        `${colour('35', '⇐ webhook')} ${event.type} ${d.mobile} task ${d.taskId}: ${what} ${colour('2', `[${req.headers['webhook-id']}, signature ok]`)}`,
      );
      res.writeHead(204).end();
      onEvent();
    } catch (error) {
      console.error(`receiver rejected a request: ${error.message}`);
      res.writeHead(400).end();
    }
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverUrl = `http://127.0.0.1:${receiver.address().port}/hooks/sms`;
step(`webhook receiver on ${receiverUrl}`);

// 3. The relay: polls the platform, stores every record in SQLite first, then delivers.
const dir = mkdtempSync(join(tmpdir(), 'sms-demo-'));
const relay = createRelay(
  {
    store: { sqlite: join(dir, 'relay.db') },
    accounts: [
      {
        name: 'main',
        baseUrl: emulator.url,
        userId: '12',
        account: 'demo',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: relay config substitution
        password: '${SMS_PASSWORD}',
        pollIntervalMs: 300,
      },
    ],
    targets: [
      {
        name: 'app',
        url: receiverUrl,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: relay config substitution
        secret: '${WEBHOOK_SECRET}',
        events: ['sms.report', 'sms.reply'],
      },
    ],
    http: { port: 0, host: '127.0.0.1' },
    log: { level: quiet ? 'error' : 'warn' },
  },
  { env: { SMS_PASSWORD: 'secret', WEBHOOK_SECRET: secret } },
);
await relay.start();
step(`relay running (SQLite at ${join(dir, 'relay.db')}, health at ${relay.url}/healthz)`);

// 4. Send.
const sms = new SmsClient({
  baseUrl: emulator.url,
  userId: '12',
  account: 'demo',
  password: 'secret',
});
const at = new Date(Date.now() + 3000);
const sends = [
  { label: 'now', mobiles: ['13800138000'], content: '【示例】您的验证码是 1234' },
  {
    label: `scheduled for ${formatShanghai(at)} (Shanghai)`,
    mobiles: ['13800138001'],
    content: '【示例】定时提醒：会议 10 点开始',
    sendTime: at,
  },
  { label: 'to a number that fails', mobiles: [FAILING], content: '【示例】这条会失败' },
  { label: 'that gets a reply', mobiles: ['13800138002'], content: '【示例】满意请回复 Y' },
];
const sent = [];
for (const { label, ...input } of sends) {
  const result = await sms.send(input);
  sent.push({ mobile: input.mobiles[0], taskId: result.taskId });
  console.log(
    `${colour('33', '⇒ sent')} ${label}: ${input.mobiles.join(',')} task ${result.taskId}, ${result.remainPoint} points left`,
  );
}

// 5. Wait for what each send brings: its report (failed for FAILING, else delivered), and
//    the reply to the last one. Anything else arriving is a failure too.
const expected = [
  ...sent.map(({ mobile, taskId }) => ({
    type: 'sms.report',
    mobile,
    taskId,
    status: mobile === FAILING ? 'failed' : 'delivered',
  })),
  { type: 'sms.reply', ...sent.at(-1), content: '收到，谢谢' },
];
const matches = (want, { type, data }) =>
  type === want.type &&
  data.mobile === want.mobile &&
  data.taskId === want.taskId &&
  (want.status === undefined || data.status === want.status) &&
  (want.content === undefined || data.content === want.content);
const missing = () => expected.filter((want) => !events.some((e) => matches(want, e.event)));
const unexpected = () => events.filter((e) => !expected.some((want) => matches(want, e.event)));
const done = await new Promise((resolve) => {
  const timer = setTimeout(() => resolve(false), DEADLINE_MS);
  onEvent = () => {
    if (missing().length === 0 || unexpected().length > 0) {
      clearTimeout(timer);
      resolve(missing().length === 0 && unexpected().length === 0);
    }
  };
});

if (done) {
  console.log(
    `\n${colour('32', '✔')} 4 reports and 1 reply delivered as signed webhooks, each stored by the relay before delivery.`,
  );
} else if (unexpected().length > 0) {
  console.log(`\n${colour('31', '✘')} a webhook the sends should not bring:`);
  for (const { id, event } of unexpected()) {
    console.log(`  ${event.type} ${id} ${JSON.stringify(event.data)}`);
  }
  process.exitCode = 1;
} else {
  console.log(`\n${colour('31', '✘')} still missing after ${DEADLINE_MS / 1000} s:`);
  for (const want of missing()) {
    console.log(`  ${want.type} ${want.mobile} task ${want.taskId} ${want.status ?? want.content}`);
  }
  process.exitCode = 1;
}

if (keep && done) {
  console.log(
    `Still running: inbox ${emulator.url}/, relay ${relay.url}/metrics, receiver ${receiverUrl}. Ctrl-C to stop.`,
  );
  await new Promise((resolve) => process.once('SIGINT', resolve));
}

await sms.close();
await relay.stop();
await emulator.close();
receiver.closeAllConnections();
await new Promise((resolve) => receiver.close(resolve));
rmSync(dir, { recursive: true, force: true });
