import { BadRequestException, Body, Controller, Get, Post } from '@nestjs/common';
import { SmsClient, SmsError } from '@sms/core';

interface SendBody {
  mobile?: string;
  content?: string;
}

@Controller('sms')
export class SmsController {
  // The default client is injectable by its class: no decorator needed.
  constructor(private readonly sms: SmsClient) {}

  @Post()
  async send(@Body() body: SendBody) {
    if (!body.mobile || !body.content)
      throw new BadRequestException('mobile and content are required');
    try {
      return await this.sms.send({ mobiles: [body.mobile], content: body.content });
    } catch (error) {
      if (error instanceof SmsError && error.isPlatformRefusal) {
        throw new BadRequestException({ code: error.code, message: error.platformMessage });
      }
      throw error;
    }
  }

  @Get('balance')
  balance() {
    return this.sms.balance();
  }
}
