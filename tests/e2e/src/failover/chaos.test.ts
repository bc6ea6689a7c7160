/**
 * Chaos: 1,000 messages through an `SmsRouter` over two emulated resellers and a third
 * account whose address refuses connections, while random faults hit both resellers (resets
 * after the request was handled, HTTP 500, broken and cut-off answers, answers slower than the
 * client's deadline, a wrong password, an empty balance). The emulators' own records are the
 * oracle: every message went out at most once, and each one either went out where the router
 * said, or the router reported why not. `CHAOS_SEED` replays a run.
 */
import { type RoutedSendResult, SmsError, SmsRouter, failoverDecision } from '@sms/core';
import type { Emulator, Fault } from '@sms/emulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { A, B, type Resellers, closedPort, startResellers } from './two-resellers.js';

const SEED = Number(process.env.CHAOS_SEED ?? 19);
const MESSAGES = 1000;
const CONCURRENCY = 8;
const PAUSE_MS = 16;

let resellers: Resellers;

beforeAll(async () => {
  resellers = await startResellers({}, {});
});

afterAll(() => resellers.close());

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

it(`sends each of ${MESSAGES} messages at most once under random faults on both resellers, and accounts for every one`, async () => {
  const random = generator(SEED);
  const port = await closedPort();
  const sms = new SmsRouter({
    strategy: 'round-robin',
    breaker: { failures: 10, windowMs: 200, coolDownMs: 20 },
    accounts: [
      { name: 'a', options: resellers.optionsA({ timeoutMs: 150 }) },
      { name: 'b', options: resellers.optionsB({ timeoutMs: 150 }) },
      { name: 'down', options: resellers.optionsB({ baseUrl: `http://127.0.0.1:${port}` }) },
    ],
  });
  const emulators: Array<[Emulator, typeof A | typeof B]> = [
    [resellers.a, A],
    [resellers.b, B],
  ];
  const disturbances: Record<string, number> = {};
  // Account outages end: each is repaired some messages later.
  const repairs = new Map<number, Array<() => void>>();
  const repairLater = (i: number, repair: () => void) => {
    const at = i + 20 + Math.floor(random() * 60);
    repairs.set(at, [...(repairs.get(at) ?? []), repair]);
  };
  const disturb = (i: number) => {
    const [emulator, account] = emulators[Math.floor(random() * 2)]!;
    const roll = random();
    const times = 1 + Math.floor(random() * 3);
    let name: string;
    let fault: Fault | null | undefined;
    if (roll < 0.15) fault = { type: 'reset', action: 'send', times };
    else if (roll < 0.3) fault = { type: 'html500', action: 'send', times };
    else if (roll < 0.38) fault = { type: 'malformed', action: 'send', times: 1 };
    else if (roll < 0.46) fault = { type: 'truncate', action: 'send', times: 1 };
    else if (roll < 0.48) fault = { type: 'latency', ms: 300, action: 'send', times: 1 };
    else if (roll < 0.58) fault = { type: 'latency', ms: 20, action: 'send', times };
    else if (roll < 0.7) fault = null;
    if (fault !== undefined) {
      emulator.setFault(fault);
      name = fault === null ? 'clear fault' : `${fault.type}${fault.ms === 20 ? ' (fast)' : ''}`;
    } else if (roll < 0.85) {
      emulator.setAccount({ account: account.account, password: 'rotated' });
      repairLater(i, () =>
        emulator.setAccount({ account: account.account, password: account.password }),
      );
      name = 'wrong password';
    } else {
      emulator.setAccount({ account: account.account, balance: 0 });
      repairLater(i, () => emulator.setAccount({ account: account.account, balance: 100_000 }));
      name = 'balance 0';
    }
    disturbances[name] = (disturbances[name] ?? 0) + 1;
  };

  type Outcome = { result: RoutedSendResult } | { error: SmsError };
  const outcomes: Outcome[] = new Array(MESSAGES);
  const mobileOf = (i: number) => String(13_000_000_000 + i);
  const contentOf = (i: number, blocked: boolean) => `【混沌】消息 ${i}${blocked ? ' 赌博' : ''}`;
  const plan = Array.from({ length: MESSAGES }, () => ({
    disturb: random() < 0.1,
    blocked: random() < 0.03,
  }));
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < MESSAGES) {
      const i = next++;
      // Each worker pauses between its messages (an open breaker answers at once: without a
      // pause, hundreds would pass while every breaker is open and test nothing). The pause
      // follows each send, so a slow, loaded machine slows the arrivals down with it.
      if (i >= CONCURRENCY) await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
      for (const repair of repairs.get(i) ?? []) repair();
      if (plan[i]!.disturb) disturb(i);
      try {
        const result = await sms.send({
          mobiles: [mobileOf(i)],
          content: contentOf(i, plan[i]!.blocked),
        });
        outcomes[i] = { result };
      } catch (error) {
        expect(error).toBeInstanceOf(SmsError);
        outcomes[i] = { error: error as SmsError };
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const elapsed = performance.now() - started;
  await sms.close();

  // The oracle: what each reseller recorded, by number.
  const sentTo = new Map<string, Array<{ reseller: string; taskId: string }>>();
  for (const sent of resellers.sentEverywhere()) {
    for (const mobile of sent.mobiles) {
      const list = sentTo.get(mobile) ?? [];
      list.push({ reseller: sent.reseller, taskId: sent.taskId });
      sentTo.set(mobile, list);
    }
  }
  const tally: Record<string, number> = {};
  let failedOver = 0;
  let skippedByBreaker = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const outcome = outcomes[i]!;
    const copies = sentTo.get(mobileOf(i)) ?? [];
    // At most once, whatever happened.
    expect({ i, copies: copies.length }).toEqual({ i, copies: Math.min(copies.length, 1) });
    if ('result' in outcome) {
      const { result } = outcome;
      expect({ i, blocked: plan[i]!.blocked }).toEqual({ i, blocked: false });
      expect({ i, copies }).toEqual({
        i,
        copies: [{ reseller: result.account, taskId: result.taskId }],
      });
      for (const attempt of result.attempts)
        expect(
          attempt.code === 'CIRCUIT_OPEN' || failoverDecision(attempt.code) === 'failover',
        ).toBe(true);
      if (result.attempts.length > 0) failedOver++;
      const key = `sent on ${result.account}`;
      tally[key] = (tally[key] ?? 0) + 1;
      continue;
    }
    const { error } = outcome;
    if (error.attempts.some((attempt) => attempt.code === 'CIRCUIT_OPEN')) skippedByBreaker++;
    // Reported with its reason: a code, the account it ended on, every account tried.
    expect(error.account).toBeDefined();
    expect(error.attempts.length).toBeGreaterThan(0);
    const last = error.attempts.at(-1)!;
    if (error.code === 'ALL_ACCOUNTS_FAILED') {
      expect(error.attempts).toHaveLength(3);
      for (const attempt of error.attempts)
        expect(
          attempt.code === 'CIRCUIT_OPEN' || failoverDecision(attempt.code) === 'failover',
        ).toBe(true);
    } else {
      // It stopped where the table says stop: the last attempt is this error, on its account.
      expect([last.account, last.code]).toEqual([error.account, error.code]);
      expect(failoverDecision(error.code)).toBe('stop');
      for (const attempt of error.attempts.slice(0, -1))
        expect(
          attempt.code === 'CIRCUIT_OPEN' || failoverDecision(attempt.code) === 'failover',
        ).toBe(true);
    }
    if (error.code === 'UNKNOWN_OUTCOME' || error.code === 'PROTOCOL') {
      // May have gone out: if it did, only on the account the error names.
      for (const copy of copies)
        expect({ i, reseller: copy.reseller }).toEqual({ i, reseller: error.account });
    } else {
      // Surely not sent (every account refused, content refused, HTTP 500 page).
      expect({ i, code: error.code, copies }).toEqual({ i, code: error.code, copies: [] });
    }
    // Blocked content never goes out (both resellers block the word; it is never failed over).
    if (plan[i]!.blocked) expect({ i, copies }).toEqual({ i, copies: [] });
    const key = `${error.code}${copies.length > 0 ? ' (went out)' : ''}`;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  console.log(
    `chaos seed ${SEED}: ${MESSAGES} messages in ${Math.round(elapsed)} ms, ${failedOver} sent after a failover, ${skippedByBreaker} refused with an open breaker among the attempts`,
  );
  console.table(tally);
  console.table(disturbances);
  // The run did meet the faults it is about.
  expect(tally['UNKNOWN_OUTCOME (went out)']).toBeGreaterThan(0);
  expect(tally.ILLEGAL_KEYWORD).toBeGreaterThan(0);
  expect(failedOver).toBeGreaterThan(0);
  expect(skippedByBreaker).toBeGreaterThan(0);
  // Both breakers trip often at this fault rate (an open one is skipped at once, and with
  // both open a message fails fast as ALL_ACCOUNTS_FAILED, surely unsent): a quarter of the
  // messages going out shows the run is not all refusals.
  expect((tally['sent on a'] ?? 0) + (tally['sent on b'] ?? 0)).toBeGreaterThan(MESSAGES / 4);
});
