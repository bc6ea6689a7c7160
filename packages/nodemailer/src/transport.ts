import {
  applySignature,
  type SendResult,
  type SmsClient,
  SmsClient as Client,
  type SmsClientOptions,
  SmsRouter,
  type SmsRouterOptions,
  validationError,
} from '@sms/core';
import packageJson from '../package.json' with { type: 'json' };
import { SmsTransportError, toTransportError } from './errors.js';
import {
  htmlToText,
  parseSendTimeHeader,
  type ParsedAddress,
  partitionRecipients,
  readHeader,
  recipientEntries,
} from './mapping.js';

/** The header that schedules a message: `YYYY-MM-DD HH:mm:ss` (Asia/Shanghai) or ISO 8601 with a zone. */
export const SEND_TIME_HEADER = 'X-SMS-Send-Time';
/** The header that sets the extension sub-number (`extno`, 1 to 10 digits). */
export const EXT_NO_HEADER = 'X-SMS-Ext-No';

interface TransportOnlyOptions {
  /** Prepended as `【signature】` when the content carries no `【…】` signature. */
  signature?: string;
  /** Numbers per platform request (default 1000); longer lists are sent in several requests. */
  chunkSize?: number;
  /** Requests in flight at once when a list is chunked (default 4). */
  concurrency?: number;
}

/**
 * Options of `SmsTransport`: the `@sms/core` client options, `SmsRouter`'s options
 * (`accounts`, `strategy`, …: failover between accounts), or an existing `client` (an
 * `SmsClient` or an `SmsRouter`).
 */
export type SmsTransportOptions = TransportOnlyOptions &
  (
    | SmsClientOptions
    | SmsRouterOptions
    | { /** A client or router you own: `close()` leaves it open. */ client: SmsClient | SmsRouter }
  );

/** What `sendMail()` resolves to. */
export interface SmsSentMessageInfo {
  envelope: { from: string | false; to: string[] };
  /** The platform's task ID (of the first request, if the list was chunked). */
  messageId: string;
  /** Every task ID, one per request. */
  taskIds: string[];
  /** Normalised numbers the platform accepted. */
  accepted: string[];
  /** Entries that were not sent: not mobile numbers, or in a request the platform refused. */
  rejected: string[];
  /** One error per refused request, each naming its numbers in `rejected`. */
  rejectedErrors: SmsTransportError[];
  /** Numbers whose request may or may not have been sent (`UNKNOWN_OUTCOME`): check reports, do not resend blindly. */
  pending: string[];
  /** The platform's answer, e.g. `ok (taskID 9007199254740993, successCounts 2, remainPoint 998)`. */
  response: string;
  /** Messages the platform accepted (`successCounts`, summed). */
  successCounts: number;
  /** Balance after the last accepted request. */
  remainPoint: number;
}

/**
 * The structural slice of Nodemailer's `MailMessage` this transport reads, so the package's
 * types do not depend on a Nodemailer or `@types/nodemailer` version.
 */
export interface SmsMailMessage {
  data: { to?: unknown; cc?: unknown; bcc?: unknown; envelope?: unknown };
  message: { getEnvelope(): { from?: string | false; to?: string[] } };
  normalize(callback: (err: Error | null | undefined, data?: object) => void): void;
}

/**
 * Typed the way both Nodemailer's own types (`result?: T`) and `@types/nodemailer`
 * (`info: T`) accept; on failure it is called with the error alone.
 */
type SendCallback = (err: Error | null, info: SmsSentMessageInfo) => void;

/**
 * A Nodemailer transport that sends each message as an SMS:
 * `nodemailer.createTransport(new SmsTransport({ baseUrl, account, password }))`.
 */
export class SmsTransport {
  /** Transport name, shown in Nodemailer's logs. */
  readonly name = 'SmsTransport';
  /** This package's version. */
  readonly version: string = packageJson.version;
  /** The `@sms/core` client (or router) used for every request. */
  readonly client: SmsClient | SmsRouter;
  private readonly ownsClient: boolean;
  private readonly signature: string | undefined;
  private readonly chunkSize: number | undefined;
  private readonly concurrency: number | undefined;

  constructor(options: SmsTransportOptions) {
    if (options == null || typeof options !== 'object') {
      throw configError(validationError('options', 'SmsTransport needs options'));
    }
    if ('client' in options && options.client !== undefined) {
      if (
        options.client === null ||
        typeof (options.client as { sendBatch?: unknown }).sendBatch !== 'function'
      ) {
        throw configError(
          validationError('client', 'client must be an SmsClient or SmsRouter from @sms/core'),
        );
      }
      this.client = options.client;
      this.ownsClient = false;
    } else {
      try {
        this.client =
          'accounts' in options
            ? new SmsRouter(options as SmsRouterOptions)
            : new Client(options as SmsClientOptions);
      } catch (error) {
        throw configError(error);
      }
      this.ownsClient = true;
    }
    const { signature, chunkSize, concurrency } = options;
    if (
      signature !== undefined &&
      (typeof signature !== 'string' || /[\u0000-\u001f\u007f]/.test(signature))
    ) {
      throw configError(validationError('signature', 'signature must be text (e.g. 商城)'));
    }
    for (const [field, value] of [
      ['chunkSize', chunkSize],
      ['concurrency', concurrency],
    ] as const) {
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 1)) {
        throw configError(validationError(field, `${field} must be a positive whole number`));
      }
    }
    this.signature = signature;
    this.chunkSize = chunkSize;
    this.concurrency = concurrency;
  }

  /** Called by Nodemailer's `sendMail()`. Never throws: every failure goes to `callback`. */
  send(mail: SmsMailMessage, callback: SendCallback): void {
    const fail = callback as (err: Error) => void;
    // Read before normalize(): it replaces the address fields with parsed ones (where a bare
    // number ends up in a display name) and data.envelope with the one it computes (where
    // a bare number, having no `@`, is dropped). An explicit envelope wins, as in Nodemailer.
    const envelopeTo = (mail.data.envelope as { to?: unknown } | undefined)?.to;
    const entries =
      envelopeTo != null
        ? recipientEntries(envelopeTo)
        : [mail.data.to, mail.data.cc, mail.data.bcc].flatMap(recipientEntries);
    let computed: { from?: string | false; to?: string[] };
    try {
      computed = mail.message.getEnvelope();
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    mail.normalize((err, data) => {
      if (err || !data) {
        fail(err ?? new Error('[sms] the message could not be read'));
        return;
      }
      this.deliver(entries, computed, data as Record<string, unknown>).then(
        (info) => callback(null, info),
        (error: unknown) => fail(toTransportError(error, 'send')),
      );
    });
  }

  private async deliver(
    entries: Array<string | ParsedAddress>,
    computed: { from?: string | false },
    data: Record<string, unknown>,
  ): Promise<SmsSentMessageInfo> {
    const { accepted: valid, rejected } = partitionRecipients(entries);
    if (valid.length === 0) {
      const message =
        rejected.length > 0
          ? `[sms] no valid mobile number among the recipients: ${rejected.slice(0, 5).join(', ')}`
          : '[sms] no recipients defined';
      throw new SmsTransportError(message, {
        code: 'EENVELOPE',
        command: 'send',
        rejected,
        cause: validationError('mobiles', message.slice('[sms] '.length), 'send'),
      });
    }

    const content = this.contentOf(data);
    const sendTimeHeader = readHeader(data.headers, SEND_TIME_HEADER, 'sendTime');
    const extNo = readHeader(data.headers, EXT_NO_HEADER, 'extNo');

    const batch = await this.client.sendBatch({
      mobiles: valid,
      content,
      sendTime: sendTimeHeader === undefined ? undefined : parseSendTimeHeader(sendTimeHeader),
      extNo,
      chunkSize: this.chunkSize,
      concurrency: this.concurrency,
    });

    const pending: string[] = [];
    const rejectedErrors: SmsTransportError[] = [];
    const refused = [...rejected, ...batch.invalid];
    for (const failure of batch.failures) {
      if (failure.error.outcomeUnknown) {
        pending.push(...failure.mobiles);
      } else {
        refused.push(...failure.mobiles);
        rejectedErrors.push(toTransportError(failure.error, 'send', { rejected: failure.mobiles }));
      }
    }
    for (const chunk of batch.notSent) refused.push(...chunk.mobiles);

    if (batch.results.length === 0) {
      const first = batch.failures[0];
      throw toTransportError(first?.error ?? new Error('nothing was sent'), 'send', {
        rejected: refused,
        pending,
      });
    }

    const results: SendResult[] = batch.results.map((chunk) => chunk.result);
    const accepted = batch.results.flatMap((chunk) => chunk.mobiles);
    const last = results[results.length - 1]!;
    const taskIds = results.map((result) => result.taskId);
    return {
      envelope: { from: computed.from ?? false, to: accepted },
      messageId: taskIds[0]!,
      taskIds,
      accepted,
      rejected: refused,
      rejectedErrors,
      pending,
      response: `${last.message} (taskID ${taskIds.join(',')}, successCounts ${batch.successCounts}, remainPoint ${last.remainPoint})`,
      successCounts: batch.successCounts,
      remainPoint: last.remainPoint,
    };
  }

  private contentOf(data: Record<string, unknown>): string {
    const text = typeof data.text === 'string' ? data.text.trim() : '';
    const html = typeof data.html === 'string' ? htmlToText(data.html) : '';
    const content = text !== '' ? text : html;
    if (content === '') {
      throw new SmsTransportError('[sms] the message has no text (or html) to send', {
        code: 'EMESSAGE',
        command: 'send',
        cause: validationError('content', 'the message has no text (or html) to send', 'send'),
      });
    }
    return applySignature(content, this.signature);
  }

  /**
   * Checks the account with a balance query (a router: every account, `true` when one
   * answers). Resolves `true`, or calls back with `(null, true)`.
   */
  verify(): Promise<true>;
  verify(callback: (err: Error | null, success: true) => void): void;
  verify(callback?: (err: Error | null, success: true) => void): Promise<true> | undefined {
    const client = this.client;
    const balance =
      client instanceof SmsRouter
        ? client.balances().then((balances) => {
            if (balances.some((b) => b.balance !== undefined)) return;
            throw balances[0]?.error ?? new Error('no account');
          })
        : client.balance();
    const check = balance.then(
      () => true as const,
      (error: unknown) => {
        throw toTransportError(error, 'verify');
      },
    );
    if (!callback) return check;
    check.then(
      (ok) => callback(null, ok),
      (error: Error) => (callback as (err: Error) => void)(error),
    );
    return undefined;
  }

  /** Closes the client's connections, unless the client was passed in. */
  close(): Promise<void> {
    return this.ownsClient ? this.client.close() : Promise.resolve();
  }
}

/** A construction error: always `ECONFIG`, with the `SmsError` as `cause`. */
function configError(error: unknown): SmsTransportError {
  const wrapped = toTransportError(error, 'send');
  return new SmsTransportError(wrapped.message, {
    code: 'ECONFIG',
    command: 'send',
    cause: wrapped.cause,
  });
}

/** `nodemailer.createTransport(smsTransport({ baseUrl, account, password, signature }))`. */
export function smsTransport(options: SmsTransportOptions): SmsTransport {
  return new SmsTransport(options);
}
