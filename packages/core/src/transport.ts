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
  ) {
    super(error.message, { cause: error });
  }
}

export interface ExchangeOptions {
  dispatcher: Dispatcher;
  origin: string;
  basePath: string;
  timeoutMs: number;
  /** Our own Pool reports `onRequestSent`; interceptor chains may not, so be conservative there. */
  tracksRequestSent: boolean;
  signal?: AbortSignal | undefined;
}

/**
 * One POST through undici's dispatcher with a minimal handler: no stream objects, the body
 * collected as Buffers, and `onRequestSent` telling us when a retry would be unsafe.
 */
export function exchange(wire: WireRequest, options: ExchangeOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let sent = false;
    let status = 0;
    let contentType: string | undefined;
    const chunks: Buffer[] = [];
    let abortRequest: ((reason?: Error) => void) | undefined;
    const onAbort = () => abortRequest?.(new Error('aborted by signal'));
    if (options.signal?.aborted) {
      reject(new TransportFailure(new Error('aborted by signal'), false));
      return;
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = () => options.signal?.removeEventListener('abort', onAbort);
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
      {
        onConnect(abort: (reason?: Error) => void) {
          abortRequest = abort;
        },
        onRequestSent() {
          sent = true;
        },
        onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null) {
          sent = true;
          status = statusCode;
          if (rawHeaders) {
            for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
              if (String(rawHeaders[i]).toLowerCase() === 'content-type') {
                contentType = String(rawHeaders[i + 1]);
              }
            }
          }
          return true;
        },
        onData(chunk: Buffer) {
          chunks.push(chunk);
          return true;
        },
        onComplete() {
          finish();
          resolve({
            status,
            contentType,
            body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
          });
        },
        onError(error: Error & { code?: string }) {
          finish();
          const connectPhase = error.code !== undefined && CONNECT_PHASE.has(error.code);
          const notSent = connectPhase || (options.tracksRequestSent && !sent);
          reject(new TransportFailure(error, !notSent));
        },
        onUpgrade() {},
        onBodySent() {},
      } as unknown as Dispatcher.DispatchHandler,
    );
  });
}

const TIMEOUT_CODES = new Set([
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
  if (timedOut)
    return new SmsError(`${action}: timed out (${code})`, {
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

/** Turns a complete HTTP exchange into text, or an `HTTP` error for non-2xx answers. */
export function responseText(response: RawResponse, wire: WireRequest, action: SmsAction): string {
  const text = decodeResponse(response.body, response.contentType, wire.charset);
  if (response.status < 200 || response.status > 299) {
    throw new SmsError(`${action}: HTTP ${response.status}`, {
      code: 'HTTP',
      action,
      status: response.status,
      excerpt: excerptOf(text),
    });
  }
  return text;
}
