export { getSmsClientToken, SMS_MODULE_OPTIONS } from './constants.js';
export {
  SmsExceptionFilter,
  type SmsHttpErrorBody,
  smsErrorToHttp,
} from './exception-filter.js';
export {
  InjectSmsClient,
  OnSmsDeadLetter,
  OnSmsReply,
  OnSmsReport,
  type SmsHandlerKind,
} from './decorators.js';
export type {
  SmsClientOptions,
  SmsDeadLetter,
  SmsHandlerContext,
  SmsHandlerRetryOptions,
  SmsModuleExtras,
  SmsModuleOptions,
  SmsOptionsFactory,
  SmsPollingOptions,
  SmsRecordKind,
} from './options.js';
export {
  createSmsClient,
  SmsModule,
  type SmsModuleForRootAsyncOptions,
  type SmsModuleForRootOptions,
} from './sms.module.js';
export {
  assertSmsWebhookOptions,
  SMS_WEBHOOK_OPTIONS,
  SmsWebhookEvent,
  SmsWebhookGuard,
  SmsWebhookModule,
  type SmsWebhookModuleOptions,
  type SmsWebhookOptionsFactory,
} from './webhook.js';
