export { getSmsClientToken, getSmsRouterToken, SMS_MODULE_OPTIONS } from './constants.js';
export {
  SmsExceptionFilter,
  type SmsHttpErrorBody,
  smsErrorToHttp,
} from './exception-filter.js';
export {
  InjectSmsClient,
  InjectSmsRouter,
  OnSmsDeadLetter,
  OnSmsReply,
  OnSmsReport,
  type SmsHandlerKind,
} from './decorators.js';
export type {
  SmsClientModuleOptions,
  SmsClientOptions,
  SmsDeadLetter,
  SmsHandlerContext,
  SmsHandlerRetryOptions,
  SmsModuleExtras,
  SmsModuleOptions,
  SmsOptionsFactory,
  SmsPollingOptions,
  SmsRecordKind,
  SmsRouterModuleOptions,
  SmsRouterOptions,
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
