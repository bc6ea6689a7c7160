import { Injectable, Logger } from '@nestjs/common';
import type { SmsReplyWebhookData, SmsReportWebhookData } from '@sms/core';
import type { SmsWebhookEvent } from '@sms/nest';

/** A report or reply as delivered by @sms/webhook-relay, with its `webhook-id`. */
export type Received<T> = T & { webhookId: string };

/**
 * Receives the verified events @sms/webhook-relay delivers. The relay retries until it gets a
 * 2xx, so the same event can arrive twice: `webhook-id` is fixed when the relay stores the
 * event, and it is the deduplication key. A real app would insert into a table with a unique
 * key on it (and in the same transaction as its own update) instead of keeping a Set.
 */
@Injectable()
export class WebhookInboxService {
  private readonly logger = new Logger(WebhookInboxService.name);
  private readonly seen = new Set<string>();
  readonly reports: Received<SmsReportWebhookData>[] = [];
  readonly replies: Received<SmsReplyWebhookData>[] = [];
  duplicates = 0;

  /** Stores the event once; returns false for a redelivery of an event already stored. */
  receive(webhookId: string, event: SmsWebhookEvent): boolean {
    if (this.seen.has(webhookId)) {
      this.duplicates += 1;
      this.logger.log(`${event.type} ${webhookId} again: already stored`);
      return false;
    }
    this.seen.add(webhookId);
    if (event.type === 'sms.report') this.onReport(webhookId, event.data);
    else this.onReply(webhookId, event.data);
    return true;
  }

  private onReport(webhookId: string, report: SmsReportWebhookData): void {
    this.logger.log(
      `webhook report: task ${report.taskId} to ${report.mobile} ${report.status} (${report.account})`,
    );
    this.reports.push({ ...report, webhookId });
  }

  private onReply(webhookId: string, reply: SmsReplyWebhookData): void {
    this.logger.log(`webhook reply from ${reply.mobile}: ${reply.content} (${reply.account})`);
    this.replies.push({ ...reply, webhookId });
  }
}
