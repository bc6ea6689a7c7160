import type { GatewayAccountStates } from '../gateway/routes.js';
import type { RelayConfig } from '../config/schema.js';
import type { ConsoleAccounts, ConsoleSendingAccount } from './api-types.js';

/**
 * The Accounts panel's answer: per configured account, its breaker in this process and the
 * failovers of the stored messages (counted from their records, so they survive a restart and
 * every replica shows the same; they go with the messages after `retention`).
 */
export function consoleAccounts(
  config: Pick<RelayConfig, 'accounts' | 'gateway'>,
  states: GatewayAccountStates,
  now: number,
): ConsoleAccounts {
  const settings = config.gateway.breaker;
  const accounts = config.accounts.map(({ name }): ConsoleSendingAccount => {
    const breaker = states.breakers.find((b) => b.account === name);
    const failovers = { away: 0, to: 0, awayByCode: {} as Record<string, number> };
    for (const { from, to, code, count } of states.failovers) {
      if (from === name) {
        failovers.away += count;
        failovers.awayByCode[code] = (failovers.awayByCode[code] ?? 0) + count;
      }
      if (to === name) failovers.to += count;
    }
    return {
      name,
      breaker: breaker
        ? {
            state: breaker.state,
            since: breaker.since,
            failures: breaker.failures,
            probeAt: breaker.retryAt ?? null,
          }
        : null,
      failovers,
    };
  });
  return {
    now,
    breaker: settings === false ? null : { ...settings },
    accounts,
  };
}
