import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/** What a route answers. A string or object body is sent as given / as JSON. */
export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  /** A string or Buffer is sent as is; anything else as JSON. */
  body?: unknown;
}

export interface HttpRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Every header as the list of its values (a repeated header is not joined). */
  headersDistinct: Record<string, string[]>;
  /** `:name` segments of the route's path. */
  params: Record<string, string>;
  /** The body, at most `maxBodyBytes` (a larger one is refused with 413 before the route runs). */
  body(): Promise<Buffer>;
}

/**
 * Who may call a route. `open`: anyone (health, the OpenAPI document). `page`: anyone when a
 * token is configured (the console's static shell, which holds no data), off (404) without one.
 * `token`: `Authorization: Bearer <http.token>`; off (404) without a configured token.
 * `metrics`: open unless `http.protectMetrics` (which needs a token: a config error without).
 */
export type RouteAccess = 'open' | 'page' | 'token' | 'metrics';

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** `/v1/messages/:id`; a last segment `*` matches the rest (`params['*']`). */
  path: string;
  access: RouteAccess;
  handle(request: HttpRequest): Promise<HttpAnswer> | HttpAnswer;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

export interface RouterOptions {
  routes: readonly Route[];
  token: string | undefined;
  protectMetrics: boolean;
  maxBodyBytes?: number;
  onError(path: string, error: unknown): void;
}

const digest = (value: string) => hash('sha256', value, 'buffer');

/** Constant-time comparison of a request's bearer token with the configured one. */
function tokenMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), expected);
}

/** C0 controls and DEL: never part of an id, a name or a filter. */
const CONTROL = /[\u0000-\u001F\u007F]/;

/**
 * A route's pattern against a request's path, both split at `/` (each pattern once, when the
 * router is made; each path once per request).
 */
function matchPath(want: readonly string[], got: readonly string[]): Record<string, string> | null {
  if (want.length !== got.length && want.at(-1) !== '*') return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    if (segment === '*' && i === want.length - 1) {
      params['*'] = got.slice(i).join('/');
      return params;
    }
    const value = got[i];
    if (value === undefined) return null;
    if (segment.startsWith(':')) {
      if (value === '') return null;
      let decoded: string;
      try {
        decoded = decodeURIComponent(value);
      } catch {
        return null;
      }
      // No id or name holds a control character (a NUL was a 500 on PostgreSQL): no match, 404.
      if (CONTROL.test(decoded)) return null;
      params[segment.slice(1)] = decoded;
    } else if (segment !== value) return null;
  }
  return want.length === got.length ? params : null;
}

function send(res: ServerResponse, answer: HttpAnswer, head: boolean): void {
  const headers: Record<string, string> = { ...answer.headers };
  let body: string | Buffer;
  if (typeof answer.body === 'string' || Buffer.isBuffer(answer.body)) body = answer.body;
  else if (answer.body === undefined) body = '';
  else {
    body = `${JSON.stringify(answer.body)}\n`;
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  headers['content-type'] ??= 'text/plain; charset=utf-8';
  headers['content-length'] = String(Buffer.byteLength(body));
  headers['x-content-type-options'] = 'nosniff';
  res.writeHead(answer.status, headers);
  res.end(head ? undefined : body);
}

/** The relay's HTTP request handler: routes, the bearer token, body limits, JSON errors. */
export function createRouter(options: RouterOptions) {
  const expected = options.token === undefined ? undefined : digest(options.token);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const routes = options.routes.map((route) => ({ route, want: route.path.split('/') }));

  function allowed(access: RouteAccess, req: IncomingMessage): HttpAnswer | null {
    if (access === 'open' || (access === 'metrics' && !options.protectMetrics)) return null;
    if (!expected) {
      // protectMetrics without a token is refused by the config; a router built by hand
      // without one answers 401 to everyone, as nobody holds the token.
      return access === 'metrics'
        ? { status: 401, body: 'unauthorized\n' }
        : { status: 404, body: { error: 'set http.token to turn the console and API on' } };
    }
    if (access === 'page') return null;
    if (tokenMatches(req.headers.authorization, expected)) return null;
    return {
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="sms-relay"' },
      body: { error: 'unauthorized: send Authorization: Bearer <http.token>' },
    };
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://relay.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    try {
      for (const [key, value] of url.searchParams) {
        if (CONTROL.test(key) || CONTROL.test(value)) {
          req.resume();
          return send(
            res,
            { status: 400, body: { error: 'the query must not hold control characters' } },
            false,
          );
        }
      }
      let pathMatched = false;
      const got = path.split('/');
      for (const { route, want } of routes) {
        const params = matchPath(want, got);
        if (!params) continue;
        pathMatched = true;
        const head = method === 'HEAD' && route.method === 'GET';
        if (route.method !== method && !head) continue;
        const refused = allowed(route.access, req);
        if (refused) return send(res, refused, head);
        const declared = Number(req.headers['content-length'] ?? 0);
        if (declared > maxBodyBytes) {
          drain(req);
          throw new TooLarge();
        }
        let buffered: Promise<Buffer> | undefined;
        const answer = await route.handle({
          method,
          path,
          query: url.searchParams,
          headers: req.headers,
          headersDistinct: req.headersDistinct as Record<string, string[]>,
          params,
          body: () => (buffered ??= readBody(req, maxBodyBytes)),
        });
        return send(res, answer, head);
      }
      send(
        res,
        pathMatched
          ? { status: 405, body: 'method not allowed\n' }
          : { status: 404, body: 'not found\n' },
        false,
      );
    } catch (error) {
      if (error instanceof TooLarge) {
        // The rest of the body is read and dropped (up to a bound) while the answer goes out,
        // then the connection closes: the client reads a 413, not a reset.
        return send(
          res,
          { status: 413, headers: { connection: 'close' }, body: { error: 'body too large' } },
          false,
        );
      }
      if (error instanceof HttpError)
        return send(res, { status: error.status, body: error.body }, false);
      options.onError(path, error);
      send(res, { status: 500, body: { error: 'internal error' } }, false);
    }
  };
}

/** A body over the limit (declared or, chunked, as it came). */
class TooLarge extends HttpError {
  constructor() {
    super(413, { error: 'body too large' });
  }
}

/** How much of an oversized body is read and dropped before the connection is cut. */
const DRAIN_BYTES = 16 * 1024 * 1024;

/** Reads and drops a body nobody will use, cutting the connection past `DRAIN_BYTES`. */
function drain(req: IncomingMessage): void {
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > DRAIN_BYTES) req.destroy();
  });
  req.resume();
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) {
        if (size > max + DRAIN_BYTES) req.destroy();
        return;
      }
      if (size > max) {
        over = true;
        chunks.length = 0;
        reject(new TooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Parses a JSON body; a body that is not JSON is a 400. */
export async function jsonBody(request: HttpRequest): Promise<unknown> {
  const raw = await request.body();
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, { error: 'the body must be JSON' });
  }
}
