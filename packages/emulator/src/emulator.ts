/** The HTTP shell: node:http, request parsing as ASP.NET does it, faults and the control API. */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import { decodeForm, encodeText } from '@sms/core';
import { handleControl, mask, refusal } from './control.js';
import { createEventHub, findInboxAssets, serveInboxAsset, serveInboxPage } from './inbox.js';
import { isMultipart, parseMultipart } from './multipart.js';
import { type EndpointKind, Platform } from './platform.js';
import type {
  Emulator,
  EmulatorCharset,
  EmulatorOptions,
  Fault,
  FaultType,
  InboxSnapshot,
  RecordedRequest,
} from './types.js';
import {
  aspNetErrorPage,
  malformJson,
  malformXml,
  normalizeQuirks,
  notFoundPage,
  renderJson,
  renderXml,
} from './answers.js';

interface Endpoint {
  kind: EndpointKind;
  charset: EmulatorCharset;
  /** The v2 family: timestamp + sign instead of the password. */
  signed: boolean;
  format: 'xml' | 'json';
}

const defineEndpoint = (
  kind: EndpointKind,
  charset: EmulatorCharset,
  signed = false,
  format: 'xml' | 'json' = 'xml',
): Endpoint => ({ kind, charset, signed, format });

/** ASP.NET paths are case-insensitive: keys are lower-case. */
const ENDPOINTS: Record<string, Endpoint> = {
  '/sms.aspx': defineEndpoint('sms', 'utf-8'),
  '/smsgbk.aspx': defineEndpoint('sms', 'gbk'),
  '/statusapi.aspx': defineEndpoint('status', 'utf-8'),
  '/callapi.aspx': defineEndpoint('call', 'utf-8'),
  // Platform variants: the same actions answered as JSON, and the signed v2 family.
  '/smsjson.aspx': defineEndpoint('sms', 'utf-8', false, 'json'),
  '/v2sms.aspx': defineEndpoint('sms', 'utf-8', true),
  '/v2smsgbk.aspx': defineEndpoint('sms', 'gbk', true),
  '/v2statusapi.aspx': defineEndpoint('status', 'utf-8', true),
  '/v2callapi.aspx': defineEndpoint('call', 'utf-8', true),
};

const FAULT_TYPES: readonly FaultType[] = ['latency', 'html500', 'malformed', 'reset', 'truncate'];
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const SECRET_PARAMS = new Set(['password', 'newpwd', 'renewpwd', 'sign']);

/** A request target with the value of every secret query parameter as `***` (names in any case or encoding). */
function maskUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const pairs = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1 || eq === pair.length - 1) return pair;
      let name = pair.slice(0, eq).replace(/\+/g, ' ');
      try {
        name = decodeURIComponent(name);
      } catch {}
      return SECRET_PARAMS.has(name.trim().toLowerCase()) ? `${pair.slice(0, eq)}=***` : pair;
    });
  return `${url.slice(0, q)}?${pairs.join('&')}`;
}
export const CONTROL_PREFIX = '/__emulator/';
/** How many of the latest messages and replies the inbox page is sent, and recipients at most. */
const INBOX_LIMIT = 500;
const INBOX_RECIPIENTS = 5000;

/** Checks a fault given by a user (or JSON) and copies it. */
export function normalizeFault(fault: unknown): Fault | null {
  if (fault === null || fault === undefined) return null;
  if (typeof fault !== 'object')
    throw new TypeError('[sms] [emulator] a fault must be an object or null');
  const input = fault as Record<string, unknown>;
  if (!FAULT_TYPES.includes(input.type as FaultType)) {
    throw new TypeError(`[sms] [emulator] fault type must be one of ${FAULT_TYPES.join(', ')}`);
  }
  const out: Fault = { type: input.type as FaultType };
  for (const key of ['ms', 'times'] as const) {
    if (input[key] !== undefined) {
      const value = Number(input[key]);
      if (!Number.isFinite(value) || value < 0)
        throw new TypeError(`[sms] [emulator] fault ${key} must be a number >= 0`);
      out[key] = value;
    }
  }
  for (const key of ['path', 'action', 'body'] as const) {
    if (input[key] !== undefined) out[key] = String(input[key]);
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function isForm(contentType: string): boolean {
  return (
    contentType === '' || contentType.toLowerCase().includes('application/x-www-form-urlencoded')
  );
}

function contentTypeOf(endpoint: Endpoint): string {
  if (endpoint.format === 'json') return 'application/json; charset=utf-8';
  return endpoint.charset === 'gbk' ? 'text/xml; charset=gb2312' : 'text/xml; charset=utf-8';
}

function notFound(res: ServerResponse): void {
  const page = Buffer.from(notFoundPage(), 'utf8');
  res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': page.length });
  res.end(page);
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The path and query of a request target. Besides the origin form (`/sms.aspx?…`), a server
 * must accept the absolute form (`http://host:8888/sms.aspx?…`, RFC 9112 §3.2.2): what a
 * client sends to the emulator set as its HTTP proxy. `null` for anything else.
 */
function pathAndQuery(target: string): { path: string; query: string; absolute: boolean } | null {
  let absolute = false;
  if (!target.startsWith('/')) {
    if (!/^https?:\/\//i.test(target)) return null;
    try {
      const url = new URL(target);
      target = `${url.pathname}${url.search}`;
      absolute = true;
    } catch {
      return null;
    }
  }
  const mark = target.indexOf('?');
  return mark === -1
    ? { path: target, query: '', absolute }
    : { path: target.slice(0, mark), query: target.slice(mark + 1), absolute };
}

/** Starts the platform on `host:port` and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('[sms] [emulator] startEmulator takes an options object or nothing');
  }
  if (options.accounts !== undefined && !Array.isArray(options.accounts)) {
    throw new TypeError(
      '[sms] [emulator] accounts must be an array of { userId, account, password }',
    );
  }
  const platform = new Platform(options);
  let fault: Fault | null = null;
  let faultRemaining = Number.POSITIVE_INFINITY;
  let requests: RecordedRequest[] = [];
  let quirks = normalizeQuirks(options.quirks);
  const maxRequests = Math.max(1, options.maxRecordedRequests ?? 10_000);
  const sleeps = new Set<NodeJS.Timeout>();
  const host = options.host ?? '127.0.0.1';
  const allowedHosts = [...(options.allowedHosts ?? []), ...(isIP(host) ? [] : [host])].map(
    (name) => name.toLowerCase(),
  );
  const assets = findInboxAssets();
  const hub = createEventHub(
    (): InboxSnapshot => ({
      messages: platform.recent(INBOX_LIMIT, INBOX_RECIPIENTS),
      replies: platform.loggedReplies(INBOX_LIMIT),
      accounts: platform.allAccounts().map(mask),
      fault: currentFault(),
      quirks: { ...quirks },
    }),
    options.events,
  );
  platform.onChange = () => hub.notify();

  function currentFault(): Fault | null {
    return fault
      ? { ...fault, ...(Number.isFinite(faultRemaining) ? { times: faultRemaining } : {}) }
      : null;
  }

  function setFault(next: Fault | null): void {
    fault = normalizeFault(next);
    faultRemaining = fault?.times ?? Number.POSITIVE_INFINITY;
    if (faultRemaining <= 0) fault = null;
    hub.notify();
  }

  function takeFault(path: string, action: string): Fault | undefined {
    if (!fault) return undefined;
    if (fault.path !== undefined && fault.path.toLowerCase() !== path.toLowerCase())
      return undefined;
    if (fault.action !== undefined && fault.action.toLowerCase() !== action) return undefined;
    const taken = fault;
    faultRemaining -= 1;
    if (faultRemaining <= 0) fault = null;
    if (Number.isFinite(faultRemaining)) hub.notify();
    return taken;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        sleeps.delete(timer);
        resolve();
      }, ms);
      timer.unref();
      sleeps.add(timer);
    });
  }

  async function handlePlatform(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: Endpoint,
    path: string,
    query: string,
  ): Promise<void> {
    const body = await readBody(req);
    const contentType = req.headers['content-type'] ?? '';
    // Like ASP.NET's Request[name]: the query string first, then the form body.
    const params = new Map(decodeForm(Buffer.from(query, 'latin1'), endpoint.charset));
    const bodyFields = !body.length
      ? undefined
      : isMultipart(contentType)
        ? parseMultipart(body, contentType, endpoint.charset)
        : isForm(contentType)
          ? decodeForm(body, endpoint.charset)
          : undefined;
    if (bodyFields) {
      for (const [name, value] of bodyFields) {
        if (!params.has(name)) params.set(name, value);
      }
    }
    const action = (params.get('action') ?? '').trim().toLowerCase();
    const applied = takeFault(path, action);
    const redacted: Record<string, string> = {};
    for (const [name, value] of params) {
      redacted[name] = SECRET_PARAMS.has(name) && value !== '' ? '***' : value;
    }
    // Bounded: a benchmark or a long-lived CLI must not grow without end.
    if (requests.length >= maxRequests * 2) requests = requests.slice(-maxRequests);
    requests.push({
      at: new Date(),
      method: req.method ?? 'GET',
      url: maskUrl(req.url ?? '/'),
      path,
      charset: endpoint.charset,
      action,
      contentType,
      params: redacted,
      fault: applied?.type,
    });

    const delay = applied?.ms ?? (applied?.type === 'latency' ? 1000 : 0);
    if (delay > 0) await sleep(delay);
    if (res.destroyed) return;

    if (applied?.type === 'html500') {
      const page = Buffer.from(applied.body ?? aspNetErrorPage(), 'utf8');
      res.writeHead(500, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': page.length,
      });
      res.end(page);
      return;
    }

    const answer = platform.handle(endpoint.kind, params, {
      charset: endpoint.charset,
      path,
      signed: endpoint.signed,
    });
    const headers = { 'Content-Type': contentTypeOf(endpoint) };

    if (applied?.type === 'reset') {
      // The request was handled (a send is recorded and billed); the answer never leaves.
      req.socket.resetAndDestroy();
      return;
    }
    const json = endpoint.format === 'json';
    let text = json
      ? renderJson(answer)
      : renderXml(answer, { ...quirks, bom: quirks.bom === true && endpoint.charset === 'utf-8' });
    if (applied?.type === 'malformed')
      text = applied.body ?? (json ? malformJson(text) : malformXml(text));
    const bytes = encodeText(text, endpoint.charset);
    if (applied?.type === 'truncate') {
      res.writeHead(200, { ...headers, 'Content-Length': bytes.length + 64 });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => req.socket.destroy());
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': bytes.length });
    res.end(bytes);
  }

  const emulator: Emulator = {
    url: '',
    port: 0,
    sent: (filter) => platform.sent(filter),
    requests: () =>
      requests
        .slice(-maxRequests)
        .map((request) => ({ ...request, params: { ...request.params } })),
    account: (name) => platform.accountState(name),
    accounts: () => platform.allAccounts(),
    setAccount: (update) => platform.setAccount(update),
    injectReply: (input) => platform.injectReply(input),
    injectReport: (input) => platform.injectReport(input),
    deliverNow: (taskId, settle) => platform.settleNow(taskId, 10, settle),
    failNow: (taskId, settle) => platform.settleNow(taskId, 20, settle),
    pendingReports: (name) => platform.pendingReports(name),
    pendingReplies: (name) => platform.pendingReplies(name),
    flush: () => platform.flush(),
    setFault,
    setQuirks(next) {
      quirks = normalizeQuirks(next === null ? options.quirks : next);
      hub.notify();
    },
    reset() {
      platform.reset();
      requests = [];
      setFault(null);
      quirks = normalizeQuirks(options.quirks);
      hub.notify();
    },
    close: () => close(),
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = pathAndQuery(req.url ?? '/') ?? { path: '', query: '', absolute: false };
    const { path, query } = target;
    // The inbox and the control API answer only their own origin (their Host check guards
    // against DNS rebinding), so only the platform's endpoints take the proxy's absolute form.
    if (target.absolute && !ENDPOINTS[path.toLowerCase()]) {
      notFound(res);
      return;
    }
    if (path.startsWith(CONTROL_PREFIX)) {
      await handleControl(req, res, path.slice(CONTROL_PREFIX.length), query, emulator, {
        getQuirks: () => ({ ...quirks }),
        getFault: currentFault,
        readBody,
        allowedHosts,
        openEvents: (request, response) => hub.open(request, response),
        serveAsset: (response, name) => serveInboxAsset(response, assets, name),
      });
      return;
    }
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      const refused = refusal(req, allowedHosts);
      if (refused) {
        res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(
          `${refused} is refused: the inbox answers only its own origin; type ${emulator.url}/ into the address bar\n`,
        );
        return;
      }
      serveInboxPage(res, assets);
      return;
    }
    const endpoint = ENDPOINTS[path.toLowerCase()];
    if (!endpoint) {
      notFound(res);
      return;
    }
    await handlePlatform(req, res, endpoint, path, query);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('bad request');
      } else {
        res.destroy();
      }
    });
  });

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      platform.close();
      hub.close();
      for (const timer of sleeps) clearTimeout(timer);
      sleeps.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  Object.assign(emulator, { url: `http://${urlHost(host)}:${port}`, port });
  return emulator;
}
