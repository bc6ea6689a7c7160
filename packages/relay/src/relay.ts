import { rmSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SmsWebhookEventType } from '@sms/core';
import { parseConfig } from './config/load.js';
import type { RelayConfig } from './config/schema.js';
import { secretsOf } from './config/secrets.js';
import { VERSION } from './shared/version.js';
import { type Settlement, settlementOfEntry } from './pull/answer.js';
import { consoleRoutes } from './console/routes.js';
import { DeliveryLoop } from './delivery/delivery-loop.js';
import { createGateway } from './gateway/routes.js';
import type { RelayContext } from './http/context.js';
import { type Route, createRouter } from './http/router.js';
import { Journal } from './pull/journal.js';
import { PullWorker } from './pull/pull-worker.js';
import type { Logger as PinoLogger } from 'pino';
import type { Registry } from 'prom-client';
import { type RelayLogger, jsonLogger, toRelayLogger } from './shared/logger.js';
import { RelayMetrics } from './shared/metrics.js';
import { AccountPoller } from './pull/poller.js';
import { openStore } from './store/open.js';
import type { Store, StoreStats } from './store/types.js';

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
 * Accepts the relay.json shape (validated here, defaults filled in).
 */
export function createRelay(input: unknown, options: CreateRelayOptions = {}): Relay {
  const config = parseConfig(input, options.env === undefined ? {} : { env: options.env });
  const secrets = secretsOf(config);
  const logger = options.logger
    ? toRelayLogger(options.logger, secrets)
    : jsonLogger({ level: config.log.level, env: options.env ?? process.env, redact: secrets });
  const metrics = new RelayMetrics({
    ...(options.registry ? { registry: options.registry } : {}),
    ...(options.defaultMetrics === undefined ? {} : { defaultMetrics: options.defaultMetrics }),
    // Read at scrape time; before start and after stop the read fails and the last values stay.
    gauges: async () => {
      const s = await stats();
      return {
        queueDepth: s.pending,
        dead: s.dead,
        polling: Object.fromEntries(pollers.map((p, i) => [config.accounts[i]!.name, p.polling])),
      };
    },
  });
  let store: Store | undefined;
  let journal: Journal | undefined;
  let puller: PullWorker | undefined;
  let pollers: AccountPoller[] = [];
  let delivery: DeliveryLoop | undefined;
  let server: Server | undefined;
  let url: string | null = null;
  /** The address the server actually bound, for the startup log. */
  let listening: string | null = null;
  let state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  let cachedStats: { at: number; value: Promise<StoreStats> } | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let pruning: Promise<void> | undefined;

  async function prune(): Promise<void> {
    if (!store || config.retentionMs <= 0) return;
    let total = 0;
    try {
      for (;;) {
        const removed = await store.prune({ before: Date.now() - config.retentionMs, limit: 5000 });
        total += removed;
        if (removed < 5000 || state !== 'running') break;
      }
      if (total > 0) logger.info('pruned delivered events', { count: total });
    } catch (error) {
      logger.warn('pruning failed', { error });
    }
  }

  const stats = (): Promise<StoreStats> => {
    if (!store) return Promise.reject(new Error('[sms] [relay] not started'));
    const now = Date.now();
    if (!cachedStats || now - cachedStats.at > 1000)
      cachedStats = { at: now, value: store.stats() };
    return cachedStats.value;
  };

  const targetsFor = (account: string, type: SmsWebhookEventType) =>
    config.targets
      .filter((t) => t.accounts.includes(account) && t.events.includes(type))
      .map((t) => t.name);

  const context: RelayContext = {
    config,
    logger,
    metrics,
    store: () => {
      if (!store) throw new Error('[sms] [relay] not started');
      return store;
    },
    pollers: () => pollers,
    wakeDelivery: () => delivery?.wake(),
    ...(options.lookup ? { lookup: options.lookup } : {}),
  };

  const gateway = createGateway(context);
  const routes: Route[] = [
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
      handle: () =>
        state === 'running'
          ? { status: 200, body: 'ready\n' }
          : { status: 503, body: `${state}\n` },
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
    ...gateway.routes,
    ...consoleRoutes(context, { gateway }),
  ];

  /**
   * Reads what a crash left in the journal: every answer whose records were not known to be
   * committed. Each account's poller settles its own before its first pull; the ids come
   * from the entries, so an answer that was in fact committed inserts nothing twice.
   */
  function recoverJournal(from: Journal): Map<string, Settlement[]> {
    const byAccount = new Map<string, Settlement[]>();
    const { entries, unreadable } = from.entries();
    for (const { path, reason } of unreadable) {
      if (statSync(path, { throwIfNoEntry: false })?.size === 0) {
        rmSync(path, { force: true });
        continue;
      }
      logger.error('journal entry unreadable; left in place for an operator', { path, reason });
    }
    for (const entry of entries) {
      const account = config.accounts.find((a) => a.name === entry.account);
      if (!account) {
        logger.error('journal entry of an account no longer configured; left in place', {
          entry: entry.id,
          account: entry.account,
          path: from.pathOf(entry.id),
        });
        continue;
      }
      const settlement = settlementOfEntry(entry, account.charset);
      metrics.recovered.inc({ account: entry.account, kind: entry.kind });
      logger.warn('recovering a pull answer from the journal', {
        account: entry.account,
        kind: entry.kind,
        entry: entry.id,
        records: settlement.records.length,
        incomplete: settlement.quarantine !== undefined,
      });
      const list = byAccount.get(entry.account) ?? [];
      list.push(settlement);
      byAccount.set(entry.account, list);
    }
    return byAccount;
  }

  const relay: Relay = {
    config,
    metrics,
    get url() {
      return url;
    },
    async start() {
      if (state !== 'new') throw new Error(`[sms] [relay] cannot start: ${state}`);
      state = 'starting';
      store = options.store ?? (await openStore(config.store));
      await store.init();
      if (store.takeOver) {
        // A predecessor still stopping gets its grace period to finish.
        const taken = await store.takeOver({
          now: Date.now(),
          waitMs: config.shutdownGraceMs + 5000,
        });
        if (taken.deliveries + taken.callbacks > 0) {
          logger.warn(
            'the previous relay on this store stopped mid-work: its claims are free again',
            {
              previousPid: taken.previousPid,
              deliveries: taken.deliveries,
              callbacks: taken.callbacks,
            },
          );
        }
      }
      journal = new Journal(config.journal);
      journal.open();
      const leftovers = recoverJournal(journal);
      puller = new PullWorker(journal.dir);
      await puller.start();
      delivery = new DeliveryLoop({
        store,
        targets: config.targets,
        config: config.delivery,
        logger,
        metrics,
        userAgent: `sms-relay/${VERSION}`,
        secrets,
      });
      const loop = delivery;
      pollers = config.accounts.map(
        (account) =>
          new AccountPoller({
            account,
            store: store!,
            journal: journal!,
            puller: puller!,
            leftovers: leftovers.get(account.name) ?? [],
            targetsFor: (type) => targetsFor(account.name, type),
            logger,
            metrics,
            onStored: () => loop.wake(),
            correlate: (settlement) => gateway.correlate(settlement),
          }),
      );
      if (config.http) {
        const router = createRouter({
          routes,
          token: config.http.token,
          protectMetrics: config.http.protectMetrics,
          onError: (path, error) => logger.error('http handler failed', { path, error }),
        });
        server = createServer((req, res) => void router(req, res));
        const http = config.http;
        await new Promise<void>((resolve, reject) => {
          server!.once('error', reject);
          server!.listen(http.port, http.host, () => resolve());
        });
        const address = server.address() as AddressInfo;
        const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        listening = `http://${host}:${address.port}`;
        url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
      }
      delivery.start();
      await gateway.start();
      for (const poller of pollers) poller.start();
      state = 'running';
      if (config.retentionMs > 0) {
        pruneTimer = setInterval(
          () => {
            pruning ??= prune().finally(() => {
              pruning = undefined;
            });
          },
          Math.max(1000, Math.min(config.retentionMs / 10, 3_600_000)),
        );
        pruneTimer.unref();
      }
      logger.info('relay started', {
        store: store.kind,
        accounts: config.accounts.map((a) => a.name),
        targets: config.targets.map((t) => t.name),
        // The address actually bound (0.0.0.0 = every interface), not a loopback alias.
        http: listening,
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
      clearInterval(pruneTimer);
      await pruning;
      await Promise.all(pollers.map((p) => p.stop()));
      await puller?.close();
      await gateway.stop();
      await delivery?.stop(config.shutdownGraceMs);
      await store?.close();
      if (server) {
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      state = 'stopped';
      // A registry the user passed outlives the relay: free the names for the next one.
      if (options.registry) metrics.dispose();
      logger.info('relay stopped');
    },
    async status() {
      const s = await stats();
      return {
        ...s,
        polling: pollers.flatMap((p, i) => (p.polling ? [config.accounts[i]!.name] : [])),
        inFlight: delivery?.inFlightCount ?? 0,
      };
    },
  };
  return relay;
}
