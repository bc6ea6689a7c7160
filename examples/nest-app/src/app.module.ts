import { Module } from '@nestjs/common';
import { ConditionalModule, ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { SmsExceptionFilter, SmsModule } from '@sms/nest';
import { SmsHealthIndicator } from '@sms/nest/health';
import { HealthController } from './health.controller';
import { PollingModule } from './polling.module';
import { SmsController } from './sms.controller';
import { WebhookModule } from './webhook.module';

/** With a webhook secret, reports and replies come from @sms/webhook-relay instead of polling. */
const viaRelay = (secret: string | undefined): boolean => Boolean(secret?.trim());

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    SmsModule.forRootAsync({
      isGlobal: true,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        baseUrl: config.getOrThrow<string>('SMS_BASE_URL'),
        userId: config.get<string>('SMS_USERID', ''),
        account: config.getOrThrow<string>('SMS_ACCOUNT'),
        password: config.getOrThrow<string>('SMS_PASSWORD'),
        // Reports and replies are pull-once: fetched records exist only in this process, and
        // whoever fetches first gets them. For durable delivery, run @sms/webhook-relay and set
        // SMS_WEBHOOK_SECRET: the relay is then the only reader and the app stops polling.
        polling: viaRelay(config.get<string>('SMS_WEBHOOK_SECRET'))
          ? undefined
          : {
              reports: true,
              replies: true,
              intervalMs: Number(config.get('SMS_POLL_INTERVAL_MS', 5000)),
            },
      }),
    }),
    // One reader per account: either this process polls, or the relay does and posts here.
    ConditionalModule.registerWhen(PollingModule, (env) => !viaRelay(env['SMS_WEBHOOK_SECRET']), {
      debug: false,
    }),
    ConditionalModule.registerWhen(WebhookModule, (env) => viaRelay(env['SMS_WEBHOOK_SECRET']), {
      debug: false,
    }),
    TerminusModule,
  ],
  controllers: [SmsController, HealthController],
  providers: [
    SmsHealthIndicator,
    // SmsError -> 400 / 422 / 502 / 503 / 504 with a JSON body, instead of Nest's 500.
    { provide: APP_FILTER, useClass: SmsExceptionFilter },
  ],
})
export class AppModule {}
