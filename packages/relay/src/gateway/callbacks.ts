import { webhookHeaders } from '@sms/core';
import { type Agent, request } from 'undici';
import { retryDelay } from '../delivery.js';
import type { DeliveryConfig } from '../config.js';
import type { RelayLogger } from '../logger.js';
import type { CallbackResult, ClaimedCallback, MessageStore } from '../store/messages.js';
import { Doorbell } from '../doorbell.js';
import { type CallbackPolicy, callbackPolicy } from './address-policy.js';
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

/**
 * Delivers the events of messages that named a `callbackUrl` there, signed like every other
 * webhook, with the delivery section's timeout, retry schedule and jitter. Claimed with a
 * lease like deliveries, so replicas share the work and a crashed holder's claims expire.
 */
export class CallbackLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private readonly doorbell = new Doorbell();
  /** Connects only where the policy allows, checked on the address connected to. */
  private readonly dispatcher: Agent;

  constructor(private readonly options: CallbackLoopOptions) {
    this.dispatcher = guardedAgent(options.policy ?? callbackPolicy(), {
      connectTimeoutMs: Math.min(options.delivery.timeoutMs, 10_000),
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
    await this.dispatcher.close();
  }

  private async run(): Promise<void> {
    const { messages, delivery, logger } = this.options;
    while (this.running) {
      let wait = delivery.idleMs;
      try {
        const claimed = await messages.claimCallbacks({
          limit: 32,
          now: Date.now(),
          leaseMs: delivery.leaseMs,
        });
        if (claimed.length > 0) {
          const results = await Promise.all(claimed.map((c) => this.deliver(c)));
          await messages.completeCallbacks(results, Date.now());
          if (claimed.length === 32) wait = 0;
        }
      } catch (error) {
        logger.error('callback delivery failed', { error });
        wait = delivery.idleMs * 4;
      }
      if (wait > 0) await this.doorbell.wait(wait);
    }
  }

  private async deliver(callback: ClaimedCallback): Promise<CallbackResult> {
    const { secrets, delivery, logger, userAgent } = this.options;
    const base = { eventId: callback.eventId, url: callback.url, lease: callback.lease };
    let status: number | undefined;
    let error: string;
    try {
      const response = await request(callback.url, {
        method: 'POST',
        dispatcher: this.dispatcher,
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
      await response.body.dump();
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
      error = `${e.code ?? e.name}: ${e.message}`;
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
