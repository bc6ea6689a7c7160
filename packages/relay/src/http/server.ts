import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RelayLogger } from '../shared/logger.js';
import type { RelayMetrics } from '../shared/metrics.js';
import { type Route, createRouter } from './router.js';

export interface HttpServerOptions {
  port: number;
  host: string;
  token?: string | undefined;
  protectMetrics: boolean;
  routes: readonly Route[];
  logger: RelayLogger;
}

export interface RunningHttpServer {
  /** `http://host:port` to call it at (a loopback alias for 0.0.0.0). */
  url: string;
  /** The address actually bound (0.0.0.0 = every interface), for the startup log. */
  listening: string;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const router = createRouter({
    routes: [...options.routes],
    token: options.token,
    protectMetrics: options.protectMetrics,
    onError: (path, error) => options.logger.error('http handler failed', { path, error }),
  });
  const server: Server = createServer((req, res) => void router(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    listening: `http://${host}:${address.port}`,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    async close() {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `/healthz` (the process answers), `/readyz` (the relay runs) and `/metrics`. */
export function healthRoutes(state: () => string, metrics: RelayMetrics): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      access: 'open',
      handle: () => ({ status: 200, body: 'ok\n' }),
    },
    {
      method: 'GET',
      path: '/readyz',
      access: 'open',
      handle: () => {
        const now = state();
        return now === 'running'
          ? { status: 200, body: 'ready\n' }
          : { status: 503, body: `${now}\n` };
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      access: 'metrics',
      handle: async () => ({
        status: 200,
        headers: { 'content-type': metrics.contentType },
        body: await metrics.render(),
      }),
    },
  ];
}
