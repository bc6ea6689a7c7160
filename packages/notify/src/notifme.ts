import { validationError } from '@sms/core';
import type { SmsChannel } from './channel.js';

/** The SMS request notifme-sdk hands a provider (its `metadata` merged in). */
export interface NotifmeSmsRequest {
  /** notifme's `metadata.id`. */
  id?: string;
  userId?: string;
  /** Sender. The platform sends from the account's own number, so it is not used. */
  from?: string;
  to: string;
  text: string;
  /** notifme's per-provider hook: `(providerId, request) => Promise<request>`. */
  customize?: (providerId: string, request: NotifmeSmsRequest) => Promise<NotifmeSmsRequest>;
  [key: string]: unknown;
}

/** A notifme-sdk custom SMS provider (`channels.sms.providers[]`). */
export interface NotifmeSmsProvider {
  type: 'custom';
  id: string;
  send(request: NotifmeSmsRequest): Promise<string>;
}

export interface NotifmeSmsProviderOptions {
  /** Provider id reported by notifme (`channels.sms.providerId`). Default `sms-ruanwei`. */
  id?: string;
}

/**
 * A notifme-sdk SMS provider: resolves to the platform's task ID, and rejects on any failure
 * so notifme's `fallback` / `roundrobin` strategies move on to the next provider.
 */
export function notifmeSmsProvider(
  channel: SmsChannel,
  options: NotifmeSmsProviderOptions = {},
): NotifmeSmsProvider {
  const id = options.id ?? 'sms-ruanwei';
  return {
    type: 'custom',
    id,
    async send(request) {
      checkRequest(request, 'request');
      const final =
        typeof request.customize === 'function' ? await request.customize(id, request) : request;
      checkRequest(final, 'customize() result');
      const result = await channel.send({ to: final.to, text: final.text, id: final.id });
      return result.id;
    },
  };
}

function checkRequest(request: unknown, what: string): asserts request is NotifmeSmsRequest {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw validationError('input', `the notifme SMS ${what} must be an object`, 'send');
  }
}
