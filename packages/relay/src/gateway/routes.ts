import type { BreakerView } from '@sms/core';
import { Counter } from 'prom-client';
import type { RelayContext } from '../http/context.js';
import { HttpError, type Route, jsonBody } from '../http/router.js';
import { newEventId } from '../shared/ids.js';
import type { Correlation } from '../pull/poller.js';
import type { Settlement } from '../pull/answer.js';
import type {
  FailoverCount,
  Enqueued,
  MessageRecipient,
  NewMessage,
  MessageStatus,
  MessageStore,
  StoredMessage,
} from '../store/messages.js';
import { callbackPolicy } from '../shared/address-policy.js';
import { CallbackLoop } from './callbacks.js';
import { correlator } from './correlate.js';
import { GroupCommit } from './group-commit.js';
import { openApiDocument } from './openapi.js';
import { parseSendRequest, requestHash } from './request.js';
import { GatewaySender } from './sender.js';

const MAX_KEY_LENGTH = 255;
const METRIC_NAMES = ['sms_relay_gateway_accepted_total', 'sms_relay_gateway_sends_total'];

/** A gateway message id: `sms_` + a ULID (sorts by creation time). */
export function newMessageId(now: number = Date.now()): string {
  return `sms_${newEventId(now).slice('msg_'.length)}`;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The API's view of a message. */
export function messageView(message: StoredMessage, recipients: readonly MessageRecipient[]) {
  return {
    id: message.id,
    status: message.status,
    account: message.account,
    to: message.mobiles,
    content: message.content,
    sendAt: iso(message.sendAt),
    extNo: message.extNo,
    metadata: message.metadata === null ? null : (JSON.parse(message.metadata) as unknown),
    callbackUrl: message.callbackUrl,
    taskId: message.taskId,
    attempts: message.attempts,
    failovers: message.failovers,
    error: message.errorCode === null ? null : { code: message.errorCode, message: message.error },
    createdAt: iso(message.createdAt),
    updatedAt: iso(message.updatedAt),
    sentAt: iso(message.sentAt),
    expiresAt: iso(message.expiresAt),
    recipients: recipients.map((r) => ({
      mobile: r.mobile,
      status: r.status,
      code: r.code,
      reportedAt: iso(r.reportedAt),
      updatedAt: iso(r.updatedAt),
    })),
  };
}

/** Each account's circuit breaker in this process, and the stored messages' failovers. */
export interface GatewayAccountStates {
  /** In the configured order; empty when `gateway.breaker` is false or the gateway is not sending. */
  breakers: Array<BreakerView & { account: string }>;
  failovers: FailoverCount[];
}

/** What an operator's resend or fail answers. */
export interface OperatorResult {
  id: string;
  status: MessageStatus;
}

export interface Gateway {
  routes: Route[];
  /**
   * Operator (`POST /v1/messages/:id/resend`, the console): queues an `unknown`, `failed` or
   * `expired` message again. Throws an `HttpError`: 404 no such message, 409 another status.
   */
  resend(id: string): Promise<OperatorResult>;
  /** Operator (`POST /v1/messages/:id/fail`, the console): fails a `queued` or `unknown` message. */
  fail(id: string, reason?: string): Promise<OperatorResult>;
  /** The console's Accounts panel: breakers (this process) and failovers (the store). */
  accountStates(): Promise<GatewayAccountStates>;
  /** The poller's hook: tags reports and replies with their message. */
  correlate(settlement: Settlement): Promise<Correlation | undefined>;
  /** Starts sending (after the store is open). */
  start(): Promise<void>;
  /** Stops claiming; waits for sends in flight (never aborted: that would make them unknown). */
  stop(): Promise<void>;
}

/**
 * The sending gateway: `POST /v1/messages` queues a message durably and answers its id; a
 * sender loop sends queued messages; reports and replies of a message carry its id.
 */
export function createGateway(context: RelayContext): Gateway {
  const { config, logger } = context;
  let sender: GatewaySender | undefined;
  let callbacks: CallbackLoop | undefined;
  let correlate: ((settlement: Settlement) => Promise<Correlation | undefined>) | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let pruning: Promise<void> | undefined;
  /** Where the next message without an account starts on the route (round-robin). */
  let routeTurn = 0;
  let accepted: Counter<'account'> | undefined;
  const policy = callbackPolicy(config.gateway.callbackAllow);

  /** Finished messages older than `retention` go, like delivered events. */
  async function prune(store: MessageStore): Promise<void> {
    try {
      let total = 0;
      for (;;) {
        const removed = await store.prune({ before: Date.now() - config.retentionMs, limit: 5000 });
        total += removed;
        if (removed < 5000) break;
      }
      if (total > 0) logger.info('pruned finished gateway messages', { count: total });
    } catch (error) {
      logger.warn('pruning gateway messages failed', { error });
    }
  }

  const messages = (): MessageStore => {
    const store = context.store().messages;
    if (!store) throw new HttpError(501, { error: 'this store has no message queue' });
    return store;
  };

  // POSTs that arrive while a commit is in flight share the next one; each 202 waits for its own.
  // Made at the first POST, once the store is open. On PostgreSQL a commit is mostly a wait
  // on round trips: a few run at once.
  let group: GroupCommit<NewMessage, Enqueued> | undefined;
  const enqueues = () =>
    (group ??= new GroupCommit((batch: NewMessage[]) => messages().enqueueMany(batch), {
      parallel: context.store().kind === 'postgres' ? 4 : 1,
    }));

  const find = async (id: string) => {
    const found = await messages().get(id);
    if (!found)
      throw new HttpError(404, { error: { code: 'NOT_FOUND', message: 'no such message' } });
    return found;
  };

  async function resend(id: string): Promise<OperatorResult> {
    const result = await messages().resend(id, Date.now());
    if (!result) {
      const { message } = await find(id);
      throw new HttpError(409, {
        error: {
          code: 'NOT_RESENDABLE',
          message: `a ${message.status} message cannot be resent (only unknown, failed or expired)`,
        },
      });
    }
    logger.warn('message resent by an operator', { id: result.id });
    sender?.wake();
    return { id: result.id, status: result.status };
  }

  async function fail(id: string, reason = 'failed by an operator'): Promise<OperatorResult> {
    const result = await messages().fail(id, reason, Date.now());
    if (!result) {
      const { message } = await find(id);
      throw new HttpError(409, {
        error: {
          code: 'NOT_FAILABLE',
          message: `a ${message.status} message cannot be failed (only queued or unknown)`,
        },
      });
    }
    logger.warn('message failed by an operator', { id: result.id, reason });
    return { id: result.id, status: result.status };
  }

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/v1/openapi.json',
      access: 'open',
      handle: () => ({ status: 200, body: openApiDocument() }),
    },
    {
      method: 'POST',
      path: '/v1/messages',
      access: 'token',
      async handle(request) {
        const keys = request.headersDistinct['idempotency-key'];
        // Two keys joined into one ("k2, k3") would be a third request's key: say so instead.
        if (keys !== undefined && keys.length > 1) {
          throw new HttpError(400, {
            error: {
              code: 'VALIDATION',
              field: 'Idempotency-Key',
              message: 'send one Idempotency-Key header, not several',
            },
          });
        }
        const key = keys?.[0];
        if (key !== undefined && (key.length === 0 || key.length > MAX_KEY_LENGTH)) {
          throw new HttpError(400, {
            error: {
              code: 'VALIDATION',
              field: 'Idempotency-Key',
              message: `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`,
            },
          });
        }
        const body = await jsonBody(request);
        const now = Date.now();
        // The request as the client wrote it: a default ttl changed between a first POST and
        // its retry (a restart with a new config) does not make the same body another request.
        const parsed = parseSendRequest(body, config.accounts, {
          ttlMs: null,
          callbackPolicy: policy,
          route: config.gateway.route,
        });
        const hash = requestHash(parsed);
        // Round robin: a message without an account starts at the next account of the route.
        let { account, route } = parsed;
        if (route.length > 0 && config.gateway.strategy === 'round-robin') {
          const all = [account, ...route];
          const start = routeTurn++ % all.length;
          const turned = [...all.slice(start), ...all.slice(0, start)];
          account = turned[0]!;
          route = turned.slice(1);
        }
        const ttlMs = parsed.ttlMs ?? config.gateway.ttl ?? null;
        messages(); // 501 before anything else when the store has no queue
        const { message, created } = await enqueues().add({
          id: newMessageId(now),
          idempotencyKey: key ?? null,
          requestHash: hash,
          account,
          route,
          mobiles: parsed.mobiles,
          content: parsed.content,
          sendAt: parsed.sendAt,
          extNo: parsed.extNo,
          metadata: parsed.metadata,
          callbackUrl: parsed.callbackUrl,
          expiresAt: ttlMs === null ? null : now + ttlMs,
          now,
        });
        if (!created && message.requestHash !== hash) {
          throw new HttpError(409, {
            error: {
              code: 'IDEMPOTENCY_CONFLICT',
              field: 'Idempotency-Key',
              message: `this Idempotency-Key was used for another request (message ${message.id})`,
            },
          });
        }
        if (created) {
          accepted?.inc({ account: message.account });
          sender?.wake();
          logger.debug('message queued', {
            id: message.id,
            account: message.account,
            numbers: message.mobiles.length,
          });
        }
        return {
          status: 202,
          headers: {
            location: `/v1/messages/${message.id}`,
            ...(created ? {} : { 'idempotent-replayed': 'true' }),
          },
          body: { id: message.id, status: message.status },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/messages/:id',
      access: 'token',
      async handle(request) {
        const { message, recipients } = await find(request.params['id']!);
        return { status: 200, body: messageView(message, recipients) };
      },
    },
    {
      method: 'POST',
      path: '/v1/messages/:id/resend',
      access: 'token',
      handle: async (request) => ({ status: 200, body: await resend(request.params['id']!) }),
    },
    {
      method: 'POST',
      path: '/v1/messages/:id/fail',
      access: 'token',
      async handle(request) {
        const raw = await request.body();
        let reason: string | undefined;
        if (raw.length > 0) {
          const body = (await jsonBody(request)) as { reason?: unknown } | null;
          if (body && typeof body.reason === 'string' && body.reason.trim() !== '') {
            // Control characters (a NUL is refused by PostgreSQL) read as spaces.
            reason = body.reason.replace(/[\u0000-\u001F\u007F]/g, ' ').slice(0, 500);
          }
        }
        return { status: 200, body: await fail(request.params['id']!, reason) };
      },
    },
  ];

  return {
    routes,
    resend,
    fail,
    async accountStates() {
      const failovers = (await context.store().messages?.failoverCounts()) ?? [];
      return { breakers: sender?.breakerStates() ?? [], failovers };
    },
    async correlate(settlement) {
      return correlate?.(settlement);
    },
    async start() {
      const store = context.store();
      if (!store.messages) return;
      correlate = correlator({ messages: store.messages, logger });
      const { registry } = context.metrics;
      for (const name of METRIC_NAMES) registry.removeSingleMetric(name);
      accepted = new Counter({
        name: 'sms_relay_gateway_accepted_total',
        help: 'Messages queued by POST /v1/messages (repeats of an idempotency key not counted)',
        labelNames: ['account'],
        registers: [registry],
      });
      const sendCounter = new Counter({
        name: 'sms_relay_gateway_sends_total',
        help: 'Send attempts by outcome (sent, retry, failover, failed, unknown), and skipped: not attempted, the account breaker was open (the message failed over)',
        labelNames: ['account', 'outcome'],
        registers: [registry],
      });
      sender = new GatewaySender({
        onOutcome: (account, outcome) => sendCounter.inc({ account, outcome }),
        messages: store.messages,
        accounts: config.accounts,
        config: config.gateway,
        logger,
        recoverAtStart: store.kind === 'sqlite',
      });
      callbacks = new CallbackLoop({
        messages: store.messages,
        // A message's callbackUrl is signed with gateway.callbackSecret, else the first target's.
        secrets: config.gateway.callbackSecret
          ? [config.gateway.callbackSecret]
          : (config.targets[0]?.secrets ?? []),
        delivery: config.delivery,
        logger,
        userAgent: 'sms-relay',
        policy,
        ...(context.lookup ? { resolve: context.lookup } : {}),
      });
      await sender.start();
      callbacks.start();
      if (config.retentionMs > 0) {
        const messages = store.messages;
        pruneTimer = setInterval(
          () => {
            pruning ??= prune(messages).finally(() => {
              pruning = undefined;
            });
          },
          Math.max(1000, Math.min(config.retentionMs / 10, 3_600_000)),
        );
        pruneTimer.unref();
      }
    },
    async stop() {
      clearInterval(pruneTimer);
      await pruning;
      await sender?.stop();
      await callbacks?.stop();
      for (const name of METRIC_NAMES) context.metrics.registry.removeSingleMetric(name);
    },
  };
}
