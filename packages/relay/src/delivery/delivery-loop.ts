import { webhookHeaders } from '@sms/core';
import { type Dispatcher, Pool } from 'undici';
import type { DeliveryConfig, TargetConfig } from './config.js';
import type { RelayLogger } from '../shared/logger.js';
import type { RelayMetrics } from '../shared/metrics.js';
import type { ClaimedDelivery, DeliveryResult, Store } from '../store/types.js';
import { Doorbell } from '../shared/doorbell.js';
import { type Masker, masker } from '../shared/mask.js';

export interface DeliveryLoopOptions {
  store: Store;
  targets: readonly TargetConfig[];
  config: DeliveryConfig;
  logger: RelayLogger;
  metrics: RelayMetrics;
  /** Sent as `user-agent`. */
  userAgent: string;
  /**
   * Masked in the response excerpts kept with each attempt (default: the targets' signing
   * keys, with and without `whsec_`).
   */
  secrets?: readonly string[];
}

/** How much of an answer's body is read for the attempt's excerpt. */
const EXCERPT_BYTES = 1024;
/** How many characters of it are kept. */
const EXCERPT_CHARS = 200;

const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** `Retry-After` as seconds or an HTTP date → milliseconds from now. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number,
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The delay before retry number `attempt` (1-based), with ± jitter; undefined = no retries left. */
export function retryDelay(
  schedule: readonly number[],
  attempt: number,
  jitter: number,
): number | undefined {
  const base = schedule[attempt - 1];
  if (base === undefined) return undefined;
  return Math.round(base * (1 + jitter * (2 * Math.random() - 1)));
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  /** The first `EXCERPT_BYTES` of the body. */
  head: Buffer;
}

/**
 * One POST through undici's dispatcher with a minimal handler: no stream objects per
 * response (the answer's body is discarded), which is most of the cost at thousands a second.
 */
function post(
  pool: Pool,
  request: { path: string; headers: Record<string, string>; body: string; timeoutMs: number },
  aborters: Set<(reason: Error) => void>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    pool.dispatch(
      {
        method: 'POST',
        path: request.path,
        headers: request.headers,
        body: request.body,
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs,
      },
      new PostHandler(
        request.timeoutMs,
        aborters,
        resolve,
        reject,
      ) as unknown as Dispatcher.DispatchHandler,
    );
  });
}

/** The deadline's timer callback (a function and an argument: no closure per request). */
function expire(handler: PostHandler): void {
  handler.expire();
}

/**
 * undici's handler for one POST. A class, not an object of closures: a request allocates
 * this object, not a function per callback (and the deadline's error only if it fires).
 */
class PostHandler {
  private status = 0;
  private retryAfter: string | undefined;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private abort: ((reason: Error) => void) | undefined;
  private expired = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly timeoutMs: number,
    private readonly aborters: Set<(reason: Error) => void>,
    private readonly resolve: (answer: Answer) => void,
    private readonly reject: (error: Error) => void,
  ) {
    // One deadline for the attempt, headers and body together: undici's body timeout
    // restarts with every chunk, so a receiver trickling its answer never reached it.
    this.timer = setTimeout(expire, timeoutMs, this);
  }

  expire(): void {
    this.expired = true;
    this.abort?.(this.deadline());
  }

  private deadline(): Error {
    return Object.assign(new Error(`timeout after ${this.timeoutMs} ms`), { code: 'DEADLINE' });
  }

  private done(): void {
    clearTimeout(this.timer);
    if (this.abort) this.aborters.delete(this.abort);
  }

  onConnect(abortRequest: (reason: Error) => void): void {
    this.abort = abortRequest;
    this.aborters.add(abortRequest);
    if (this.expired) abortRequest(this.deadline());
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | null): boolean {
    this.status = statusCode;
    if (rawHeaders) {
      for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
        if (
          rawHeaders[i]!.length === 11 &&
          rawHeaders[i]!.toString('latin1').toLowerCase() === 'retry-after'
        ) {
          this.retryAfter = rawHeaders[i + 1]!.toString('latin1');
        }
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.headBytes < EXCERPT_BYTES) {
      this.head.push(chunk.subarray(0, EXCERPT_BYTES - this.headBytes));
      this.headBytes += Math.min(chunk.length, EXCERPT_BYTES - this.headBytes);
    }
    return true;
  }

  onComplete(): void {
    this.done();
    const head = this.head;
    this.resolve({
      status: this.status,
      retryAfter: this.retryAfter,
      head: head.length === 0 ? EMPTY : head.length === 1 ? head[0]! : Buffer.concat(head),
    });
  }

  onError(error: Error): void {
    this.done();
    this.reject(error);
  }

  onUpgrade(): void {}

  onBodySent(): void {}
}

const EMPTY = Buffer.alloc(0);

interface Target {
  config: TargetConfig;
  pool: Pool;
  path: string;
}

/**
 * Claims due deliveries in batches, POSTs them concurrently, and records results in batches
 * (one transaction per batch of results, not one per row).
 */
export class DeliveryLoop {
  private readonly targets = new Map<string, Target>();
  /** Aborts for the requests in flight, called when the grace period is over. */
  private readonly aborters = new Set<(reason: Error) => void>();
  private cutOff = false;
  private stopping: Promise<void> | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private inFlight = 0;
  private readonly inFlightDone = new Set<Promise<void>>();
  private results: DeliveryResult[] = [];
  private flushing: Promise<void> | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly doorbell = new Doorbell();
  /**
   * Targets whose last delivery failed, with the failures since: a warning when a target
   * starts failing and a note when it recovers, not a line per failed delivery at warn.
   */
  private readonly failing = new Map<string, number>();
  private readonly mask: Masker;
  /** Deliveries in flight per target. */
  private readonly perTarget = new Map<string, number>();
  /**
   * The most deliveries one target may have in flight: with several targets, half the window,
   * so a slow, trickling or dead target delays only its own deliveries.
   */
  private readonly cap: number;

  constructor(private readonly options: DeliveryLoopOptions) {
    this.mask = masker(
      options.secrets ??
        options.targets.flatMap((t) => t.secrets.flatMap((s) => [s, s.slice('whsec_'.length)])),
    );
    this.cap =
      options.targets.length > 1
        ? Math.max(1, Math.ceil(options.config.concurrency / 2))
        : options.config.concurrency;
    for (const config of options.targets) {
      const url = new URL(config.url);
      this.targets.set(config.name, {
        config,
        path: url.pathname + url.search,
        pool: new Pool(url.origin, {
          connections: options.config.connections,
          connect: { timeout: Math.min(config.timeoutMs, 10_000) },
        }),
      });
    }
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Something new may be due: look now rather than after the idle wait. */
  wake(): void {
    this.doorbell.ring();
  }

  /**
   * Stops claiming, waits up to `graceMs` for requests in flight, then aborts the rest
   * (released: due again at once, for the next process), and records every result.
   * Calling it again returns the same shutdown.
   */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= this.shutdown(graceMs);
    return this.stopping;
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    if (this.inFlightDone.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([Promise.all(this.inFlightDone), grace]);
      clearTimeout(timer);
    }
    const pools = [...this.targets.values()].map((t) => t.pool);
    if (this.inFlightDone.size > 0) {
      this.cutOff = true;
      for (const abort of this.aborters) abort(new Error('shutdown'));
      // Requests still queued in a pool (never connected) fail here too.
      await Promise.all(pools.map((pool) => pool.destroy()));
      await Promise.all(this.inFlightDone);
    } else {
      await Promise.all(pools.map((pool) => pool.close()));
    }
    await this.flush();
  }

  private async run(): Promise<void> {
    const { store, config, logger } = this.options;
    const names = [...this.targets.keys()];
    const cap = this.cap;
    let failures = 0;
    while (this.running) {
      const free = config.concurrency - this.inFlight;
      let claimedFull = false;
      // Targets with room, and no claim larger than the least room among them, so a claim
      // never takes a target past its share.
      const open = names.filter((name) => (this.perTarget.get(name) ?? 0) < cap);
      const room = Math.min(...open.map((name) => cap - (this.perTarget.get(name) ?? 0)));
      if (free > 0 && open.length > 0) {
        try {
          const limit = Math.min(free, config.batchSize, room);
          const claimed = await store.claim({
            limit,
            now: Date.now(),
            leaseMs: config.leaseMs,
            targets: open,
          });
          for (const delivery of claimed) this.launch(delivery);
          claimedFull = claimed.length === limit;
          failures = 0;
        } catch (error) {
          failures++;
          logger.error('claiming deliveries failed', { error, failures });
          await this.doorbell.wait(Math.min(config.idleMs * 2 ** failures, 10_000));
          continue;
        }
      }
      if (!this.running) break;
      if (claimedFull && this.inFlight < config.concurrency) continue;
      await this.doorbell.wait(free > 0 && !claimedFull ? config.idleMs : config.idleMs * 4);
    }
  }

  private launch(delivery: ClaimedDelivery): void {
    this.inFlight++;
    this.perTarget.set(delivery.target, (this.perTarget.get(delivery.target) ?? 0) + 1);
    const done: Promise<void> = this.deliver(delivery)
      .then(
        (result) => {
          if (result) this.record(result);
        },
        // Unexpected: the claim expires and the delivery is tried again.
        (error: unknown) =>
          this.options.logger.error('delivery crashed', { id: delivery.eventId, error }),
      )
      .finally(() => {
        this.inFlight--;
        const left = (this.perTarget.get(delivery.target) ?? 1) - 1;
        if (left > 0) this.perTarget.set(delivery.target, left);
        else this.perTarget.delete(delivery.target);
        this.inFlightDone.delete(done);
        // Room for more: wake the loop once a quarter of the window, or of this target's
        // share, is free, so each claim takes many deliveries. (Waking whenever a target at its
        // share had room again claimed ONE delivery per transaction with a single target,
        // whose share is the whole window: most of the relay's CPU in a burst.)
        const { concurrency } = this.options.config;
        if (
          this.inFlight <= concurrency - Math.max(1, concurrency >> 2) ||
          left === this.cap - Math.max(1, this.cap >> 2)
        )
          this.wake();
      });
    this.inFlightDone.add(done);
  }

  private record(result: DeliveryResult): void {
    this.results.push(result);
    if (this.results.length >= this.options.config.batchSize) {
      void this.flush();
    } else {
      this.flushTimer ??= setTimeout(() => void this.flush(), 10);
    }
  }

  private async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    while (this.flushing) await this.flushing;
    if (this.results.length === 0) return;
    const batch = this.results;
    this.results = [];
    this.flushing = (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.options.store.complete(batch, Date.now());
          return;
        } catch (error) {
          // Unrecorded results are safe (the claims expire and the events go again), but try.
          this.options.logger.error('recording delivery results failed', {
            count: batch.length,
            attempt,
            error,
          });
          if (attempt >= 4 || !this.running) return;
          await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
        }
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  /** One POST and what became of it. */
  private async deliver(delivery: ClaimedDelivery): Promise<DeliveryResult | undefined> {
    const { config: delivery_, logger, metrics, userAgent } = this.options;
    const target = this.targets.get(delivery.target);
    if (!target) return undefined;
    const { config } = target;
    const headers = webhookHeaders({
      id: delivery.eventId,
      timestamp: Math.floor(Date.now() / 1000),
      body: delivery.body,
      secrets: config.secrets,
    });
    headers['user-agent'] = userAgent;
    // The lease goes back with the result: it is recorded only if this claim still holds it.
    const base = { eventId: delivery.eventId, target: delivery.target, lease: delivery.lease };
    let status: number | undefined;
    let retryAfter: number | undefined;
    let error: string;
    let response: string | undefined;
    const started = performance.now();
    let latencyMs: number | undefined;
    try {
      // The timeout is one deadline for the attempt (headers and body together).
      const answer = await post(
        target.pool,
        { path: target.path, headers, body: delivery.body, timeoutMs: config.timeoutMs },
        this.aborters,
      );
      latencyMs = performance.now() - started;
      status = answer.status;
      response = this.excerpt(answer.head);
      if (status >= 200 && status < 300) {
        metrics.delivered.inc({ target: delivery.target });
        metrics.latency.observe(Math.max(0, Date.now() - delivery.createdAt) / 1000);
        const failures = this.failing.get(delivery.target);
        if (failures !== undefined) {
          this.failing.delete(delivery.target);
          logger.info('target recovered: deliveries succeed again', {
            target: delivery.target,
            id: delivery.eventId,
            status,
            failures,
          });
        }
        return { ...base, outcome: { kind: 'delivered' }, status, latencyMs, response };
      }
      if (status === 410) {
        logger.warn('target answered 410 Gone: disabled until enabled again', {
          target: delivery.target,
        });
        return {
          ...base,
          outcome: { kind: 'gone' },
          status,
          error: 'HTTP 410 Gone',
          latencyMs,
          response,
        };
      }
      retryAfter = parseRetryAfter(answer.retryAfter, Date.now());
      error = `HTTP ${status}`;
    } catch (thrown) {
      if (this.cutOff) {
        return { ...base, outcome: { kind: 'release' }, error: 'cut off by shutdown' };
      }
      latencyMs = performance.now() - started;
      const e = thrown as Error & { code?: string };
      error =
        e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
        e.code === 'UND_ERR_BODY_TIMEOUT' ||
        e.code === 'DEADLINE'
          ? `timeout after ${config.timeoutMs} ms`
          : `${e.code ?? e.name}: ${e.message}`;
    }
    const failures = this.failing.get(delivery.target);
    this.failing.set(delivery.target, (failures ?? 0) + 1);
    if (failures === undefined) {
      logger.warn('target failing: deliveries will be retried', {
        target: delivery.target,
        id: delivery.eventId,
        status,
        error,
      });
    }
    const attempt = delivery.attempts + 1;
    const now = Date.now();
    let delay = retryDelay(delivery_.retrySchedule, attempt, delivery_.jitter);
    if (delay === undefined) {
      metrics.dead.inc({ target: delivery.target });
      logger.warn('delivery dead-lettered', {
        target: delivery.target,
        id: delivery.eventId,
        attempts: attempt,
        error,
      });
      return { ...base, outcome: { kind: 'dead' }, status, error, latencyMs, response };
    }
    if (retryAfter !== undefined) delay = Math.max(delay, Math.min(retryAfter, MAX_RETRY_AFTER_MS));
    metrics.retried.inc({ target: delivery.target });
    logger.debug('delivery failed; will retry', {
      target: delivery.target,
      id: delivery.eventId,
      attempt,
      error,
      delay,
    });
    return {
      ...base,
      outcome: { kind: 'retry', nextAttemptAt: now + delay },
      status,
      error,
      latencyMs,
      response,
    };
  }

  /**
   * The start of an answer's body for the attempt's record: control characters as spaces,
   * every secret of the config masked (before it is cut, so no secret is left half shown).
   */
  private excerpt(head: Buffer): string | undefined {
    if (head.length === 0) return undefined;
    const text = head
      .toString('utf8')
      .replace(/\uFFFD+$/, '')
      .replace(/[\u0000-\u001F\u007F]+/g, ' ')
      .trim();
    if (text === '') return undefined;
    return Array.from(this.mask.value(text)).slice(0, EXCERPT_CHARS).join('');
  }
}
