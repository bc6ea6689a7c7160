import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { SmsModule } from '@sms/nest';
import { SmsHealthIndicator } from '@sms/nest/health';
import { HealthController } from './health.controller';
import { InboxService } from './inbox.service';
import { SmsController } from './sms.controller';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    SmsModule.forRootAsync({
      isGlobal: true,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        baseUrl: config.getOrThrow<string>('SMS_BASE_URL'),
        userId: config.get<string>('SMS_USER_ID', ''),
        account: config.getOrThrow<string>('SMS_ACCOUNT'),
        password: config.getOrThrow<string>('SMS_PASSWORD'),
        // Reports and replies are pull-once: fetched records exist only in this process.
        // For durable delivery use @sms/webhook-relay and SmsWebhookGuard instead.
        polling: {
          reports: true,
          replies: true,
          intervalMs: Number(config.get('SMS_POLL_INTERVAL_MS', 5000)),
        },
      }),
    }),
    TerminusModule,
  ],
  controllers: [SmsController, HealthController],
  providers: [InboxService, SmsHealthIndicator],
})
export class AppModule {}
