/**
 * Standard Webhooks (https://www.standardwebhooks.com) signing and verification for the
 * reports and replies that `@sms/webhook-relay` delivers. Written on `node:crypto` alone so
 * the relay (which signs) and `@sms/nest` (which verifies) share one implementation.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type SmsWebhookEventType = 'sms.report' | 'sms.reply';

/** `data` of an `sms.report` event: the account name plus core's `StatusReport`, dates as ISO strings. */
export interface SmsReportWebhookData {
  /** The relay's name for the account the report was fetched with. */
  account: string;
  mobile: string;
  taskId: string;
  status: 'delivered' | 'failed';
  /** The platform's raw status: 10 delivered, 20 failed. */
  statusCode: number;
  /** `receiveTime` as an ISO-8601 instant. */
  receivedAt: string;
  /** The platform's wall-clock time, Asia/Shanghai, verbatim. */
  receiveTime: string;
  /** The gateway's free-form code (`DELIVRD`, `UNDELIV`, ...). */
  errorCode: string;
  extNo: string;
}

/** `data` of an `sms.reply` event: the account name plus core's `Reply`, dates as ISO strings. */
export interface SmsReplyWebhookData {
  account: string;
  mobile: string;
  taskId: string;
  content: string;
  receivedAt: string;
  receiveTime: string;
  extNo: string;
}

/** The JSON body of every webhook the relay sends. */
export type SmsWebhookEvent =
  | { type: 'sms.report'; timestamp: string; data: SmsReportWebhookData }
  | { type: 'sms.reply'; timestamp: string; data: SmsReplyWebhookData };

export type WebhookVerificationErrorCode =
  | 'MISSING_HEADERS'
  | 'BAD_SIGNATURE'
  | 'STALE'
  | 'BAD_PAYLOAD';

/** Thrown by `verifyWebhook`; branch on `code`. Never carries the secret. */
export class WebhookVerificationError extends Error {
  override readonly name: string = 'WebhookVerificationError';
  readonly code: WebhookVerificationErrorCode;

  constructor(code: WebhookVerificationErrorCode, message: string) {
    super(`[sms] ${message}`);
    this.code = code;
  }
}

const SECRET_PREFIX = 'whsec_';

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** The smallest key `assertWebhookSecret` accepts, in bytes (Standard Webhooks uses 24 to 64). */
export const MIN_WEBHOOK_SECRET_BYTES = 16;

/**
 * Checks a webhook secret at start-up, so a typo fails the boot instead of every request:
 * `whsec_` followed by standard base64 (with its padding) of at least 16 bytes, the form
 * `generateWebhookSecret()` and `@sms/webhook-relay` produce. Throws a `TypeError` naming
 * `field` (default `secret`); the message never contains the secret.
 */
export function assertWebhookSecret(secret: unknown, field = 'secret'): asserts secret is string {
  if (typeof secret !== 'string') {
    throw new TypeError(
      `[sms] ${field} must be a string ("whsec_" + base64), got ${secret === null ? 'null' : typeof secret}`,
    );
  }
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw new TypeError(`[sms] ${field} must start with "${SECRET_PREFIX}"`);
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (encoded === '' || !STRICT_BASE64.test(encoded)) {
    throw new TypeError(
      `[sms] ${field} must be "${SECRET_PREFIX}" followed by base64 (A-Z a-z 0-9 + /, = padding)`,
    );
  }
  const bytes = Buffer.from(encoded, 'base64').length;
  if (bytes < MIN_WEBHOOK_SECRET_BYTES) {
    throw new TypeError(
      `[sms] ${field} is too short: ${bytes} bytes, at least ${MIN_WEBHOOK_SECRET_BYTES} (generateWebhookSecret() makes 24)`,
    );
  }
}

/**
 * Signing keys by secret, decoded once: a relay signs thousands of webhooks a second with the
 * same one or two. A few entries, the oldest dropped first.
 */
const KEYS_KEPT = 16;
const keys = new Map<string, Buffer>();

function secretKey(secret: string): Buffer {
  const kept = keys.get(secret);
  if (kept !== undefined) return kept;
  if (typeof secret !== 'string') throw new TypeError('[sms] a webhook secret must be a string');
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new TypeError('[sms] webhook secret is empty or not base64');
  if (keys.size >= KEYS_KEPT) keys.delete(keys.keys().next().value!);
  keys.set(secret, key);
  return key;
}

function hmacOf(key: Buffer, id: string, timestamp: number, body: string | Buffer) {
  const hmac = createHmac('sha256', key);
  hmac.update(`${id}.${timestamp}.`);
  hmac.update(body);
  return hmac;
}

function signature(key: Buffer, id: string, timestamp: number, body: string | Buffer): Buffer {
  return hmacOf(key, id, timestamp, body).digest();
}

export interface SignWebhookOptions {
  /** The `webhook-id`: stable across retries so receivers can deduplicate. */
  id: string;
  /** Unix time in seconds. */
  timestamp: number;
  /** The exact bytes that will be sent. */
  body: string;
  /** One or more `whsec_` secrets; each one signs (rotation). */
  secrets: readonly string[];
}

/** The `webhook-signature` header value: `v1,<base64>` per secret, space-separated. */
export function signWebhook({ id, timestamp, body, secrets }: SignWebhookOptions): string {
  if (secrets.length === 0) throw new TypeError('[sms] signWebhook needs at least one secret');
  let header = '';
  for (const secret of secrets) {
    const signed = hmacOf(secretKey(secret), id, timestamp, body).digest('base64');
    header += header === '' ? `v1,${signed}` : ` v1,${signed}`;
  }
  return header;
}

/** Every header a signed webhook request carries. */
export function webhookHeaders(options: SignWebhookOptions): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': options.id,
    'webhook-timestamp': String(options.timestamp),
    'webhook-signature': signWebhook(options),
  };
}

export interface VerifyWebhookOptions {
  headers: Record<string, string | string[] | undefined> | Headers;
  /** The raw request body, exactly as received (not re-serialised JSON). */
  body: string | Buffer;
  /** The secret, or several during a rotation: any one matching signature is enough. */
  secrets: string | readonly string[];
  /**
   * How far `webhook-timestamp` may be from now, in seconds: a finite number, 0 or more
   * (default 300). Anything else (`NaN`, negative, `Infinity`, a string) throws a `TypeError`:
   * the age check is what stops a captured webhook from being replayed, so it cannot be
   * turned off by accident.
   */
  toleranceSeconds?: number;
  /** Current time, for tests: a valid `Date` or a finite number of milliseconds. */
  now?: Date | number;
}

function verifyOptionsError(message: string): TypeError {
  return new TypeError(`[sms] verifyWebhook: ${message}`);
}

/** Misconfiguration is a `TypeError` (a bug to fix, answered 500), never a verdict on the request. */
function checkVerifyOptions(options: VerifyWebhookOptions): string[] {
  if (options === null || typeof options !== 'object') {
    throw verifyOptionsError('options must be an object');
  }
  const { toleranceSeconds, now, secrets, headers, body } = options;
  if (
    toleranceSeconds !== undefined &&
    (typeof toleranceSeconds !== 'number' ||
      !Number.isFinite(toleranceSeconds) ||
      toleranceSeconds < 0)
  ) {
    throw verifyOptionsError(
      `toleranceSeconds must be a finite number of seconds, 0 or more (got ${typeof toleranceSeconds === 'number' ? String(toleranceSeconds) : typeof toleranceSeconds})`,
    );
  }
  if (
    now !== undefined &&
    !(now instanceof Date && !Number.isNaN(now.getTime())) &&
    !(typeof now === 'number' && Number.isFinite(now))
  ) {
    throw verifyOptionsError('now must be a valid Date or a finite number of milliseconds');
  }
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((secret) => typeof secret !== 'string' || secret === '')
  ) {
    throw verifyOptionsError('secrets must be a secret string or a non-empty array of them');
  }
  if (headers === null || typeof headers !== 'object') {
    throw verifyOptionsError('headers must be an object or a Headers');
  }
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) {
    throw verifyOptionsError('body must be the raw body, a string or a Buffer');
  }
  return list as string[];
}

function readHeader(
  headers: Record<string, string | string[] | undefined> | Headers,
  name: string,
): string | undefined {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) {
    return headers.get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  let value = record[name];
  if (value === undefined) {
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === name) {
        value = record[key];
        break;
      }
    }
  }
  if (Array.isArray(value)) return value.join(' ');
  return value;
}

const EVENT_TYPES: ReadonlySet<string> = new Set<SmsWebhookEventType>(['sms.report', 'sms.reply']);

/**
 * Checks a received webhook's signature and age, then parses its body. Comparison is
 * constant-time. Throws `WebhookVerificationError` for a request that fails, and a
 * `TypeError` for options that are themselves wrong (see `toleranceSeconds`).
 */
export function verifyWebhook(options: VerifyWebhookOptions): SmsWebhookEvent {
  const secrets = checkVerifyOptions(options);
  const id = readHeader(options.headers, 'webhook-id');
  const timestampHeader = readHeader(options.headers, 'webhook-timestamp');
  const signatureHeader = readHeader(options.headers, 'webhook-signature');
  if (!id || !timestampHeader || !signatureHeader) {
    throw new WebhookVerificationError(
      'MISSING_HEADERS',
      'webhook-id, webhook-timestamp and webhook-signature headers are required',
    );
  }
  const timestamp = Number(timestampHeader);
  if (!/^\d+$/.test(timestampHeader.trim()) || !Number.isSafeInteger(timestamp)) {
    throw new WebhookVerificationError('BAD_SIGNATURE', 'webhook-timestamp is not a number');
  }
  const nowMs = options.now === undefined ? Date.now() : Number(options.now);
  const now = Math.floor(nowMs / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookVerificationError('STALE', 'webhook-timestamp is outside the tolerance');
  }

  const received: Buffer[] = [];
  for (const part of signatureHeader.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    received.push(Buffer.from(part.slice(comma + 1), 'base64'));
  }
  let matched = false;
  for (const secret of secrets) {
    const expected = signature(secretKey(secret), id, timestamp, options.body);
    for (const candidate of received) {
      // Not short-circuiting on a match keeps the time independent of which one matched.
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
        matched = true;
      }
    }
  }
  if (!matched) throw new WebhookVerificationError('BAD_SIGNATURE', 'no matching signature');

  let parsed: unknown;
  try {
    parsed = JSON.parse(options.body.toString());
  } catch {
    throw new WebhookVerificationError('BAD_PAYLOAD', 'body is not JSON');
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !EVENT_TYPES.has((parsed as { type?: unknown }).type as string) ||
    typeof (parsed as { timestamp?: unknown }).timestamp !== 'string' ||
    typeof (parsed as { data?: unknown }).data !== 'object' ||
    (parsed as { data?: unknown }).data === null
  ) {
    throw new WebhookVerificationError(
      'BAD_PAYLOAD',
      'body is not an sms.report or sms.reply event',
    );
  }
  return parsed as SmsWebhookEvent;
}

/** A new random secret: `whsec_` + 24 random bytes in base64. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}
