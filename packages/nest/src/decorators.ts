import { Inject } from '@nestjs/common';
import { getSmsClientToken, getSmsRouterToken, SMS_HANDLER_METADATA } from './constants.js';

/** What a decorated method handles. */
export type SmsHandlerKind = 'report' | 'reply' | 'dead-letter';

/** One entry of the handler metadata stored on a method. */
export interface SmsHandlerMetadata {
  kind: SmsHandlerKind;
  client: string | undefined;
}

/** Injects the default `SmsClient`, or the client registered under `name`. */
export function InjectSmsClient(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getSmsClientToken(name));
}

/** Injects the default module's `SmsRouter` (or the one of the module named `name`). */
export function InjectSmsRouter(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getSmsRouterToken(name));
}

function handlerDecorator(kind: SmsHandlerKind, client: string | undefined): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const existing: SmsHandlerMetadata[] = Reflect.getMetadata(SMS_HANDLER_METADATA, method) ?? [];
    Reflect.defineMetadata(SMS_HANDLER_METADATA, [...existing, { kind, client }], method);
    return descriptor;
  };
}

/**
 * Marks a provider or controller method as a delivery-report handler:
 * `(report: StatusReport, ctx: SmsHandlerContext) => unknown`. Needs `polling.reports`.
 * `client` picks a named client; omit it for the default one.
 */
export function OnSmsReport(client?: string): MethodDecorator {
  return handlerDecorator('report', client);
}

/**
 * Marks a method as a reply handler: `(reply: Reply, ctx: SmsHandlerContext) => unknown`.
 * Needs `polling.replies`.
 */
export function OnSmsReply(client?: string): MethodDecorator {
  return handlerDecorator('reply', client);
}

/**
 * Marks a method as the dead-letter hook: `(deadLetter: SmsDeadLetter) => unknown`, called
 * with each record whose handler still threw after the last retry.
 */
export function OnSmsDeadLetter(client?: string): MethodDecorator {
  return handlerDecorator('dead-letter', client);
}
