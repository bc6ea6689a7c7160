import { webhookHeaders } from '@sms/core';
import { type Agent, request } from 'undici';
import type { DeliveryConfig } from '../delivery/config.js';
import { retryDelay } from '../delivery/delivery-loop.js';
import { Doorbell } from '../shared/doorbell.js';
import type { RelayLogger } from '../shared/logger.js';
import type { CallbackResult, ClaimedCallback, MessageStore } from '../store/messages.js';
import { type CallbackPolicy, callbackPolicy } from '../shared/address-policy.js';
import { type ResolveAll, guardedAgent } from './guarded-agent.js';

export interface CallbackLoopOptions {
  messages: MessageStore;
  /** Each one signs (Standard Webhooks `v1,` signatures). */
  secrets: readonly string[];
  delivery: DeliveryConfig;
  logger: RelayLogger;
  userAgent: string;
  /** What a callback may connect to (default: public unicast addresses only). */
  policy?: CallbackPolicy;
  /** Name resolution for callback hosts (default `dns.lookup`). */
  resolve?: ResolveAll;
}

/** Callbacks in flight at once, over every endpoint. */
const MAX_IN_FLIGHT = 32;
/** Callbacks in flight at once to one origin: a slow endpoint holds only these. */
const PER_ORIGIN = 2;
/** How long a callback claimed while its origin is busy waits before it is due again. */
const BUSY_DEFER_MS = 1000;

/**
 * Delivers the events of messages that named a `callbackUrl` there, signed like every other
 * webhook, with the delivery section's timeout (one deadline for the whole attempt, headers
 * and body together), retry schedule and jitter. Claimed with a lease like deliveries, so
 * replicas share the work and a crashed holder's claims expire. Each endpoint is isolated: an
 * origin has at most `PER_ORIGIN` attempts in flight, and a callback claimed while its origin
 * is busy goes back (no attempt counted), so a slow, trickling or dead endpoint delays only
 * its own callbacks. Connections go only where the policy allows (see `guardedAgent`).
 */
export class CallbackLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly doorbell = new Doorbell();
  private readonly dispatcher: Agent;
  private readonly busy = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private results: CallbackResult[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly options: CallbackLoopOptions) {
    this.dispatcher = guardedAgent(options.policy ?? callbackPolicy(), {
      connectTimeoutMs: Math.min(options.delivery.timeoutMs, 10_000),
      connections: PER_ORIGIN,
      ...(options.resolve ? { resolve: options.resolve } : {}),
    });
  }

  start(): void {
    if (this.running || this.options.secrets.length === 0) return;
    this.running = true;
    this.loop = this.run();
  }

  wake(): void {
    this.doorbell.ring();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await Promise.all(this.inFlight);
    await this.flush();
    await this.dispatcher.close();
  }

  private async run(): Promise<void> {
    const { messages, delivery, logger } = this.options;
    while (this.running) {
      let wait = delivery.idleMs;
      try {
        const free = MAX_IN_FLIGHT - this.inFlight.size;
        if (free > 0) {
          const claimed = await messages.claimCallbacks({
            limit: free,
            now: Date.now(),
            leaseMs: delivery.leaseMs,
          });
          const deferred: CallbackResult[] = [];
          for (const callback of claimed) {
            const origin = originOf(callback.url);
            const busy = this.busy.get(origin) ?? 0;
            if (busy >= PER_ORIGIN) {
              // Its origin is busy: due again shortly, without counting an attempt.
              deferred.push({
                eventId: callback.eventId,
                url: callback.url,
                lease: callback.lease,
                outcome: { kind: 'defer', nextAttemptAt: Date.now() + BUSY_DEFER_MS },
              });
              continue;
            }
            this.launch(callback, origin);
          }
          if (deferred.length > 0) await messages.completeCallbacks(deferred, Date.now());
          if (claimed.length === free && deferred.length < claimed.length) wait = 0;
        } else wait = delivery.idleMs * 4;
        await this.flush();
      } catch (error) {
        logger.error('callback delivery failed', { error });
        wait = delivery.idleMs * 4;
      }
      if (wait > 0) await this.doorbell.wait(wait);
    }
  }

  private launch(callback: ClaimedCallback, origin: string): void {
    this.busy.set(origin, (this.busy.get(origin) ?? 0) + 1);
    const done: Promise<void> = this.deliver(callback)
      .then((result) => {
        this.results.push(result);
      })
      .finally(() => {
        const left = (this.busy.get(origin) ?? 1) - 1;
        if (left <= 0) this.busy.delete(origin);
        else this.busy.set(origin, left);
        this.inFlight.delete(done);
        this.wake();
      });
    this.inFlight.add(done);
  }

  /** Records the results gathered so far (one statement for all of them). */
  private async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.results.length === 0) return;
    const batch = this.results;
    this.results = [];
    this.flushing = this.options.messages
      .completeCallbacks(batch, Date.now())
      .catch((error: unknown) => {
        // Unrecorded results are safe: the leases end and the callbacks are tried again.
        this.options.logger.error('recording callback results failed', {
          count: batch.length,
          error,
        });
      })
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }

  private async deliver(callback: ClaimedCallback): Promise<CallbackResult> {
    const { secrets, delivery, logger, userAgent } = this.options;
    const base = { eventId: callback.eventId, url: callback.url, lease: callback.lease };
    let status: number | undefined;
    let error: string;
    // One deadline for the attempt: connecting, the headers and the whole body. undici's
    // body timeout restarts with every chunk, so an endpoint trickling a byte at a time
    // never reached it.
    const signal = AbortSignal.timeout(delivery.timeoutMs);
    try {
      const response = await request(callback.url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        signal,
        headers: {
          ...webhookHeaders({
            id: callback.eventId,
            timestamp: Math.floor(Date.now() / 1000),
            body: callback.body,
            secrets: [...secrets],
          }),
          'user-agent': userAgent,
        },
        body: callback.body,
        headersTimeout: delivery.timeoutMs,
        bodyTimeout: delivery.timeoutMs,
      });
      await response.body.dump({ signal, limit: 64 * 1024 });
      status = response.statusCode;
      if (status >= 200 && status < 300) return { ...base, outcome: { kind: 'delivered' }, status };
      error = `HTTP ${status}`;
    } catch (thrown) {
      const e = thrown as Error & { code?: string };
      if (e.code === 'CALLBACK_REFUSED') {
        // Where it would connect is not allowed: no retry will change that.
        logger.warn('callback refused', { id: callback.eventId, error: e.message });
        return { ...base, outcome: { kind: 'dead' }, error: `${e.code}: ${e.message}` };
      }
      error = signal.aborted
        ? `timeout after ${delivery.timeoutMs} ms`
        : `${e.code ?? e.name}: ${e.message}`;
    }
    const delay = retryDelay(delivery.retrySchedule, callback.attempts + 1, delivery.jitter);
    if (delay === undefined) {
      logger.warn('callback dead-lettered', { id: callback.eventId, error });
      return { ...base, outcome: { kind: 'dead' }, status, error };
    }
    return {
      ...base,
      outcome: { kind: 'retry', nextAttemptAt: Date.now() + delay },
      status,
      error,
    };
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
