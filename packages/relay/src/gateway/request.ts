import { hash } from 'node:crypto';
import { type SmsError, contentLength, encodeFormValue, isSmsError, prepareSend } from '@sms/core';
import type { AccountConfig } from '../pull/config.js';
import { HttpError } from '../http/router.js';
import { type CallbackPolicy, callbackPolicy } from '../shared/address-policy.js';

/** A send request, checked and normalised: what is queued and what idempotency compares. */
export interface SendRequest {
  account: string;
  /**
   * Sent without an `account`: the accounts after `account` it may move on to (the gateway's
   * route); empty when the caller named the account. Not part of the request's hash.
   */
  route: string[];
  mobiles: string[];
  content: string;
  sendAt: number | null;
  extNo: string;
  metadata: string | null;
  callbackUrl: string | null;
  /** Time to live in ms, or null. */
  ttlMs: number | null;
}

/** The request's fields, as the API names them (core names some differently). */
const API_FIELD: Record<string, string> = { mobiles: 'to', sendTime: 'sendAt', input: 'body' };
const MAX_METADATA_BYTES = 4096;
/** Nesting of metadata: deeper JSON overflowed the stack of the canonical form (a 500). */
const MAX_METADATA_DEPTH = 32;
/** Numbers per message: one platform request each (comparable platforms cap a send at 100 to 1000). */
export const MAX_NUMBERS = 1000;
/** Characters of content (code points, as billed): 15 segments; long-SMS caps run 500 to 1000. */
export const MAX_CONTENT_LENGTH = 1000;
/** The longest ttl: a year (beyond it an expiry is no longer a time the stores can hold). */
const MAX_TTL_MS = 366 * 86_400_000;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** ISO 8601 with a zone; other strings are core's `YYYY-MM-DD HH:mm:ss` (Asia/Shanghai). */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A 422 carrying the `SmsError` code and the field, as the API names it. */
export function invalid(code: string, field: string, message: string): HttpError {
  return new HttpError(422, { error: { code, field, message } });
}

function fromSmsError(error: SmsError): HttpError {
  const field = error.field ? (API_FIELD[error.field] ?? error.field) : 'body';
  return invalid(error.code, field, error.message.replace(/^\[sms\] /, ''));
}

function ttlOf(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  let ms: number | undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) ms = value * 1000;
  if (typeof value === 'string') {
    const match = DURATION.exec(value.trim());
    if (match) ms = Number(match[1]) * UNITS[match[2]!]!;
  }
  // Whole milliseconds (the stores keep integers) and at most a year (a valid date).
  if (ms !== undefined && ms > 0 && ms <= MAX_TTL_MS) return Math.ceil(ms);
  throw invalid(
    'VALIDATION',
    'ttl',
    'ttl must be seconds (a number > 0) or a duration like "90s", "10m", "2h", at most 366 days',
  );
}

/** True when `value` nests no deeper than `max` arrays and objects (stops looking past it). */
function nestsWithin(value: unknown, max: number): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (max === 0) return false;
  return Object.values(value).every((item) => nestsWithin(item, max - 1));
}

/** True when a string, key or value anywhere in `value` holds a NUL character. */
function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, item]) => key.includes('\u0000') || holdsNul(item));
}

/** Keys sorted at every level, so `{a,b}` and `{b,a}` are the same request. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/**
 * Checks a `POST /v1/messages` body with core's own rules (numbers, content, sendTime, extNo,
 * and the encoder of the account's charset: a GBK account refuses what GBK cannot hold), so
 * what is queued would go on the wire as it is. Throws a 422 `HttpError` naming the field.
 */
export function parseSendRequest(
  body: unknown,
  accounts: readonly AccountConfig[],
  defaults: {
    ttlMs: number | null;
    /** What a callbackUrl may reach (default: public unicast addresses only). */
    callbackPolicy?: CallbackPolicy;
    /** Where a message without `account` may go, in order (default: every account). */
    route?: readonly string[] | undefined;
  },
  now: Date = new Date(),
): SendRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('VALIDATION', 'body', 'the body must be a JSON object');
  }
  const input = body as Record<string, unknown>;
  const known = new Set([
    'to',
    'content',
    'sendAt',
    'extNo',
    'account',
    'metadata',
    'callbackUrl',
    'ttl',
  ]);
  for (const key of Object.keys(input)) {
    if (!known.has(key)) throw invalid('VALIDATION', key, `unknown field "${key}"`);
  }
  const route =
    defaults.route && defaults.route.length > 0 ? defaults.route : accounts.map((a) => a.name);
  const accountName = input['account'] ?? route[0]!;
  const account = accounts.find((a) => a.name === accountName);
  if (!account) {
    throw invalid(
      'VALIDATION',
      'account',
      `no account is named ${JSON.stringify(accountName)} (configured: ${accounts.map((a) => a.name).join(', ')})`,
    );
  }
  let sendTime: Date | string | undefined;
  const sendAt = input['sendAt'];
  if (typeof sendAt === 'string' && ISO.test(sendAt)) {
    sendTime = new Date(sendAt);
    if (Number.isNaN(sendTime.getTime()))
      throw invalid('VALIDATION', 'sendAt', 'sendAt is not a valid time');
  } else if (sendAt !== undefined && sendAt !== null) {
    sendTime = sendAt as string;
  }
  const send = {
    mobiles: input['to'] as string | string[],
    content: input['content'] as string,
    ...(sendTime === undefined ? {} : { sendTime }),
    ...(input['extNo'] === undefined ? {} : { extNo: input['extNo'] as string }),
  };
  let mobiles: string[];
  let sendAtMs: number | null = null;
  try {
    const prepared = prepareSend(send, now);
    // The encoder of the account's wire: GBK refuses characters it cannot hold, UTF-8 a lone
    // surrogate. The content is the one free-text field (prepareSend checked the rest); the
    // whole request is built and signed only when it is sent.
    encodeFormValue(prepared.content, account.charset, 'content', 'send');
    mobiles = prepared.mobiles;
    if (send.content.includes('\u0000')) {
      throw invalid('VALIDATION', 'content', 'content must not contain a NUL character');
    }
    if (contentLength(send.content) > MAX_CONTENT_LENGTH) {
      throw invalid(
        'VALIDATION',
        'content',
        `content must be at most ${MAX_CONTENT_LENGTH} characters (${contentLength(send.content)} given)`,
      );
    }
    if (mobiles.length > MAX_NUMBERS) {
      throw invalid(
        'VALIDATION',
        'to',
        `at most ${MAX_NUMBERS} numbers per message (platforms cap a send at 100 to 1000); split the list`,
      );
    }
    if (sendTime !== undefined) {
      const instant = sendTime instanceof Date ? sendTime : undefined;
      // A Shanghai wall-clock string: core formatted it; read it back as an instant.
      sendAtMs = instant
        ? instant.getTime()
        : Date.parse(`${prepared.sendTime.replace(' ', 'T')}+08:00`);
    }
  } catch (error) {
    if (isSmsError(error)) throw fromSmsError(error);
    throw error;
  }
  let metadata: string | null = null;
  if (input['metadata'] !== undefined && input['metadata'] !== null) {
    const value = input['metadata'];
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw invalid('VALIDATION', 'metadata', 'metadata must be a JSON object');
    }
    if (!nestsWithin(value, MAX_METADATA_DEPTH)) {
      throw invalid(
        'VALIDATION',
        'metadata',
        `metadata must nest at most ${MAX_METADATA_DEPTH} levels deep`,
      );
    }
    // PostgreSQL's text and jsonb hold no NUL, in a key or a value.
    if (holdsNul(value)) {
      throw invalid('VALIDATION', 'metadata', 'metadata must not contain a NUL character');
    }
    metadata = JSON.stringify(canonical(value));
    if (Buffer.byteLength(metadata) > MAX_METADATA_BYTES) {
      throw invalid(
        'VALIDATION',
        'metadata',
        `metadata must be at most ${MAX_METADATA_BYTES} bytes of JSON`,
      );
    }
  }
  let callbackUrl: string | null = null;
  if (input['callbackUrl'] !== undefined && input['callbackUrl'] !== null) {
    const value = input['callbackUrl'];
    let url: URL | undefined;
    try {
      url = typeof value === 'string' ? new URL(value) : undefined;
    } catch {}
    if (
      !url ||
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.username ||
      url.password
    ) {
      throw invalid(
        'VALIDATION',
        'callbackUrl',
        'callbackUrl must be an http: or https: URL without credentials',
      );
    }
    const refused = (defaults.callbackPolicy ?? callbackPolicy()).refusesUrl(url);
    if (refused) {
      throw invalid(
        'VALIDATION',
        'callbackUrl',
        `callbackUrl must reach a public address: ${refused} (the relay's operator can allow it with gateway.callbackAllow)`,
      );
    }
    callbackUrl = url.href;
  }
  const ttlMs = input['ttl'] === undefined ? defaults.ttlMs : ttlOf(input['ttl']);
  return {
    account: account.name,
    route: input['account'] === undefined ? route.slice(1) : [],
    mobiles,
    content: send.content,
    sendAt: sendAtMs,
    extNo: typeof send.extNo === 'string' ? send.extNo : '',
    metadata,
    callbackUrl,
    ttlMs,
  };
}

/**
 * sha256 of the normalised request: the same `Idempotency-Key` must come with the same one.
 * Its JSON has the keys in sorted order, as the hashes stored by earlier versions (a retry
 * after an upgrade is the same request); every field is a string, a number, null or a list of
 * strings (metadata is already its canonical JSON), so no deeper sorting is needed.
 */
export function requestHash(request: SendRequest): string {
  // The route is where the gateway may take it, not what the caller asked for.
  const asked = {
    account: request.account,
    callbackUrl: request.callbackUrl,
    content: request.content,
    extNo: request.extNo,
    metadata: request.metadata,
    mobiles: request.mobiles,
    sendAt: request.sendAt,
    ttlMs: request.ttlMs,
  } satisfies Record<Exclude<keyof SendRequest, 'route'>, unknown>;
  return hash('sha256', JSON.stringify(asked), 'hex');
}
