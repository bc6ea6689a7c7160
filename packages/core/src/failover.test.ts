import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SmsError, type SmsErrorCode } from './errors.js';
import { FAILOVER_RULES, failoverDecision } from './failover.js';
import { type RoutableClient, SmsRouter } from './router.js';
import type { SendResult } from './types.js';

const DOCS = new URL('../../../docs/sending.md', import.meta.url);

describe('the failover table', () => {
  it('is written once: docs/sending.md prints FAILOVER_RULES row for row', () => {
    const text = readFileSync(DOCS, 'utf8');
    const table = text
      .split('<!-- failover-table:start -->')[1]
      ?.split('<!-- failover-table:end -->')[0];
    expect(table).toBeDefined();
    const rows = table!
      .trim()
      .split('\n')
      .slice(2)
      .map((line) =>
        line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    const fromCode = Object.entries(FAILOVER_RULES).map(([code, rule]) => [
      `\`${code}\``,
      rule.decision === 'failover' ? 'yes' : '**never**',
      rule.breaker ? 'yes' : 'no',
      rule.why,
    ]);
    expect(rows).toEqual(fromCode);
  });

  it('never fails over where the message may have gone out, nor on content', () => {
    for (const code of [
      'UNKNOWN_OUTCOME',
      'HTTP',
      'PROTOCOL',
      'ILLEGAL_KEYWORD',
      'SIGNATURE_REQUIRED',
      'SQL_INJECTION',
    ] as const)
      expect(failoverDecision(code)).toBe('stop');
    expect(failoverDecision('ILLEGAL_KEYWORD', { failoverOnKeyword: true })).toBe('failover');
    // The opt-in is for keywords only.
    expect(failoverDecision('SQL_INJECTION', { failoverOnKeyword: true })).toBe('stop');
    expect(failoverDecision('UNKNOWN_OUTCOME', { failoverOnKeyword: true })).toBe('stop');
  });
});

/** A stand-in account: answers from a script, records what it was asked to send. */
function scripted(
  name: string,
  script: Array<SmsErrorCode | 'ok'>,
  sent: string[],
): RoutableClient {
  const send = async (): Promise<SendResult> => {
    const next = script.length > 0 ? script.shift()! : 'ok';
    if (next !== 'ok') throw new SmsError(`${name} ${next}`, { code: next, action: 'send' });
    sent.push(name);
    return { taskId: `${name}-${sent.length}`, successCounts: 1, remainPoint: 0, message: 'ok' };
  };
  const none = async () => [];
  return {
    send,
    fetchReports: none,
    fetchReplies: none,
    balance: async () => ({ payType: 'prepaid', overage: 0, sendTotal: 0, payInfo: '' }),
    close: async () => {},
  };
}

const input = { mobiles: ['13800138000'], content: '【示例】x' };

describe('SmsRouter strategies', () => {
  it('round-robin starts each send at the next account', async () => {
    const sent: string[] = [];
    const router = new SmsRouter({
      strategy: 'round-robin',
      accounts: ['a', 'b', 'c'].map((name) => ({ name, client: scripted(name, [], sent) })),
    });
    for (let i = 0; i < 6; i++) await router.send(input);
    expect(sent).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('weighted picks the first account in proportion to its weight; weight 0 only as a fallback', async () => {
    const sent: string[] = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const router = new SmsRouter({
      strategy: 'weighted',
      random,
      accounts: [
        { name: 'a', weight: 3, client: scripted('a', [], sent) },
        { name: 'b', weight: 1, client: scripted('b', [], sent) },
        { name: 'z', weight: 0, client: scripted('z', [], sent) },
      ],
    });
    for (let i = 0; i < 2000; i++) await router.send(input);
    const share = sent.filter((name) => name === 'a').length / sent.length;
    expect(share).toBeGreaterThan(0.7);
    expect(share).toBeLessThan(0.8);
    expect(sent).not.toContain('z');
  });

  it('a client that throws something other than an SmsError stops the send as UNKNOWN_OUTCOME', async () => {
    const sent: string[] = [];
    const broken = scripted('a', [], sent);
    broken.send = async () => {
      throw new TypeError('boom');
    };
    const router = new SmsRouter({
      accounts: [
        { name: 'a', client: broken },
        { name: 'b', client: scripted('b', [], sent) },
      ],
    });
    await expect(router.send(input)).rejects.toMatchObject({
      code: 'UNKNOWN_OUTCOME',
      account: 'a',
    });
    expect(sent).toEqual([]);
  });
});
