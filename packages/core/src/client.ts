import { Pool, type Dispatcher } from 'undici';
import { encodeFormValue, findGbkUnencodable } from './charset.js';
import { SmsError, type SmsAction, maskErrorSecrets, validationError } from './errors.js';
import { type SendBatchInput, type SendBatchResult, planBatch, runBatch } from './batch.js';
import type { SmsLogger } from './logger.js';
import {
  assertInputObject,
  assertMax,
  assertText,
  buildBalanceRequest,
  buildChangePasswordRequest,
  buildCheckKeywordRequest,
  buildRepliesRequest,
  buildReportsRequest,
  buildPreparedSendRequest,
  buildSendRequest,
  type PreparedSend,
  parseBalanceResponse,
  parseChangePasswordResponse,
  parseCheckKeywordResponse,
  parseRepliesResponse,
  parseReportsResponse,
  parseSendResponse,
  prepareSend,
  resolveWire,
  type WireOptions,
} from './protocol.js';
import { type RetryOptions, type RetryPolicy, backoffDelay, retryPolicy, sleep } from './retry.js';
import { maskSecrets } from './secrets.js';
import { describeType } from './time.js';
import {
  type ExchangeOptions,
  type RawResponse,
  type ResponseSink,
  TransportFailure,
  exchange,
  responseText,
  transportError,
} from './transport.js';
import type {
  BalanceResult,
  ChangePasswordResult,
  Charset,
  CheckKeywordResult,
  Credentials,
  Reply,
  SendInput,
  SendResult,
  StatusReport,
  WireRequest,
} from './types.js';

export interface SmsClientOptions {
  /** The platform's address, e.g. `http://203.0.113.5:8888` (a path prefix is kept). */
  baseUrl: string;
  /** 企业ID; may be empty for accounts that work with account + password alone. */
  userId?: string;
  account: string;
  /** Sent in the POST body only; never logged or put in errors. */
  password: string;
  /** `utf-8` uses `sms.aspx`, `gbk` uses `smsGBK.aspx` (default `utf-8`). */
  charset?: Charset;
  /**
   * `password` (default), or `signed` for platforms with the v2 endpoints (`v2sms.aspx`, …):
   * each request carries `timestamp` + `sign` = MD5(account + password + timestamp) instead.
   */
  auth?: 'password' | 'signed';
  /** `xml` (default), or `json` where the platform offers `smsJson.aspx`. Reports and replies stay XML. */
  format?: 'xml' | 'json';
  /**
   * Deadline for a whole request: connecting, the headers and the entire body (default
   * 15000 ms). A server that trickles bytes cannot stretch it.
   */
  timeoutMs?: number;
  /**
   * Largest answer accepted, in bytes (default 32 MiB; a full 4,000-report answer is about
   * 1 MiB). A bigger one is cut off with a `PROTOCOL` error (`UNKNOWN_OUTCOME` for a send or
   * pull); a pull keeps what arrived on `error.response` and its complete records on `error.records`.
   */
  maxResponseBytes?: number;
  /** Connect timeout (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Bring your own undici dispatcher (proxy, mock, interceptors). Not closed by `close()`. */
  dispatcher?: Dispatcher;
  /** Sockets in the default pool (default 64). */
  connections?: number;
  /** Backoff for safe retries; `false` turns retries off. Sends are retried only when the request surely never left. */
  retry?: RetryOptions | false;
  logger?: SmsLogger;
}

export interface FetchReportsOptions extends FetchRepliesOptions {
  /** `statusNum`: at most this many reports (platform default 4000). */
  max?: number;
}

export interface FetchRepliesOptions {
  /**
   * Gets the answer's bytes as they come off the socket, before parsing: write them
   * somewhere durable and a crash after the platform answered loses nothing (pull-once).
   */
  sink?: ResponseSink;
}

export interface PollOptions {
  /** Wait between polls that return nothing (default 5000 ms). */
  intervalMs?: number;
  /** Stops polling; a pull already under way is finished first so no record is lost. */
  signal?: AbortSignal;
  /** Reports only: `statusNum` per poll. */
  max?: number;
  /** Called on a failed poll; polling then goes on after `intervalMs`. Without it, the error ends the iteration. */
  onError?: (error: SmsError) => void;
}

/** How each action may be retried: read-only calls freely, state changes only if nothing left. */
const CHANGES_STATE: Record<SmsAction, boolean> = {
  send: true,
  changespwd: true,
  // A pull hands records out once: a lost answer is lost records, so never repeat blindly.
  queryReports: true,
  queryReplies: true,
  overage: false,
  checkkeyword: false,
};

/** The client of the platform's HTTP interface. One instance per account; reuse it. */
export class SmsClient {
  readonly charset: Charset;
  private readonly wire: WireOptions;
  private credentials: Credentials;
  /** Every password this client has held: masked in everything it throws or logs. */
  private secrets: string[];
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly retry: RetryPolicy;
  private readonly logger: SmsLogger | undefined;
  /** What every exchange of this client shares (a pull with a sink adds its own). */
  private readonly exchangeOptions: ExchangeOptions;
  private closed = false;
  /** Records fetched by an iterator whose consumer stopped early: handed out by the next fetch. */
  private readonly carriedReports: StatusReport[] = [];
  private readonly carriedReplies: Reply[] = [];

  constructor(options: SmsClientOptions) {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw validationError(
        'options',
        `SmsClient needs options ({ baseUrl, account, password }), got ${describeType(options)}`,
      );
    }
    if (typeof options.baseUrl !== 'string' || options.baseUrl === '') {
      throw validationError('baseUrl', 'baseUrl is required (the platform address, a string)');
    }
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw validationError(
        'baseUrl',
        `baseUrl is not a URL: ${JSON.stringify(options.baseUrl.slice(0, 80))}`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw validationError('baseUrl', 'baseUrl must be http: or https:');
    }
    if (url.username || url.password || url.search) {
      throw validationError(
        'baseUrl',
        'baseUrl must not carry credentials or a query: pass them as options',
      );
    }
    if (options.userId !== undefined)
      assertText(options.userId, 'userId', undefined, { allowEmpty: true });
    assertText(options.account, 'account', undefined);
    assertText(options.password, 'password', undefined, { secret: true });
    this.credentials = {
      userId: options.userId ?? '',
      account: options.account,
      password: options.password,
    };
    const wire = resolveWire({
      charset: options.charset,
      auth: options.auth,
      format: options.format,
    });
    if (wire.charset === 'gbk') {
      for (const field of ['userId', 'account', 'password'] as const) {
        if (field === 'password' && wire.auth === 'signed') continue;
        const value = field === 'userId' ? this.credentials.userId : this.credentials[field];
        if (findGbkUnencodable(value).length > 0) {
          throw validationError(
            field,
            `${field} has characters GBK cannot encode (use charset 'utf-8')`,
          );
        }
      }
    }
    this.secrets = [options.password];
    this.wire = wire;
    this.charset = wire.charset;
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = positiveOption(options.timeoutMs, 'timeoutMs', 15_000, MAX_TIMER_MS);
    this.maxResponseBytes = positiveOption(options.maxResponseBytes, 'maxResponseBytes', 32 << 20);
    const connectTimeoutMs = positiveOption(
      options.connectTimeoutMs,
      'connectTimeoutMs',
      5000,
      MAX_TIMER_MS,
    );
    const connections = positiveOption(options.connections, 'connections', 64);
    if (!Number.isInteger(connections)) {
      throw validationError('connections', 'connections must be a positive whole number');
    }
    this.retry = validRetry(options.retry);
    this.logger = validLogger(options.logger);
    if (
      options.dispatcher !== undefined &&
      (options.dispatcher === null ||
        typeof (options.dispatcher as { dispatch?: unknown }).dispatch !== 'function')
    ) {
      throw validationError('dispatcher', 'dispatcher must be an undici Dispatcher');
    }
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Pool(this.origin, {
        connections,
        connect: { timeout: connectTimeoutMs },
        pipelining: 1,
      });
    this.exchangeOptions = {
      dispatcher: this.dispatcher,
      origin: this.origin,
      basePath: this.basePath,
      timeoutMs: this.timeoutMs,
      maxResponseBytes: this.maxResponseBytes,
      tracksRequestSent: this.ownsDispatcher,
    };
  }

  /** The account name (handy for logs; the password is not readable). */
  get account(): string {
    return this.credentials.account;
  }

  /** Sends one message to one or more numbers in one request. Never retried once it may have left. */
  async send(input: SendInput): Promise<SendResult> {
    const wire = buildSendRequest(this.credentials, input, this.wire);
    return this.call('send', wire, parseSendResponse);
  }

  /** One chunk of a batch: its parameters were checked once, before the first chunk. */
  private async sendPrepared(prepared: PreparedSend): Promise<SendResult> {
    const wire = buildPreparedSendRequest(this.credentials, prepared, this.wire);
    return this.call('send', wire, parseSendResponse);
  }

  /** Balance and pay type (`action=overage`). */
  async balance(): Promise<BalanceResult> {
    return this.call(
      'overage',
      buildBalanceRequest(this.credentials, this.wire),
      parseBalanceResponse,
    );
  }

  /** Asks the platform whether content contains blocked words. */
  async checkKeyword(content: string): Promise<CheckKeywordResult> {
    const wire = buildCheckKeywordRequest(this.credentials, content, this.wire);
    return this.call('checkkeyword', wire, parseCheckKeywordResponse);
  }

  /**
   * Pulls delivery reports. Each report is handed out ONCE by the platform: what this
   * returns is the only copy, so store it before doing anything else with it.
   */
  async fetchReports(options: FetchReportsOptions = {}): Promise<StatusReport[]> {
    assertInputObject(options, 'fetchReports options', 'queryReports');
    if (options.max !== undefined) assertMax(options.max, 'queryReports');
    assertSink(options.sink, 'queryReports');
    if (this.carriedReports.length > 0)
      return this.carriedReports.splice(0, options.max ?? Number.POSITIVE_INFINITY);
    const wire = buildReportsRequest(this.credentials, options, this.wire);
    return this.call('queryReports', wire, (text) => parseReportsResponse(text), options.sink);
  }

  /**
   * Pulls one answer of reports or replies into `sink` and does not read it: for a caller that
   * keeps the bytes (a journal) and reads them there with `parseReportsResponse` or
   * `parseRepliesResponse`, so an answer is parsed once. Resolves once the answer is complete.
   * A failed exchange rejects as `fetchReports` does (TIMEOUT, NETWORK, UNKNOWN_OUTCOME, HTTP,
   * PROTOCOL for a cut-off body); a platform's refusal inside a 200 answer is the reader's to
   * find. Pull-once: whatever reached `sink` is the only copy.
   */
  async fetchInto(
    kind: 'reports' | 'replies',
    sink: ResponseSink,
    options: { max?: number } = {},
  ): Promise<void> {
    const action = kind === 'reports' ? 'queryReports' : 'queryReplies';
    if (kind !== 'reports' && kind !== 'replies') {
      throw validationError('kind', "kind must be 'reports' or 'replies'", action);
    }
    if (sink === undefined) throw validationError('sink', 'fetchInto needs a sink', action);
    assertSink(sink, action);
    assertInputObject(options, 'fetchInto options', action);
    if (kind === 'reports' && options.max !== undefined) assertMax(options.max, action);
    const wire =
      kind === 'reports'
        ? buildReportsRequest(this.credentials, options, this.wire)
        : buildRepliesRequest(this.credentials, this.wire);
    await this.call(action, wire, null, sink);
  }

  /** Pulls replies (上行). Pull-once, like reports. */
  async fetchReplies(options: FetchRepliesOptions = {}): Promise<Reply[]> {
    assertInputObject(options, 'fetchReplies options', 'queryReplies');
    assertSink(options.sink, 'queryReplies');
    if (this.carriedReplies.length > 0) return this.carriedReplies.splice(0);
    const wire = buildRepliesRequest(this.credentials, this.wire);
    return this.call('queryReplies', wire, (text) => parseRepliesResponse(text), options.sink);
  }

  /** Changes the account's password; on success this client uses the new one. */
  async changePassword(newPassword: string): Promise<ChangePasswordResult> {
    const wire = buildChangePasswordRequest(this.credentials, newPassword, this.wire);
    // The new password is on the wire from now on: a server may echo it back too.
    if (!this.secrets.includes(newPassword)) this.secrets.push(newPassword);
    const result = await this.call('changespwd', wire, parseChangePasswordResponse);
    this.credentials = { ...this.credentials, password: newPassword };
    return result;
  }

  /**
   * Polls delivery reports and yields each once. Drains quickly while reports are waiting.
   * Leaving the loop early keeps the rest of the fetched batch in this client: the next
   * `reports()` or `fetchReports()` hands it out before asking the platform again.
   */
  reports(options: PollOptions = {}): AsyncGenerator<StatusReport> {
    assertPollOptions(options, 'queryReports');
    const max = options.max;
    const fetch = () => this.fetchReports(max === undefined ? {} : { max });
    return this.poll(fetch, this.carriedReports, max ?? 4000, options);
  }

  /** Polls replies and yields each once; like `reports()`, nothing fetched is dropped on `break`. */
  replies(options: PollOptions = {}): AsyncGenerator<Reply> {
    assertPollOptions(options, 'queryReplies');
    const fetch = () => this.fetchReplies();
    return this.poll(fetch, this.carriedReplies, Number.POSITIVE_INFINITY, options);
  }

  /**
   * Sends one content to many numbers in chunks of `chunkSize`, `concurrency` at a time.
   * Does not stop at the first failure; invalid numbers are reported, not sent.
   */
  async sendBatch(input: SendBatchInput): Promise<SendBatchResult> {
    const plan = planBatch(input);
    // Validate everything shared by the chunks once, before the first request.
    const prepared = prepareSend({ ...input, mobiles: plan.valid.slice(0, 1) }, this.wire.now?.());
    encodeFormValue(prepared.content, this.charset, 'content', 'send');
    // A throw that is not an SmsError never left this process: the chunk was not sent.
    return runBatch(
      input,
      plan,
      (mobiles) => this.sendPrepared({ ...prepared, mobiles }),
      'NETWORK',
    );
  }

  /** Closes the connection pool (not a dispatcher you passed in). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  private async *poll<T>(
    fetch: () => Promise<T[]>,
    carried: T[],
    fullBatch: number,
    options: PollOptions,
  ): AsyncGenerator<T> {
    const intervalMs = options.intervalMs ?? 5000;
    const { signal, onError } = options;
    while (!signal?.aborted) {
      let batch: T[];
      let failure: SmsError | undefined;
      try {
        batch = await fetch();
      } catch (error) {
        if (!(error instanceof SmsError)) throw error;
        // A broken answer may still have carried complete records: they come first.
        batch = error.records as unknown as T[];
        failure = error;
      }
      let index = 0;
      try {
        for (; index < batch.length; index++) yield batch[index]!;
      } finally {
        // The consumer left mid-batch (break/throw at a yield): record `index` was delivered.
        if (index < batch.length) carried.unshift(...batch.slice(index + 1));
      }
      if (failure) {
        if (!onError) throw failure;
        onError(failure);
        await sleep(intervalMs, signal);
        continue;
      }
      if (batch.length < fullBatch) await sleep(intervalMs, signal);
    }
  }

  private async call<T>(
    action: SmsAction,
    wire: WireRequest,
    /** null: the answer is not read (`fetchInto`): only its status is checked. */
    parse: ((text: string) => T) | null,
    sink?: ResponseSink,
  ): Promise<T> {
    if (this.closed)
      throw new SmsError(`${action}: the client is closed`, { code: 'NETWORK', action });
    const options: ExchangeOptions = sink
      ? {
          ...this.exchangeOptions,
          sink,
          onSinkError: (error) =>
            this.logger?.error?.('sms response sink failed; the answer is kept in memory only', {
              action,
              error: this.mask(error instanceof Error ? error.message : String(error)),
            }),
        }
      : this.exchangeOptions;
    for (let attempt = 0; ; attempt++) {
      const started = this.logger?.debug ? performance.now() : 0;
      try {
        const response = await exchange(wire, options);
        this.logger?.debug?.('sms request', {
          action,
          path: wire.path,
          status: response.status,
          ms: Math.round(performance.now() - started),
        });
        try {
          if (parse === null) {
            if (response.status < 200 || response.status > 299) {
              responseText(response, wire, action, this.basePath + wire.path);
            }
            return undefined as T;
          }
          return parse(responseText(response, wire, action, this.basePath + wire.path));
        } catch (error) {
          if (
            error instanceof SmsError &&
            (error.code === 'HTTP' || error.code === 'PROTOCOL' || error.records.length > 0)
          ) {
            error.response = { ...response, receivedAt: new Date() };
          }
          throw error;
        }
      } catch (thrown) {
        let error: SmsError;
        if (thrown instanceof TransportFailure) {
          error = transportError(thrown, action, CHANGES_STATE[action]);
          if (thrown.partial && isPull(action) && parse !== null)
            keepPartialPull(error, thrown.partial, wire, parse);
        } else if (thrown instanceof SmsError) error = thrown;
        else
          error = new SmsError(`${action}: ${String(thrown)}`, {
            code: 'PROTOCOL',
            action,
            cause: thrown,
          });
        // A server may echo the form (password included) in an error page or a bad answer.
        maskErrorSecrets(error, this.secrets);
        const retryable = this.isRetryable(error, thrown, action);
        this.logger?.warn?.('sms request failed', {
          action,
          path: wire.path,
          code: error.code,
          status: error.status,
          message: error.message,
          attempt,
          retrying: retryable && attempt < this.retry.retries,
        });
        if (!retryable || attempt >= this.retry.retries) throw error;
        await sleep(backoffDelay(this.retry, attempt));
      }
    }
  }

  private mask(text: string): string {
    return maskSecrets(text, this.secrets);
  }

  private isRetryable(error: SmsError, thrown: unknown, action: SmsAction): boolean {
    if (thrown instanceof TransportFailure && !thrown.mayHaveReachedServer) return true;
    if (CHANGES_STATE[action]) return false;
    if (error.code === 'NETWORK' || error.code === 'TIMEOUT') return true;
    return (
      error.code === 'HTTP' &&
      (error.status === undefined || error.status >= 500 || error.status === 429)
    );
  }
}

function isPull(action: SmsAction): boolean {
  return action === 'queryReports' || action === 'queryReplies';
}

/**
 * A pull cut off mid-answer (reset, deadline, size cap): the platform considers what it sent
 * handed out, so keep the bytes on the error and every complete record among them.
 */
function keepPartialPull<T>(
  error: SmsError,
  partial: RawResponse,
  wire: WireRequest,
  parse: (text: string) => T,
): void {
  error.response = { ...partial, receivedAt: new Date() };
  try {
    const records = parse(responseText(partial, wire, error.action ?? 'queryReports'));
    if (Array.isArray(records)) error.records = records;
  } catch (salvage) {
    if (salvage instanceof SmsError) error.records = salvage.records;
  }
}

/** The largest delay a Node timer takes; a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function positiveOption(
  value: number | undefined,
  field: string,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw validationError(field, `${field} must be a positive number up to ${max}`);
  }
  return value;
}

function validRetry(options: unknown): RetryPolicy {
  if (options === undefined || options === false) return retryPolicy(options);
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw validationError(
      'retry',
      `retry must be an object or false, got ${describeType(options)}`,
    );
  }
  const { retries, minDelayMs, maxDelayMs } = options as RetryOptions;
  if (retries !== undefined && (!Number.isSafeInteger(retries) || retries < 0 || retries > 100)) {
    throw validationError('retry.retries', 'retry.retries must be a whole number from 0 to 100');
  }
  for (const [field, value] of [
    ['retry.minDelayMs', minDelayMs],
    ['retry.maxDelayMs', maxDelayMs],
  ] as const) {
    if (
      value !== undefined &&
      (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS)
    ) {
      throw validationError(field, `${field} must be a number of milliseconds (0 or more)`);
    }
  }
  return retryPolicy(options as RetryOptions);
}

function validLogger(logger: unknown): SmsLogger | undefined {
  if (logger === undefined) return undefined;
  if (logger === null || typeof logger !== 'object') {
    throw validationError(
      'logger',
      `logger must be an object (console works), got ${describeType(logger)}`,
    );
  }
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    const method = (logger as Record<string, unknown>)[level];
    if (method !== undefined && typeof method !== 'function') {
      throw validationError('logger', `logger.${level} must be a function`);
    }
  }
  return logger as SmsLogger;
}

function assertSink(sink: unknown, action: SmsAction): void {
  if (sink === undefined) return;
  if (
    sink === null ||
    typeof sink !== 'object' ||
    typeof (sink as { chunk?: unknown }).chunk !== 'function' ||
    ((sink as { head?: unknown }).head !== undefined &&
      typeof (sink as { head?: unknown }).head !== 'function')
  ) {
    throw validationError('sink', 'sink must be an object with a chunk(bytes) function', action);
  }
}

function assertSignal(signal: unknown, action: SmsAction): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw validationError('signal', 'signal must be an AbortSignal', action);
  }
}

function assertPollOptions(options: unknown, action: SmsAction): asserts options is PollOptions {
  assertInputObject(options, 'poll options', action);
  const { intervalMs, max, onError, signal } = options as PollOptions;
  if (
    intervalMs !== undefined &&
    (typeof intervalMs !== 'number' ||
      !Number.isFinite(intervalMs) ||
      intervalMs < 0 ||
      intervalMs > MAX_TIMER_MS)
  ) {
    throw validationError(
      'intervalMs',
      'intervalMs must be a number of milliseconds (0 or more)',
      action,
    );
  }
  if (max !== undefined) assertMax(max, action);
  if (onError !== undefined && typeof onError !== 'function') {
    throw validationError('onError', 'onError must be a function', action);
  }
  assertSignal(signal, action);
}
