import { BadRequestException, Body, Controller, Get, Post } from '@nestjs/common';
import { SmsClient } from '@sms/core';

interface SendBody {
  mobile?: string;
  content?: string;
}

@Controller('sms')
export class SmsController {
  // The default client is injectable by its class: no decorator needed.
  constructor(private readonly sms: SmsClient) {}

  /**
   * A bad number, blocked words, a refused account or a send whose outcome is unknown all
   * throw `SmsError`: `SmsExceptionFilter` (app.module.ts) answers each with its status
   * (400 with the field, 422 with the words, 502, 504 "may have been sent", …).
   */
  @Post()
  send(@Body() body: SendBody) {
    if (!body.mobile || !body.content)
      throw new BadRequestException('mobile and content are required');
    return this.sms.send({ mobiles: [body.mobile], content: body.content });
  }

  @Get('balance')
  balance() {
    return this.sms.balance();
  }
}
