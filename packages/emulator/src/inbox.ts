/**
 * The inbox page's server side: the HTML shell, the bundled assets (built by tsup into
 * `dist/inbox/`) and the server-sent events stream that pushes a fresh snapshot on changes.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InboxSnapshot } from './types.js';

/** The files the page needs, with their types: nothing else under `inbox/` is served. */
const ASSETS: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** Where the page's assets are served from. */
export const ASSET_PREFIX = '/__emulator/inbox/';

/** How often an idle stream gets a comment line, so proxies and browsers keep it open. */
const HEARTBEAT_MS = 15_000;
/** Changes within this window are sent as one snapshot (a burst of sends, a flush). */
const COALESCE_MS = 40;

/**
 * The built assets: `dist/inbox/` beside the running `dist/index.js` or `dist/index.cjs`
 * (tsup shims `import.meta.url` in the CommonJS build), or from `src/` (vitest through the
 * `dev-source` condition) the package's `dist/inbox/`. Undefined until the package is built.
 */
export function findInboxAssets(): string | undefined {
  const here = moduleDir();
  if (here === undefined) return undefined;
  for (const dir of [join(here, 'inbox'), join(here, '..', 'dist', 'inbox')]) {
    if (Object.keys(ASSETS).every((name) => existsSync(join(dir, name)))) return dir;
  }
  return undefined;
}

/** This module's folder: `import.meta.url`, or `__dirname` in a CommonJS bundle without the shim. */
function moduleDir(): string | undefined {
  const url: string | undefined = import.meta.url;
  if (url) return dirname(fileURLToPath(url));
  return typeof __dirname === 'string' ? __dirname : undefined;
}

/** Headers of everything the page is made of: its own origin only, never in a frame. */
const PAGE_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function send(res: ServerResponse, status: number, type: string, body: Buffer | string): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...PAGE_HEADERS, 'Content-Type': type, 'Content-Length': bytes.length });
  res.end(bytes);
}

const NOT_BUILT =
  "The emulator's inbox page is not built: run `pnpm build` in packages/emulator (or `pnpm build` at the repository root). The platform endpoints and the control API under /__emulator/ work without it.\n";

/** `GET /`: the page's HTML shell, or 503 when the assets were never built. */
export function serveInboxPage(res: ServerResponse, assets: string | undefined): void {
  if (!assets) {
    send(res, 503, 'text/plain; charset=utf-8', NOT_BUILT);
    return;
  }
  send(
    res,
    200,
    'text/html; charset=utf-8',
    `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SMS emulator · inbox</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSET_PREFIX}app.css">
<script type="module" src="${ASSET_PREFIX}app.js"></script>
</head>
<body>
<div id="app"><p class="loading">Loading the inbox…</p></div>
<noscript>The inbox needs JavaScript. The JSON control API is under /__emulator/.</noscript>
</body>
</html>
`,
  );
}

/** `GET /__emulator/inbox/<name>`: one of the built assets; false when `name` is not one. */
export function serveInboxAsset(
  res: ServerResponse,
  assets: string | undefined,
  name: string,
): boolean {
  const type = ASSETS[name];
  if (!type) return false;
  if (!assets) send(res, 503, 'text/plain; charset=utf-8', NOT_BUILT);
  else send(res, 200, type, readFileSync(join(assets, name)));
  return true;
}

/** The open event streams, each sent the whole snapshot on connect and after every change. */
export interface EventHub {
  open(req: IncomingMessage, res: ServerResponse): void;
  /** Something changed: a snapshot goes out shortly (nothing is built while no page listens). */
  notify(): void;
  close(): void;
}

/** Limits of the event stream (`EmulatorOptions.events`). */
export interface EventHubOptions {
  /** Streams open at once; one more is answered `503`. Default 16. */
  maxClients?: number;
  /**
   * How long a stream may stay unable to take more bytes (a client that stopped reading)
   * before it is closed, in ms. Default 30000.
   */
  stallMs?: number;
}

interface Client {
  res: ServerResponse;
  /** A snapshot was skipped while the client's buffer was full: the latest goes on drain. */
  stale: boolean;
  stall: NodeJS.Timeout | undefined;
}

export function createEventHub(
  snapshot: () => InboxSnapshot,
  options: EventHubOptions = {},
): EventHub {
  const maxClients = Math.max(1, options.maxClients ?? 16);
  const stallMs = Math.max(1, options.stallMs ?? 30_000);
  const clients = new Set<Client>();
  let pending: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  // JSON.stringify escapes CR and LF, so the snapshot is one `data:` line.
  const frame = () => `event: snapshot\ndata: ${JSON.stringify(snapshot())}\n\n`;

  function drop(client: Client): void {
    clearTimeout(client.stall);
    clients.delete(client);
    if (clients.size === 0 && heartbeat) {
      clearInterval(heartbeat);
      heartbeat = undefined;
    }
  }

  /**
   * Writes to one client without ever queueing more than one frame for it: while its buffer
   * is full, snapshots are skipped (each one replaces the last) and the latest is sent when
   * it drains; a client that does not drain within `stallMs` is closed.
   */
  function write(client: Client, text: string, isSnapshot: boolean): void {
    const { res } = client;
    if (res.destroyed) return;
    if (res.writableNeedDrain) {
      if (isSnapshot) client.stale = true;
      return;
    }
    if (res.write(text)) return;
    client.stall = setTimeout(() => {
      res.destroy();
      drop(client);
    }, stallMs);
    client.stall.unref();
    res.once('drain', () => {
      clearTimeout(client.stall);
      client.stall = undefined;
      if (client.stale) {
        client.stale = false;
        write(client, frame(), true);
      }
    });
  }

  return {
    open(req, res) {
      if (clients.size >= maxClients) {
        res.writeHead(503, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Retry-After': '5',
          'Cache-Control': 'no-store',
        });
        res.end(`too many event streams (at most ${maxClients})\n`);
        return;
      }
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        Connection: 'keep-alive',
      });
      const client: Client = { res, stale: false, stall: undefined };
      clients.add(client);
      req.on('close', () => drop(client));
      res.on('close', () => drop(client));
      res.on('error', () => drop(client));
      write(client, `retry: 1000\n\n${frame()}`, true);
      heartbeat ??= setInterval(() => {
        for (const c of clients) write(c, ': keep-alive\n\n', false);
      }, HEARTBEAT_MS);
      heartbeat.unref();
    },
    notify() {
      if (clients.size === 0 || pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        if (clients.size === 0) return;
        const text = frame();
        for (const client of clients) write(client, text, true);
      }, COALESCE_MS);
      pending.unref();
    },
    close() {
      clearTimeout(pending);
      clearInterval(heartbeat);
      pending = undefined;
      heartbeat = undefined;
      for (const client of clients) {
        clearTimeout(client.stall);
        client.res.end();
      }
      clients.clear();
    },
  };
}
