import { ConfigurableModuleBuilder, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SmsClient, SmsRouter, validationError } from '@sms/core';
import {
  getSmsClientToken,
  getSmsRouterToken,
  SMS_MODULE_CONTEXT,
  SMS_MODULE_OPTIONS,
  type SmsModuleContext,
} from './constants.js';
import type {
  SmsClientModuleOptions,
  SmsModuleExtras,
  SmsModuleOptions,
  SmsPollingOptions,
  SmsRouterModuleOptions,
} from './options.js';
import { SmsClientHost } from './sms-client-host.js';

/**
 * Builds what the module provides from its options (polling settings are the module's, not
 * core's): an `SmsClient` for one account, an `SmsRouter` for `accounts`.
 */
export function createSmsClient(options: SmsClientModuleOptions): SmsClient;
export function createSmsClient(options: SmsRouterModuleOptions): SmsRouter;
export function createSmsClient(options: SmsModuleOptions): SmsClient | SmsRouter;
export function createSmsClient(options: SmsModuleOptions): SmsClient | SmsRouter {
  validatePolling(options?.polling);
  if (options !== null && typeof options === 'object' && 'accounts' in options) {
    const { polling: _polling, ...routerOptions } = options;
    return new SmsRouter(routerOptions);
  }
  const { polling: _polling, ...clientOptions } = options as SmsClientModuleOptions;
  return new SmsClient(clientOptions);
}

/** The router token: the module's router, or a one-account router over its client. */
function routerOf(sender: SmsClient | SmsRouter, context: SmsModuleContext): SmsRouter {
  if (sender instanceof SmsRouter) return sender;
  const name = (sender as { account?: unknown }).account;
  return new SmsRouter({
    accounts: [
      { name: typeof name === 'string' ? name : (context.name ?? 'default'), client: sender },
    ],
    breaker: false,
  });
}

/** Bad polling options stop the module from starting (NaN as `intervalMs` would poll in a hot loop). */
function validatePolling(polling: SmsPollingOptions | undefined): void {
  if (polling === undefined) return;
  if (polling === null || typeof polling !== 'object') {
    throw validationError('polling', 'polling must be an object');
  }
  const positive = (value: unknown, field: string, integer: boolean) => {
    if (value === undefined) return;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value <= 0 ||
      (integer && !Number.isInteger(value))
    ) {
      throw validationError(
        field,
        `${field} must be a positive ${integer ? 'integer' : 'number'} (got ${String(value)})`,
      );
    }
  };
  positive(polling.intervalMs, 'polling.intervalMs', false);
  positive(polling.maxReports, 'polling.maxReports', true);
  positive(polling.shutdownTimeoutMs, 'polling.shutdownTimeoutMs', false);
  if (polling.retry !== undefined) {
    if (polling.retry === null || typeof polling.retry !== 'object') {
      throw validationError('polling.retry', 'polling.retry must be an object');
    }
    positive(polling.retry.attempts, 'polling.retry.attempts', true);
    positive(polling.retry.baseDelayMs, 'polling.retry.baseDelayMs', false);
    positive(polling.retry.maxDelayMs, 'polling.retry.maxDelayMs', false);
  }
  if (polling.onDeadLetter !== undefined && typeof polling.onDeadLetter !== 'function') {
    throw validationError('polling.onDeadLetter', 'polling.onDeadLetter must be a function');
  }
}

export const {
  ConfigurableModuleClass: SmsConfigurableModule,
  OPTIONS_TYPE: SMS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SMS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SmsModuleOptions>({
  moduleName: 'Sms',
  optionsInjectionToken: SMS_MODULE_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSmsOptions')
  .setExtras<SmsModuleExtras>({ isGlobal: false, name: undefined }, (definition, extras) => {
    const token = getSmsClientToken(extras.name);
    const context: SmsModuleContext = { name: extras.name };
    return {
      ...definition,
      global: extras.isGlobal ?? false,
      imports: [...(definition.imports ?? []), DiscoveryModule],
      providers: [
        ...(definition.providers ?? []),
        { provide: SMS_MODULE_CONTEXT, useValue: context },
        { provide: token, useFactory: createSmsClient, inject: [SMS_MODULE_OPTIONS] },
        {
          provide: getSmsRouterToken(extras.name),
          useFactory: routerOf,
          inject: [token, SMS_MODULE_CONTEXT],
        },
        SmsClientHost,
      ],
      exports: [...(definition.exports ?? []), token, getSmsRouterToken(extras.name)],
    };
  })
  .build();

/** Options of `SmsModule.forRoot`. */
export type SmsModuleForRootOptions = typeof SMS_OPTIONS_TYPE;
/** Options of `SmsModule.forRootAsync`. */
export type SmsModuleForRootAsyncOptions = typeof SMS_ASYNC_OPTIONS_TYPE;

/**
 * The SMS module. `SmsModule.forRoot({ baseUrl, account, password, ... })` or
 * `SmsModule.forRootAsync({ imports, useFactory, inject })`; `name` registers a named
 * client, `isGlobal` makes it visible everywhere, `polling` turns on the handlers.
 */
@Module({})
export class SmsModule extends SmsConfigurableModule {}
