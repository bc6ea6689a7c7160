import type { AccountConfig, Emulator } from '@sms/emulator';
import type { SmsClientOptions } from '../options.js';

export const ALPHA: AccountConfig = {
  userId: '101',
  account: 'alpha',
  password: 'alpha-secret-pw',
  balance: 500,
};
export const BETA: AccountConfig = {
  userId: '102',
  account: 'beta',
  password: 'beta-secret-pw',
  payType: 'postpaid',
  balance: 0,
};

export function clientOptions(emulator: Emulator, account: AccountConfig): SmsClientOptions {
  return {
    baseUrl: emulator.url,
    userId: account.userId,
    account: account.account,
    password: account.password,
  };
}

/** Handle types that matter for leaks: sockets, servers, timers. */
export function openHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((type) => /TCP|Timeout|Immediate|Pipe/.test(type))
    .sort();
}

export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Handle types present now in greater number than in `baseline`. */
export function handlesBeyond(baseline: string[]): string[] {
  const remaining = [...baseline];
  const extra: string[] = [];
  for (const type of openHandles()) {
    const index = remaining.indexOf(type);
    if (index >= 0) remaining.splice(index, 1);
    else extra.push(type);
  }
  return extra;
}
