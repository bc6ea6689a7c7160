/** A webhook secret that can never verify anything stops the app at start, naming the option. */
import { Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { generateWebhookSecret } from '@sms/core';
import { describe, expect, it } from 'vitest';
import { SmsWebhookGuard, SmsWebhookModule, type SmsWebhookModuleOptions } from './webhook.js';

@Controller('hooks')
class HookController {
  @Post()
  @HttpCode(204)
  @UseGuards(SmsWebhookGuard)
  receive(): void {}
}

const good = generateWebhookSecret();
const short = `whsec_${Buffer.alloc(8, 7).toString('base64')}`;

async function boot(module: ReturnType<typeof SmsWebhookModule.forRoot>) {
  const ref = await Test.createTestingModule({
    imports: [module],
    controllers: [HookController],
  }).compile();
  await ref.close();
}

describe('SmsWebhookModule checks its secret when the module starts', () => {
  const cases: Array<[string, SmsWebhookModuleOptions['secret'], RegExp]> = [
    ['not whsec_', 'hunter2-my-password', /option "secret" must start with "whsec_"/],
    [
      'not base64',
      'whsec_this is not base64!',
      /option "secret" must be "whsec_" followed by base64/,
    ],
    ['shorter than 16 bytes', short, /option "secret" is too short: 8 bytes/],
    ['empty', '', /option "secret" must be a "whsec_\.\.\." string/],
    ['one bad secret of a rotation', [good, short], /option "secret\[1\]" is too short/],
    ['no secret at all', [], /option "secret" needs at least one secret/],
  ];
  for (const [what, secret, message] of cases) {
    it(`refuses a secret that is ${what}, without printing it`, async () => {
      const error = await boot(SmsWebhookModule.forRoot({ secret })).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(Error);
      expect(error!.message).toMatch(message);
      expect(error!.message).toContain('[sms] [nest] SmsWebhookModule');
      for (const value of [secret].flat()) {
        if (value.length > 6) expect(error!.message).not.toContain(value.slice(6));
      }
    });
  }

  it('forRootAsync too', async () => {
    await expect(
      boot(SmsWebhookModule.forRootAsync({ useFactory: () => ({ secret: 'whsec_YWJj' }) })),
    ).rejects.toThrow(/option "secret" is too short/);
  });

  it('refuses a negative toleranceSeconds', async () => {
    await expect(
      boot(SmsWebhookModule.forRoot({ secret: good, toleranceSeconds: -1 })),
    ).rejects.toThrow(/option "toleranceSeconds"/);
  });

  it('boots with a generated secret, and with a rotation of two', async () => {
    await boot(SmsWebhookModule.forRoot({ secret: good }));
    await boot(SmsWebhookModule.forRoot({ secret: [good, generateWebhookSecret()] }));
  });
});
