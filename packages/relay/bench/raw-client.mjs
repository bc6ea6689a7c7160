// The raw client the gateway's sends are measured against: `SmsClient.send`, `concurrency` at
// a time, in the bench's own process beside the emulator, no queue.
import { SmsClient } from '@sms/core';
import { cpuSnapshot, cpuSpent } from './cpu.mjs';

/**
 * `warmup` untimed sends, then `burst` timed ones: sends a second, and this process's CPU over
 * the timed part (the client's and the emulator's).
 */
export async function rawRun(platform, { password, concurrency, burst, warmup }) {
  platform.reset();
  const client = new SmsClient({
    baseUrl: platform.url,
    userId: '12',
    account: 'demo',
    password,
    connections: concurrency,
  });
  let next = 0;
  const sendAll = (total) =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next++;
          await client.send({
            mobiles: [`13${String(next).padStart(9, '0')}`],
            content: '【测试】raw',
          });
        }
      }),
    );
  // Untimed first: the first store's ratio was against a client still compiling (4.4–5.2k/s
  // against 10–13k/s warm in the same run).
  await sendAll(warmup);
  platform.reset();
  next = 0;
  const before = cpuSnapshot(process.pid);
  const start = performance.now();
  await sendAll(burst);
  const ms = performance.now() - start;
  // The client and the emulator both run here: the bench's share.
  const cpu = { ...cpuSpent(before, cpuSnapshot(process.pid)), relay: 0, relayMain: 0 };
  await client.close();
  return { perSecond: Math.round(burst / (ms / 1000)), cpu };
}
