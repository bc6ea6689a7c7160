import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { SmsClient } from '@sms/core';
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
    let client: SmsClient;
    try {
      client = this.moduleRef.get<SmsClient>(getSmsClientToken(options.client), { strict: false });
    } catch (error) {
      return indicator.down({ message: describeError(error) });
    }
    const timeoutMs = options.timeoutMs ?? 5000;
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
}
