import {
  type SendBatchInput,
  type SendBatchResult,
  type SmsError,
  applySignature,
  parseMobiles,
  validationError,
} from '@sms/core';

/** What a channel needs from `@sms/core`'s `SmsClient` (or `SmsRouter`: several accounts, failover). */
export interface SmsChannelClient {
  sendBatch(input: SendBatchInput): Promise<SendBatchResult>;
}

export interface SmsChannelOptions {
  /** Prepended as `【signature】` when the text carries no `【…】` signature. */
  signature?: string;
  /** Numbers per platform request (default 1000). */
  chunkSize?: number;
  /** Requests in flight at once for long lists (default 4). */
  concurrency?: number;
}

/** One SMS notification. */
export interface SmsChannelMessage {
  /** One number, a comma list, or an array. `+86`, spaces and dashes are removed. */
  to: string | readonly string[];
  /** The text; the channel's signature is added if it has none. */
  text: string;
  /** Your notification's id. The platform has no field for it; it is kept on errors as `notificationId`. */
  id?: string | undefined;
}

export interface SmsChannelResult {
  /** The platform's task ID (of the first request when the list was chunked). */
  id: string;
  /** Every task ID, one per request. */
  ids: string[];
  /** When the platform accepted the message. */
  date: Date;
}

/** The contract every driver in this package is a thin layer over. */
export interface SmsChannel {
  /** Sends one text to one or more numbers. Rejects with an `SmsError` (or `SmsChannelError`). */
  send(message: SmsChannelMessage): Promise<SmsChannelResult>;
}

/**
 * Some requests of a chunked send were accepted and others were not. `ids` names what was
 * sent, so a caller (or a fallback provider) does not resend to everyone.
 */
export class SmsChannelError extends Error {
  override readonly name: string = 'SmsChannelError';
  readonly code = 'PARTIAL_SEND' as const;
  /** Task IDs of the accepted requests. */
  readonly ids: string[];
  /** Numbers in accepted requests. */
  readonly sent: string[];
  /** Numbers in refused requests (or requests never made). */
  readonly failed: string[];
  /** Numbers in requests whose outcome is unknown: they may have been sent. */
  readonly pending: string[];
  readonly notificationId: string | undefined;

  constructor(
    message: string,
    fields: Pick<SmsChannelError, 'ids' | 'sent' | 'failed' | 'pending' | 'notificationId'>,
    cause: SmsError | undefined,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.ids = fields.ids;
    this.sent = fields.sent;
    this.failed = fields.failed;
    this.pending = fields.pending;
    this.notificationId = fields.notificationId;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return 'an empty string';
  return typeof value;
}

/** The message must be an object; its `id`, if any, text (a number is taken as its digits). */
function notificationIdOf(message: unknown): string | undefined {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw validationError(
      'input',
      `a message must be { to, text }, got ${describe(message)}`,
      'send',
    );
  }
  const id = (message as { id?: unknown }).id;
  if (id === undefined || id === null) return undefined;
  if (typeof id === 'string') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  throw validationError('id', `id must be a string, got ${describe(id)}`, 'send');
}

function checkChannelOptions(client: unknown, options: unknown): void {
  if (
    client === null ||
    typeof client !== 'object' ||
    typeof (client as { sendBatch?: unknown }).sendBatch !== 'function'
  ) {
    throw validationError(
      'client',
      'createSmsChannel needs an SmsClient or SmsRouter from @sms/core',
    );
  }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw validationError('options', `channel options must be an object, got ${describe(options)}`);
  }
  const { signature, chunkSize, concurrency } = options as SmsChannelOptions;
  if (
    signature !== undefined &&
    (typeof signature !== 'string' || /[\u0000-\u001f\u007f]/.test(signature))
  ) {
    throw validationError('signature', 'signature must be text (e.g. 商城)');
  }
  for (const [field, value] of [
    ['chunkSize', chunkSize],
    ['concurrency', concurrency],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
      throw validationError(field, `${field} must be a positive whole number`);
    }
  }
}

function tagged<T>(error: T, id: string | undefined): T {
  if (id !== undefined && error !== null && typeof error === 'object') {
    Object.defineProperty(error, 'notificationId', {
      value: id,
      enumerable: false,
      configurable: true,
    });
  }
  return error;
}

/**
 * The SMS channel: `createSmsChannel(new SmsClient({ … }), { signature: '商城' })`.
 * Every number must be valid (a notification to a wrong number is a bug to surface, not to
 * skip); long lists are chunked.
 */
export function createSmsChannel(
  client: SmsChannelClient,
  options: SmsChannelOptions = {},
): SmsChannel {
  checkChannelOptions(client, options);
  return {
    async send(message) {
      const id = notificationIdOf(message);
      try {
        const { to, text } = message;
        // Recipients and text are checked here; what is inside the text (NUL, lone
        // surrogates, a past sendTime...) by @sms/core before anything is sent.
        const mobiles = parseMobiles(to);
        if (typeof text !== 'string' || text.trim() === '') {
          throw validationError(
            'content',
            `text must be a non-empty string, got ${describe(text)}`,
            'send',
          );
        }
        const content = applySignature(text.trim(), options.signature);
        const batch = await client.sendBatch({
          mobiles,
          content,
          chunkSize: options.chunkSize,
          concurrency: options.concurrency,
        });
        const ids = batch.results.map((chunk) => chunk.result.taskId);
        const first = batch.failures[0];
        if (ids.length === 0) throw first?.error ?? new Error('[sms] nothing was sent');
        if (first || batch.notSent.length > 0) {
          throw new SmsChannelError(
            `[sms] sent to ${batch.results.reduce((n, c) => n + c.mobiles.length, 0)} of ${mobiles.length} numbers: ${first?.error.message ?? 'stopped'}`,
            {
              ids,
              sent: batch.results.flatMap((chunk) => chunk.mobiles),
              failed: [
                ...batch.failures.filter((f) => !f.error.outcomeUnknown).flatMap((f) => f.mobiles),
                ...batch.notSent.flatMap((chunk) => chunk.mobiles),
              ],
              pending: batch.failures
                .filter((f) => f.error.outcomeUnknown)
                .flatMap((f) => f.mobiles),
              notificationId: id,
            },
            first?.error,
          );
        }
        return { id: ids[0]!, ids, date: new Date() };
      } catch (error) {
        throw tagged(error, id);
      }
    },
  };
}
