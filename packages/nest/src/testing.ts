import {
  type DynamicModule,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  type AccountConfig,
  type Emulator,
  type EmulatorOptions,
  startEmulator,
} from '@sms/emulator';
import { SMS_MODULE_CONTEXT, type SmsModuleContext } from './constants.js';
import type {
  SmsClientOptions,
  SmsModuleExtras,
  SmsModuleOptions,
  SmsPollingOptions,
} from './options.js';
import { SmsClientHost } from './sms-client-host.js';
import { SmsModule } from './sms.module.js';

/** The account the testing module creates when `emulator.accounts` is not given. */
export const SMS_TEST_ACCOUNT: AccountConfig = {
  userId: '1',
  account: 'nest-test',
  password: 'nest-test-password',
  balance: 1000,
};

/** Options of `SmsTestingModule.forRoot`. */
export interface SmsTestingModuleOptions extends SmsModuleExtras {
  /** Emulator options; the client logs in as the first of `accounts` (default `SMS_TEST_ACCOUNT`). */
  emulator?: Partial<EmulatorOptions>;
  /** Extra client options (timeouts, charset, retry...). */
  client?: Partial<SmsClientOptions>;
  /** Polling, as in `SmsModule.forRoot`. */
  polling?: SmsPollingOptions;
}

/** The injection token of the emulator behind a testing client (by client name). */
export function getSmsEmulatorToken(name?: string): string {
  return name === undefined ? 'SmsEmulator' : `SmsEmulator:${name}`;
}

/** Injects the `Emulator` started by `SmsTestingModule` (to inject replies, read `sent()`...). */
export function InjectSmsEmulator(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getSmsEmulatorToken(name));
}

@Injectable()
class SmsEmulatorCloser implements OnApplicationShutdown {
  constructor(
    @Inject(SmsClientHost) private readonly host: SmsClientHost,
    @Inject(SMS_MODULE_CONTEXT) private readonly context: SmsModuleContext,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    // The pollers and the client first, so no request is cut off by the server closing.
    await this.host.shutdown();
    await this.moduleRef.get<Emulator>(getSmsEmulatorToken(this.context.name)).close();
  }
}

/**
 * `SmsModule` backed by a real `@sms/emulator` on 127.0.0.1 (a free port): the same
 * providers and tokens as `SmsModule.forRoot`, plus the emulator (`@InjectSmsEmulator()`),
 * closed at shutdown. Needs `@sms/emulator` installed (a dev dependency).
 */
@Module({})
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest module is a class with static factories
export class SmsTestingModule {
  static forRoot(options: SmsTestingModuleOptions = {}): DynamicModule {
    const accounts = options.emulator?.accounts ?? [SMS_TEST_ACCOUNT];
    const login = accounts[0];
    if (!login) throw new TypeError('[sms] [nest] SmsTestingModule needs at least one account');
    const emulatorToken = getSmsEmulatorToken(options.name);
    const base = SmsModule.forRootAsync({
      ...(options.name === undefined ? {} : { name: options.name }),
      isGlobal: options.isGlobal ?? false,
      useFactory: (emulator: Emulator): SmsModuleOptions => ({
        baseUrl: emulator.url,
        userId: login.userId,
        account: login.account,
        password: login.password,
        ...options.client,
        ...(options.polling ? { polling: options.polling } : {}),
      }),
      inject: [emulatorToken],
    });
    return {
      ...base,
      module: SmsTestingModule,
      providers: [
        ...(base.providers ?? []),
        {
          provide: emulatorToken,
          useFactory: () => startEmulator({ port: 0, ...options.emulator, accounts }),
        },
        SmsEmulatorCloser,
      ],
      exports: [...(base.exports ?? []), emulatorToken],
    };
  }
}
