import { Controller, Get, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { SmsWebhookEvent, SmsWebhookGuard } from '@sms/nest';
import { WebhookInboxService } from './webhook-inbox.service';

@Controller('hooks/sms')
export class WebhookController {
  constructor(private readonly inbox: WebhookInboxService) {}

  /**
   * The relay target's `url`. The guard verifies the Standard Webhooks signature on the raw
   * body (main.ts creates the app with `rawBody: true`): forged, stale or unsigned requests
   * get 401 and never reach this method. Any 2xx tells the relay the event landed; a throw
   * (5xx) makes it retry later.
   */
  @Post()
  @HttpCode(204)
  @UseGuards(SmsWebhookGuard)
  receive(@Headers('webhook-id') webhookId: string, @SmsWebhookEvent() event: SmsWebhookEvent) {
    this.inbox.receive(webhookId, event);
  }

  @Get('inbox')
  received() {
    const { reports, replies, duplicates } = this.inbox;
    return { reports, replies, duplicates };
  }
}
