import { Injectable, Logger } from '@nestjs/common';
import type { Reply, StatusReport } from '@sms/core';
import { OnSmsDeadLetter, OnSmsReply, OnSmsReport, type SmsDeadLetter } from '@sms/nest';

/** Receives what the pollers fetch. A real app would write to its database here. */
@Injectable()
export class InboxService {
  private readonly logger = new Logger(InboxService.name);
  readonly reports: StatusReport[] = [];
  readonly replies: Reply[] = [];
  readonly deadLetters: SmsDeadLetter[] = [];

  @OnSmsReport()
  onReport(report: StatusReport): void {
    this.logger.log(`report: task ${report.taskId} to ${report.mobile} ${report.status}`);
    this.reports.push(report);
  }

  @OnSmsReply()
  onReply(reply: Reply): void {
    // Throwing here would retry the reply with backoff, then dead-letter it (see below).
    this.logger.log(`reply from ${reply.mobile}: ${reply.content}`);
    this.replies.push(reply);
  }

  @OnSmsDeadLetter()
  onDeadLetter(letter: SmsDeadLetter): void {
    this.logger.error(`dead letter from ${letter.handler}: ${JSON.stringify(letter.record)}`);
    this.deadLetters.push(letter);
  }
}
