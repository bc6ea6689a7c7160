import { Controller, Get, Module } from '@nestjs/common';
import { InboxService } from './inbox.service';

@Controller('sms/inbox')
export class InboxController {
  constructor(private readonly inbox: InboxService) {}

  @Get()
  received() {
    return { reports: this.inbox.reports, replies: this.inbox.replies };
  }
}

/** Reports and replies polled by this process (`SmsModule`'s `polling`): `GET /sms/inbox`. */
@Module({ controllers: [InboxController], providers: [InboxService] })
export class PollingModule {}
