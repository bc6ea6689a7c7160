import type { Logger as PinoLogger } from 'pino';
import type { Registry } from 'prom-client';
import { parseConfig } from './config/load.js';
import type { RelayConfig } from './config/schema.js';
import { secretsOf } from './config/secrets.js';
import { consoleRoutes } from './console/routes.js';
import { DeliveryLoop } from './delivery/delivery-loop.js';
import { createGateway } from './gateway/routes.js';
import type { RelayContext } from './http/context.js';
import { type RunningHttpServer, healthRoutes, startHttpServer } from './http/server.js';
import { PullRelay } from './pull/pull-relay.js';
import { type RelayLogger, jsonLogger, toRelayLogger } from './shared/logger.js';
import { RelayMetrics } from './shared/metrics.js';
import { VERSION } from './shared/version.js';
import { openStore } from './store/open.js';
import type { Store, StoreStats } from './store/types.js';
import { startPruning, takeOverPredecessor } from './store/upkeep.js';

export interface CreateRelayOptions {
  /**
   * Your pino logger (the relay logs on a child bound to `component: "sms-relay"`) or any
   * `RelayLogger`. Every secret of the config is masked in its lines either way. Default:
   * pino JSON lines on stderr at `LOG_LEVEL` or `config.log.level` (pretty on a terminal
   * when `pino-pretty` is installed).
   */
  logger?: RelayLogger | PinoLogger;
  /**
   * Your prom-client `Registry`: the relay's metrics join it, and the relay's `/metrics` serves
   * it whole. Default: a registry of the relay's own. One relay per registry; `stop()` removes
   * the relay's metrics from it again.
   */
  registry?: Registry;
  /**
   * prom-client's default process and Node metrics in the registry. Default: added, unless
   * the registry has them already (call `collectDefaultMetrics({ register })` before
   * `createRelay` to choose their prefix or labels yourself, never after).
   */
  defaultMetrics?: boolean;
  /** Environment for `${VAR}` substitution (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Your own `Store` implementation instead of the one `config.store` names. Closed by `stop()`. */
  store?: Store;
  /**
   * Name resolution for the hosts of messages' `callbackUrl`s (default `dns.lookup`, every
   * address): each address it gives is checked against `gateway.callbackAllow` before a
   * connection is made. For a resolver of your own, or a test without DNS.
   */
  lookup?: (hostname: string) => Promise<Array<{ address: string; family: number }>>;
}

export interface RelayStatus extends StoreStats {
  /** Accounts whose poll lock this process holds. */
  polling: string[];
  inFlight: number;
}

export interface Relay {
  readonly config: RelayConfig;
  /** Opens the store, starts the pollers, the delivery loop and the HTTP server. */
  start(): Promise<void>;
  /** Stops polling, lets deliveries in flight finish within the grace period, closes the store. */
  stop(): Promise<void>;
  /** `http://host:port` of the health/metrics server once started (null without one). */
  readonly url: string | null;
  status(): Promise<RelayStatus>;
  readonly metrics: RelayMetrics;
}

/**
 * The relay as a library: `const relay = createRelay(config); await relay.start();`.
 * Accepts the relay.json shape (validated here, defaults filled in). It composes the parts:
 * the store, the pull relay (pull/), the delivery loop (delivery/), the gateway (gateway/),
 * the console (console/) and the HTTP server (http/).
 */
export function createRelay(input: unknown, options: CreateRelayOptions = {}): Relay {
  const config = parseConfig(input, options.env === undefined ? {} : { env: options.env });
  const secrets = secretsOf(config);
  const logger = options.logger
    ? toRelayLogger(options.logger, secrets)
    : jsonLogger({ level: config.log.level, env: options.env ?? process.env, redact: secrets });
  const metrics: RelayMetrics = new RelayMetrics({
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.defaultMetrics === undefined ? {} : { defaultMetrics: options.defaultMetrics }),
    // Read at scrape time; before start and after stop the read fails and the last values stay.
    gauges: async () => {
      const { pending, dead } = await stats();
      const polling = new Set(pull.polling());
      return {
        queueDepth: pending,
        dead,
        polling: Object.fromEntries(config.accounts.map((a) => [a.name, polling.has(a.name)])),
      };
    },
  });
  const pull: PullRelay = new PullRelay({ ...config, logger, metrics });
  let store: Store | undefined;
  let delivery: DeliveryLoop | undefined;
  let server: RunningHttpServer | null = null;
  let pruning: { stop(): Promise<void> } | undefined;
  let state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  let cachedStats: { at: number; value: Promise<StoreStats> } | undefined;

  const stats = (): Promise<StoreStats> => {
    if (!store) return Promise.reject(new Error('[sms] [relay] not started'));
    const now = Date.now();
    if (!cachedStats || now - cachedStats.at > 1000)
      cachedStats = { at: now, value: store.stats() };
    return cachedStats.value;
  };
  const context: RelayContext = {
    config,
    logger,
    metrics,
    store: () => {
      if (!store) throw new Error('[sms] [relay] not started');
      return store;
    },
    pollers: () => pull.all(),
    wakeDelivery: () => delivery?.wake(),
    ...(options.lookup ? { lookup: options.lookup } : {}),
  };
  const gateway = createGateway(context);
  const routes = [
    ...healthRoutes(() => state, metrics),
    ...gateway.routes,
    ...consoleRoutes(context, { gateway }),
  ];

  return {
    config,
    metrics,
    get url() {
      return server?.url ?? null;
    },
    async start() {
      if (state !== 'new') throw new Error(`[sms] [relay] cannot start: ${state}`);
      state = 'starting';
      const opened = options.store ?? (await openStore(config.store));
      store = opened;
      await opened.init();
      // A predecessor still stopping gets its grace period to finish.
      await takeOverPredecessor(opened, config.shutdownGraceMs + 5000, logger);
      const loop = new DeliveryLoop({
        store: opened,
        targets: config.targets,
        config: config.delivery,
        logger,
        metrics,
        userAgent: `sms-relay/${VERSION}`,
        secrets,
      });
      delivery = loop;
      await pull.prepare();
      if (config.http) server = await startHttpServer({ ...config.http, routes, logger });
      loop.start();
      await gateway.start();
      pull.start({
        store: opened,
        targetsFor: (account, type) =>
          config.targets
            .filter((t) => t.accounts.includes(account) && t.events.includes(type))
            .map((t) => t.name),
        onStored: () => loop.wake(),
        correlate: (settlement) => gateway.correlate(settlement),
      });
      state = 'running';
      pruning = startPruning(opened, config.retentionMs, logger);
      logger.info('relay started', {
        store: opened.kind,
        accounts: config.accounts.map((a) => a.name),
        targets: config.targets.map((t) => t.name),
        http: server?.listening ?? null,
        pullThread: pull.thread(),
      });
    },
    async stop() {
      if (state === 'stopped' || state === 'stopping' || state === 'new') {
        if (state === 'new' && options.registry) metrics.dispose();
        state = 'stopped';
        return;
      }
      state = 'stopping';
      logger.info('relay stopping', { graceMs: config.shutdownGraceMs });
      await pruning?.stop();
      await pull.stop();
      await gateway.stop();
      await delivery?.stop(config.shutdownGraceMs);
      await store?.close();
      await server?.close();
      state = 'stopped';
      // A registry the user passed outlives the relay: free the names for the next one.
      if (options.registry) metrics.dispose();
      logger.info('relay stopped');
    },
    async status() {
      return {
        ...(await stats()),
        polling: pull.polling(),
        inFlight: delivery?.inFlightCount ?? 0,
      };
    },
  };
}
