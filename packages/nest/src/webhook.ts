import {
  BadRequestException,
  type CanActivate,
  ConfigurableModuleBuilder,
  createParamDecorator,
  type ExecutionContext,
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  Module,
  UnauthorizedException,
} from '@nestjs/common';
import {
  type SmsWebhookEvent as CoreSmsWebhookEvent,
  verifyWebhook,
  WebhookVerificationError,
} from '@sms/core';
import { SMS_WEBHOOK_EVENT_KEY } from './constants.js';

/** Injection token of the webhook receiver's options. */
export const SMS_WEBHOOK_OPTIONS = 'SMS_WEBHOOK_OPTIONS';

/** Options of `SmsWebhookModule`: what `SmsWebhookGuard` verifies against. */
export interface SmsWebhookModuleOptions {
  /** The relay target's `whsec_...` secret, or several during a rotation. */
  secret: string | readonly string[];
  /** How far `webhook-timestamp` may be from now, in seconds. Default 300. */
  toleranceSeconds?: number;
}

/** What a `SmsWebhookModule.forRootAsync({ useClass })` / `useExisting` class implements. */
export interface SmsWebhookOptionsFactory {
  createSmsWebhookOptions(): SmsWebhookModuleOptions | Promise<SmsWebhookModuleOptions>;
}

export const {
  ConfigurableModuleClass: SmsWebhookConfigurableModule,
  OPTIONS_TYPE: SMS_WEBHOOK_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SMS_WEBHOOK_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SmsWebhookModuleOptions>({
  moduleName: 'SmsWebhook',
  optionsInjectionToken: SMS_WEBHOOK_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createSmsWebhookOptions')
  .setExtras<{ isGlobal?: boolean }>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? false,
    exports: [...(definition.exports ?? []), SMS_WEBHOOK_OPTIONS],
  }))
  .build();

const SECRET_PREFIX = 'whsec_';
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** The shortest key accepted, in bytes (`generateWebhookSecret()` makes 24). */
const MIN_SECRET_BYTES = 16;

/**
 * Checks the options when the module starts, so a secret that could never verify anything
 * (a typo, a truncated paste, a password instead of a `whsec_` key) fails the boot with the
 * option's name instead of answering 500 on every request. Messages never hold the secret.
 */
export function assertSmsWebhookOptions(options: SmsWebhookModuleOptions): void {
  const fail = (field: string, message: string): never => {
    throw new TypeError(`[sms] [nest] SmsWebhookModule option "${field}" ${message}`);
  };
  if (options === null || typeof options !== 'object') fail('secret', 'is required');
  const { secret, toleranceSeconds } = options;
  const list: readonly unknown[] = Array.isArray(secret) ? secret : [secret];
  if (list.length === 0) fail('secret', 'needs at least one secret');
  list.forEach((value, i) => {
    const field = Array.isArray(secret) ? `secret[${i}]` : 'secret';
    if (typeof value !== 'string' || value === '') {
      fail(field, 'must be a "whsec_..." string (the relay target\'s secret)');
    }
    const text = value as string;
    if (!text.startsWith(SECRET_PREFIX)) fail(field, 'must start with "whsec_"');
    const encoded = text.slice(SECRET_PREFIX.length);
    if (encoded === '' || !STRICT_BASE64.test(encoded)) {
      fail(field, 'must be "whsec_" followed by base64 (A-Z a-z 0-9 + /, = padding)');
    }
    const bytes = Buffer.from(encoded, 'base64').length;
    if (bytes < MIN_SECRET_BYTES) {
      fail(
        field,
        `is too short: ${bytes} bytes of key, at least ${MIN_SECRET_BYTES} (generateWebhookSecret() makes 24)`,
      );
    }
  });
  if (
    toleranceSeconds !== undefined &&
    (typeof toleranceSeconds !== 'number' ||
      !Number.isFinite(toleranceSeconds) ||
      toleranceSeconds < 0)
  ) {
    fail('toleranceSeconds', 'must be a number of seconds >= 0');
  }
}

interface WebhookRequest {
  headers: Record<string, string | string[] | undefined>;
  rawBody?: Buffer;
  [SMS_WEBHOOK_EVENT_KEY]?: CoreSmsWebhookEvent;
}

/**
 * Verifies the Standard Webhooks signature (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`) of a request sent by `@sms/webhook-relay`, on the raw body: create
 * the app with `NestFactory.create(AppModule, { rawBody: true })`. A forged, stale or
 * unsigned request gets 401; the verified event is available through `@SmsWebhookEvent()`.
 */
@Injectable()
export class SmsWebhookGuard implements CanActivate {
  readonly #logger = new Logger('SmsWebhookGuard');

  constructor(@Inject(SMS_WEBHOOK_OPTIONS) private readonly options: SmsWebhookModuleOptions) {
    // The module's provider: built when the app starts, so a bad secret stops the boot.
    assertSmsWebhookOptions(options);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<WebhookRequest>();
    const body = request.rawBody;
    if (!Buffer.isBuffer(body)) {
      this.#logger.warn(
        'no raw body on the request: send application/json and create the app with NestFactory.create(AppModule, { rawBody: true })',
      );
      throw new BadRequestException('raw body unavailable');
    }
    try {
      request[SMS_WEBHOOK_EVENT_KEY] = verifyWebhook({
        headers: request.headers,
        body,
        secrets: this.options.secret,
        ...(this.options.toleranceSeconds === undefined
          ? {}
          : { toleranceSeconds: this.options.toleranceSeconds }),
      });
      return true;
    } catch (error) {
      if (error instanceof WebhookVerificationError) {
        if (error.code === 'BAD_PAYLOAD') throw new BadRequestException(error.message);
        throw new UnauthorizedException(error.message);
      }
      throw error;
    }
  }
}

/**
 * Parameter decorator: the event verified by `SmsWebhookGuard`
 * (`{ type: 'sms.report' | 'sms.reply', timestamp, data }`).
 */
export const SmsWebhookEvent: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => {
    const event = context.switchToHttp().getRequest<WebhookRequest>()[SMS_WEBHOOK_EVENT_KEY];
    if (!event) {
      throw new InternalServerErrorException(
        '@SmsWebhookEvent() needs @UseGuards(SmsWebhookGuard) on the route',
      );
    }
    return event;
  },
);
/** A verified webhook event (same as `@sms/core`'s `SmsWebhookEvent`). */
export type SmsWebhookEvent = CoreSmsWebhookEvent;

/**
 * Provides the options `SmsWebhookGuard` needs: `SmsWebhookModule.forRoot({ secret })` or
 * `forRootAsync({ imports, useFactory, inject })`; `isGlobal` to use the guard anywhere.
 */
@Module({ providers: [SmsWebhookGuard], exports: [SmsWebhookGuard] })
export class SmsWebhookModule extends SmsWebhookConfigurableModule {}
