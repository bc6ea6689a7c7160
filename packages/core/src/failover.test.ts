import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FAILOVER_RULES, failoverDecision } from './failover.js';

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
