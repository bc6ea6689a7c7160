import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SmsWebhookModule } from '@sms/nest';
import { WebhookController } from './webhook.controller';
import { WebhookInboxService } from './webhook-inbox.service';

/** `POST /hooks/sms`: reports and replies delivered by @sms/webhook-relay. */
@Module({
  imports: [
    SmsWebhookModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        // The relay target's `secret`; during a rotation, both secrets separated by a space.
        secret: config
          .getOrThrow<string>('SMS_WEBHOOK_SECRET')
          .split(/[\s,]+/)
          .filter(Boolean),
      }),
    }),
  ],
  controllers: [WebhookController],
  providers: [WebhookInboxService],
})
export class WebhookModule {}
