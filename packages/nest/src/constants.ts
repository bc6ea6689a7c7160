import { SmsClient, SmsRouter } from '@sms/core';

/** Injection token of the options object of one `SmsModule` instance (module-local). */
export const SMS_MODULE_OPTIONS = 'SMS_MODULE_OPTIONS';
/** Injection token of `{ name }` for one `SmsModule` instance (module-local). */
export const SMS_MODULE_CONTEXT = 'SMS_MODULE_CONTEXT';
/** Metadata key under which `@OnSmsReport` / `@OnSmsReply` / `@OnSmsDeadLetter` store handlers. */
export const SMS_HANDLER_METADATA = 'sms:handlers';
/** Request property where `SmsWebhookGuard` leaves the verified event. */
export const SMS_WEBHOOK_EVENT_KEY = 'smsWebhookEvent';

/**
 * The injection token of a client: the `SmsClient` class itself for the default client,
 * `SmsClient:<name>` for a named one.
 */
export function getSmsClientToken(name?: string): typeof SmsClient | string {
  return name === undefined ? SmsClient : `SmsClient:${name}`;
}

/**
 * The injection token of a router: the `SmsRouter` class itself for the default module,
 * `SmsRouter:<name>` for a named one. With one account it is a router over that one client.
 */
export function getSmsRouterToken(name?: string): typeof SmsRouter | string {
  return name === undefined ? SmsRouter : `SmsRouter:${name}`;
}

/** What the module knows about itself at runtime. */
export interface SmsModuleContext {
  /** The client name, `undefined` for the default client. */
  name: string | undefined;
}
