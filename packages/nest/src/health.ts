import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import { type SmsClient, SmsRouter } from '@sms/core';
import { getSmsClientToken } from './constants.js';
import { describeError } from './dispatcher.js';

/** Options of one `SmsHealthIndicator.isHealthy` check. */
export interface SmsHealthCheckOptions {
  /** The named client to check; omit for the default client. */
  client?: string;
  /** Report `down` when a prepaid account's balance is below this many messages. */
  minBalance?: number;
  /** Give up after this long. Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * A `@nestjs/terminus` health indicator: calls `balance()` on the client and reports
 * `up` with `payType`, `overage` and `sendTotal`, or `down` with the reason (error code
 * and message; never credentials). Add it to the providers of a module that imports
 * `TerminusModule`.
 */
@Injectable()
export class SmsHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  /** Checks the platform through the client's `balance()` call. */
  async isHealthy<const Key extends string = 'sms'>(
    key: Key = 'sms' as Key,
    options: SmsHealthCheckOptions = {},
  ) {
    const indicator = this.health.check(key);
    let client: SmsClient | SmsRouter;
    try {
      client = this.moduleRef.get<SmsClient | SmsRouter>(getSmsClientToken(options.client), {
        strict: false,
      });
    } catch (error) {
      return indicator.down({ message: describeError(error) });
    }
    const timeoutMs = options.timeoutMs ?? 5000;
    if (client instanceof SmsRouter) return this.#router(indicator, client, options, timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    try {
      const balance = await Promise.race([
        client.balance(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`balance check timed out after ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      const data = {
        payType: balance.payType,
        overage: balance.overage,
        sendTotal: balance.sendTotal,
      };
      if (
        options.minBalance !== undefined &&
        balance.payType === 'prepaid' &&
        balance.overage < options.minBalance
      ) {
        return indicator.down({
          ...data,
          message: `balance ${balance.overage} is below ${options.minBalance}`,
        });
      }
      return indicator.up(data);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return indicator.down({
        message: describeError(error),
        ...(typeof code === 'string' ? { code } : {}),
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A module with `accounts`: `up` while at least one account answers its balance (above
   * `minBalance`) and its breaker is not open; each account's balance or error and breaker
   * state are in the details.
   */
  async #router(
    indicator: ReturnType<HealthIndicatorService['check']>,
    router: SmsRouter,
    options: SmsHealthCheckOptions,
    timeoutMs: number,
  ) {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const balances = await Promise.race([router.balances(), timedOut]);
    clearTimeout(timer);
    if (balances === 'timeout')
      return indicator.down({ message: `balance check timed out after ${timeoutMs} ms` });
    const breakers = new Map(router.breakers().map((b) => [b.account, b.state]));
    const accounts: Record<string, Record<string, unknown>> = {};
    let usable = 0;
    for (const { account, balance, error } of balances) {
      const breaker = breakers.get(account) ?? 'closed';
      if (error || !balance) {
        accounts[account] = { status: 'down', code: error?.code, breaker };
        continue;
      }
      const low =
        options.minBalance !== undefined &&
        balance.payType === 'prepaid' &&
        balance.overage < options.minBalance;
      const up = !low && breaker !== 'open';
      if (up) usable++;
      accounts[account] = {
        status: up ? 'up' : 'down',
        payType: balance.payType,
        overage: balance.overage,
        breaker,
      };
    }
    return usable > 0
      ? indicator.up({ accounts })
      : indicator.down({ accounts, message: 'no account can send' });
  }
}
