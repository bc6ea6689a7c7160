import { ConfigurableModuleBuilder, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SmsClient } from '@sms/core';
import {
  getSmsClientToken,
  SMS_MODULE_CONTEXT,
  SMS_MODULE_OPTIONS,
  type SmsModuleContext,
} from './constants.js';
import type { SmsModuleExtras, SmsModuleOptions } from './options.js';
import { SmsClientHost } from './sms-client-host.js';

/** Builds the client from the module options (polling settings are the module's, not core's). */
export function createSmsClient(options: SmsModuleOptions): SmsClient {
  const { polling: _polling, ...clientOptions } = options;
  return new SmsClient(clientOptions);
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
        SmsClientHost,
      ],
      exports: [...(definition.exports ?? []), token],
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
