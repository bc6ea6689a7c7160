import type { Dispatcher } from 'undici';
import { decodeResponse } from './charset.js';
import { SmsError, type SmsAction } from './errors.js';
import { excerptOf } from './protocol.js';
import type { WireRequest } from './types.js';

/** A raw exchange: what came back, and whether the request may have reached the server. */
export interface RawResponse {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

/**
 * Receives a response's bytes as they come off the socket, synchronously and before any
 * parsing: the place to make a pull-once answer durable (the relay's journal writes here).
 * A sink that throws is detached (and the failure logged); the exchange goes on in memory.
 */
export interface ResponseSink {
  /** The status line and headers arrived. */
  head?(status: number, contentType: string | undefined): void;
  /** A chunk of the body, in order. */
  chunk(bytes: Buffer): void;
}

/** Our own error codes for the limits `exchange` enforces (undici's are `UND_ERR_*`). */
export const DEADLINE_EXCEEDED = 'SMS_DEADLINE_EXCEEDED';
export const RESPONSE_TOO_LARGE = 'SMS_RESPONSE_TOO_LARGE';

/** Errors raised before a connection existed: the request surely never left. */
const CONNECT_PHASE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export class TransportFailure extends Error {
  override readonly name = 'TransportFailure';
  constructor(
    readonly error: Error & { code?: string },
    /** False only when we know the request never left this process. */
    readonly mayHaveReachedServer: boolean,
    /** What arrived before the failure (headers and part of the body), if anything did. */
    readonly partial?: RawResponse,
  ) {
    super(error.message, { cause: error });
  }
}

export interface ExchangeOptions {
  dispatcher: Dispatcher;
  origin: string;
  basePath: string;
  /** Overall deadline: connecting, headers and the whole body. */
  timeoutMs: number;
  /** Abort once the body exceeds this many bytes. */
  maxResponseBytes: number;
  sink?: ResponseSink | undefined;
  /** Told when a sink throws (it is then detached). */
  onSinkError?: ((error: unknown) => void) | undefined;
  /** Our own Pool reports `onRequestSent`; interceptor chains may not, so be conservative there. */
  tracksRequestSent: boolean;
  signal?: AbortSignal | undefined;
}

/**
 * One POST through undici's dispatcher with a minimal handler: no stream objects, the body
 * collected as Buffers, and `onRequestSent` telling us when a retry would be unsafe. One
 * deadline covers the whole exchange (a server trickling a byte at a time cannot hold us),
 * and the body is capped; either limit aborts with what arrived so far kept on the failure.
 */
export function exchange(wire: WireRequest, options: ExchangeOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new TransportFailure(new Error('aborted by signal'), false));
      return;
    }
    const handler = new ExchangeHandler(options, resolve, reject);
    options.dispatcher.dispatch(
      {
        origin: options.origin,
        method: 'POST',
        path: options.basePath + wire.path,
        // undici adds content-length for a Buffer body; every extra header costs per request.
        headers: { 'content-type': wire.contentType },
        body: wire.body,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      },
      handler as unknown as Dispatcher.DispatchHandler,
    );
  });
}

/** The deadline's timer callback (a plain function and an argument: no closure per request). */
function expire(handler: ExchangeHandler): void {
  handler.abort(
    Object.assign(new Error(`no complete answer within ${handler.options.timeoutMs} ms`), {
      code: DEADLINE_EXCEEDED,
    }),
  );
}

/**
 * undici's handler for one exchange. A class rather than an object of closures: its methods
 * are shared, so a request allocates one object here, not ten functions.
 */
class ExchangeHandler {
  private sent = false;
  private headed = false;
  private status = 0;
  private contentType: string | undefined;
  private sink: ResponseSink | undefined;
  /** The body's first chunk; `more` holds the rest (most answers come in one). */
  private first: Buffer | undefined;
  private more: Buffer[] | undefined;
  private received = 0;
  private abortRequest: ((reason?: Error) => void) | undefined;
  private pendingAbort: Error | undefined;
  private readonly deadline: NodeJS.Timeout;
  private readonly onAbort: (() => void) | undefined;

  constructor(
    readonly options: ExchangeOptions,
    private readonly resolve: (response: RawResponse) => void,
    private readonly reject: (failure: TransportFailure) => void,
  ) {
    this.sink = options.sink;
    const { signal } = options;
    if (signal) {
      this.onAbort = () => this.abort(new Error('aborted by signal'));
      signal.addEventListener('abort', this.onAbort, { once: true });
    }
    this.deadline = setTimeout(expire, options.timeoutMs, this);
  }

  abort(reason: Error): void {
    if (this.abortRequest) this.abortRequest(reason);
    else this.pendingAbort ??= reason;
  }

  private finish(): void {
    clearTimeout(this.deadline);
    if (this.onAbort) this.options.signal?.removeEventListener('abort', this.onAbort);
  }

  private feedSink(feed: (target: ResponseSink) => void): void {
    const sink = this.sink;
    if (!sink) return;
    try {
      feed(sink);
    } catch (error) {
      this.sink = undefined;
      this.options.onSinkError?.(error);
    }
  }

  private body(): Buffer {
    if (this.more) return Buffer.concat([this.first!, ...this.more]);
    return this.first ?? EMPTY_BODY;
  }

  onConnect(abortThis: (reason?: Error) => void): void {
    this.abortRequest = abortThis;
    if (this.pendingAbort) abortThis(this.pendingAbort);
  }

  onRequestSent(): void {
    this.sent = true;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
    this.sent = true;
    this.headed = true;
    this.status = statusCode;
    if (rawHeaders) {
      for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
        const name = rawHeaders[i]!;
        // `content-type` is 12 bytes (or characters): the other names are never decoded.
        if (name.length === 12 && String(name).toLowerCase() === 'content-type') {
          this.contentType = String(rawHeaders[i + 1]);
        }
      }
    }
    if (this.sink) this.feedSink((target) => target.head?.(statusCode, this.contentType));
    return true;
  }

  onData(chunk: Buffer): boolean {
    // Durable first: the sink sees the bytes before anything else can happen to them.
    if (this.sink) this.feedSink((target) => target.chunk(chunk));
    this.received += chunk.length;
    if (this.first === undefined) this.first = chunk;
    else if (this.more === undefined) this.more = [chunk];
    else this.more.push(chunk);
    if (this.received > this.options.maxResponseBytes) {
      this.abort(
        Object.assign(
          new Error(`the answer exceeds ${this.options.maxResponseBytes} bytes (maxResponseBytes)`),
          { code: RESPONSE_TOO_LARGE },
        ),
      );
      return false;
    }
    return true;
  }

  onComplete(): void {
    this.finish();
    this.resolve({ status: this.status, contentType: this.contentType, body: this.body() });
  }

  onError(error: Error & { code?: string }): void {
    this.finish();
    const connectPhase = error.code !== undefined && CONNECT_PHASE.has(error.code);
    const notSent = connectPhase || (this.options.tracksRequestSent && !this.sent);
    const partial = this.headed
      ? { status: this.status, contentType: this.contentType, body: this.body() }
      : undefined;
    this.reject(new TransportFailure(error, !notSent, partial));
  }

  onUpgrade(): void {}

  onBodySent(): void {}
}

const EMPTY_BODY = Buffer.alloc(0);

const TIMEOUT_CODES = new Set([
  DEADLINE_EXCEEDED,
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Classifies a transport failure. A send (or any call that changes state) that may have
 * reached the server is `UNKNOWN_OUTCOME`: it may have been accepted and billed.
 */
export function transportError(
  failure: TransportFailure,
  action: SmsAction,
  changesState: boolean,
): SmsError {
  const { error, mayHaveReachedServer } = failure;
  const code = error.code ?? '';
  const timedOut = TIMEOUT_CODES.has(code);
  if (mayHaveReachedServer && changesState) {
    return new SmsError(
      `${action}: the outcome is unknown (${timedOut ? 'timed out' : describe(error)} after the request was sent); it may have been accepted — check reports before resending`,
      { code: 'UNKNOWN_OUTCOME', action, cause: error },
    );
  }
  if (code === RESPONSE_TOO_LARGE)
    return new SmsError(`${action}: ${error.message}`, { code: 'PROTOCOL', action, cause: error });
  if (timedOut)
    return new SmsError(`${action}: timed out (${describe(error)})`, {
      code: 'TIMEOUT',
      action,
      cause: error,
    });
  return new SmsError(`${action}: network error (${describe(error)})`, {
    code: 'NETWORK',
    action,
    cause: error,
  });
}

function describe(error: Error & { code?: string }): string {
  return error.code ? `${error.code}: ${error.message}` : error.message;
}

/**
 * Turns a complete HTTP exchange into text, or an `HTTP` error for non-2xx answers. `path` is
 * what was requested (base path included), named on a 404 with a hint about `baseUrl`.
 */
export function responseText(
  response: RawResponse,
  wire: WireRequest,
  action: SmsAction,
  path: string = wire.path,
): string {
  const text = decodeResponse(response.body, response.contentType, wire.charset);
  if (response.status < 200 || response.status > 299) {
    // The most common first mistake: a baseUrl that already ends in /sms.aspx (or a wrong prefix).
    const hint =
      response.status === 404
        ? ` for POST ${path}: baseUrl should be the platform's root (e.g. http://203.0.113.5:8888), the client adds ${wire.path} itself`
        : '';
    throw new SmsError(`${action}: HTTP ${response.status}${hint}`, {
      code: 'HTTP',
      action,
      status: response.status,
      excerpt: excerptOf(text),
    });
  }
  return text;
}
