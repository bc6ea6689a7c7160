import { Inject, Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { SmsClient } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getSmsClientToken } from './constants.js';
import { InjectSmsClient } from './decorators.js';
import type { SmsModuleOptions, SmsOptionsFactory } from './options.js';
import { SmsModule } from './sms.module.js';
import { ALPHA, BETA, clientOptions } from './test-utils/fixtures.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ port: 0, accounts: [ALPHA, BETA] });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

@Injectable()
class Notifier {
  constructor(
    @Inject(SmsClient) readonly sms: SmsClient,
    @InjectSmsClient() readonly sameSms: SmsClient,
  ) {}

  notify(mobile: string) {
    return this.sms.send({ mobiles: [mobile], content: '【测试】您的验证码是 1234' });
  }
}

describe('SmsModule.forRoot', () => {
  it('provides the default client as SmsClient; send and balance reach the emulator', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SmsModule.forRoot(clientOptions(emulator, ALPHA))],
      providers: [Notifier],
    }).compile();
    const notifier = moduleRef.get(Notifier);
    expect(notifier.sms).toBeInstanceOf(SmsClient);
    expect(notifier.sameSms).toBe(notifier.sms);
    expect(getSmsClientToken()).toBe(SmsClient);

    const result = await notifier.notify('13800138000');
    expect(result.successCounts).toBe(1);
    const sent = emulator.sent({ account: 'alpha' });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.taskId).toBe(result.taskId);

    const balance = await notifier.sms.balance();
    expect(balance).toMatchObject({ payType: 'prepaid', overage: 499 });
    expect(emulator.account('alpha').balance).toBe(499);
    await moduleRef.close();
  });

  it('isGlobal makes the client injectable from modules that do not import SmsModule', async () => {
    @Module({ providers: [Notifier], exports: [Notifier] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsModule.forRoot({ ...clientOptions(emulator, ALPHA), isGlobal: true }),
        FeatureModule,
      ],
    }).compile();
    const notifier = moduleRef.get(Notifier);
    await notifier.notify('13800138001');
    expect(emulator.sent({ account: 'alpha' })).toHaveLength(1);
    await moduleRef.close();
  });

  it('without isGlobal the client is not visible to a module that does not import it', async () => {
    @Module({ providers: [Notifier] })
    class FeatureModule {}
    await expect(
      Test.createTestingModule({
        imports: [SmsModule.forRoot(clientOptions(emulator, ALPHA)), FeatureModule],
      }).compile(),
    ).rejects.toThrow(/SmsClient/);
  });
});

@Injectable()
class TwoAccounts {
  constructor(
    @InjectSmsClient('alpha') readonly alpha: SmsClient,
    @InjectSmsClient('beta') readonly beta: SmsClient,
  ) {}
}

describe('named clients', () => {
  it('registers two named clients with separate accounts', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsModule.forRoot({ ...clientOptions(emulator, ALPHA), name: 'alpha' }),
        SmsModule.forRootAsync({
          name: 'beta',
          useFactory: () => clientOptions(emulator, BETA),
        }),
      ],
      providers: [TwoAccounts],
    }).compile();
    const both = moduleRef.get(TwoAccounts);
    expect(both.alpha).not.toBe(both.beta);
    expect(moduleRef.get(getSmsClientToken('alpha'))).toBe(both.alpha);

    await both.alpha.send({ mobiles: '13800138000', content: '【甲】hello' });
    await both.beta.send({ mobiles: ['13800138001', '13800138002'], content: '【乙】hello' });
    expect(emulator.sent({ account: 'alpha' })).toHaveLength(1);
    expect(emulator.sent({ account: 'beta' })).toHaveLength(1);
    expect(await both.alpha.balance()).toMatchObject({ payType: 'prepaid', overage: 499 });
    expect(await both.beta.balance()).toMatchObject({ payType: 'postpaid', sendTotal: 2 });
    // Neither named module registers the default token.
    expect(() => moduleRef.get(SmsClient)).toThrow();
    await moduleRef.close();
  });
});

@Injectable()
class SmsConfigFactory implements SmsOptionsFactory {
  createSmsOptions(): SmsModuleOptions {
    return clientOptions(emulator, ALPHA);
  }
}

@Module({ providers: [SmsConfigFactory], exports: [SmsConfigFactory] })
class SmsConfigModule {}

describe('SmsModule.forRootAsync', () => {
  it('reads its options from @nestjs/config with useFactory + inject', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ sms: clientOptions(emulator, BETA) })],
        }),
        SmsModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => config.getOrThrow<SmsModuleOptions>('sms'),
        }),
      ],
      providers: [Notifier],
    }).compile();
    await moduleRef.get(Notifier).notify('13800138000');
    expect(emulator.sent({ account: 'beta' })).toHaveLength(1);
    await moduleRef.close();
  });

  it('accepts useClass', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SmsModule.forRootAsync({ useClass: SmsConfigFactory, isGlobal: true })],
      providers: [Notifier],
    }).compile();
    expect(await moduleRef.get(Notifier).sms.balance()).toMatchObject({ overage: 500 });
    await moduleRef.close();
  });

  it('accepts useExisting', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsModule.forRootAsync({ imports: [SmsConfigModule], useExisting: SmsConfigFactory }),
      ],
      providers: [Notifier],
    }).compile();
    expect(await moduleRef.get(Notifier).sms.balance()).toMatchObject({ overage: 500 });
    await moduleRef.close();
  });

  it('fails at startup with a typed error when the options are invalid', async () => {
    await expect(
      Test.createTestingModule({
        imports: [
          SmsModule.forRootAsync({
            useFactory: () => ({ baseUrl: 'not a url', account: 'a', password: 'p' }),
          }),
        ],
      }).compile(),
    ).rejects.toMatchObject({ code: 'VALIDATION', field: 'baseUrl' });
  });
});
