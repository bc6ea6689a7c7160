/**
 * Two resellers of the platform for failover tests: two real @sms/emulator instances on
 * 127.0.0.1, each with its own account, keywords and faults. What each one recorded
 * (`sent()`, `requests()`) is the oracle of where a message went and how many times.
 */
import { createServer } from 'node:net';
import type { SmsClientOptions } from '@sms/core';
import { type Emulator, type EmulatorOptions, startEmulator } from '@sms/emulator';

export const A = { userId: '21', account: 'alpha', password: 'alpha-secret' } as const;
export const B = { userId: '', account: 'beta', password: 'beta-secret' } as const;

export interface Resellers {
  a: Emulator;
  b: Emulator;
  /** Client options for reseller A's account (no retries of its own: one attempt per send). */
  optionsA(overrides?: Partial<SmsClientOptions>): SmsClientOptions;
  optionsB(overrides?: Partial<SmsClientOptions>): SmsClientOptions;
  /** Every message both resellers accepted, with the reseller's name. */
  sentEverywhere(): Array<{
    reseller: 'a' | 'b';
    content: string;
    mobiles: string[];
    taskId: string;
  }>;
  reset(): void;
  close(): Promise<void>;
}

export async function startResellers(
  a: EmulatorOptions = {},
  b: EmulatorOptions = {},
): Promise<Resellers> {
  const emulatorA = await startEmulator({
    accounts: [{ ...A, balance: 100_000 }],
    report: { delayMs: 0 },
    ...a,
  });
  const emulatorB = await startEmulator({
    accounts: [{ ...B, balance: 100_000 }],
    report: { delayMs: 0 },
    firstTaskId: '5000000000000001',
    ...b,
  });
  return {
    a: emulatorA,
    b: emulatorB,
    optionsA: (overrides = {}) => ({ baseUrl: emulatorA.url, ...A, retry: false, ...overrides }),
    optionsB: (overrides = {}) => ({ baseUrl: emulatorB.url, ...B, retry: false, ...overrides }),
    sentEverywhere: () => [
      ...emulatorA.sent().map((m) => ({ reseller: 'a' as const, ...pick(m) })),
      ...emulatorB.sent().map((m) => ({ reseller: 'b' as const, ...pick(m) })),
    ],
    reset() {
      emulatorA.reset();
      emulatorB.reset();
    },
    async close() {
      await Promise.all([emulatorA.close(), emulatorB.close()]);
    },
  };
}

function pick(message: { content: string; mobiles: string[]; taskId: string }) {
  return { content: message.content, mobiles: message.mobiles, taskId: message.taskId };
}

/** A 127.0.0.1 port where nothing listens (bound, then closed): connections are refused. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
