import type { Gateway, OperatorResult } from '../gateway/routes.js';
import type { RelayContext } from '../http/context.js';
import { HttpError, type HttpAnswer, type HttpRequest, type Route } from '../http/router.js';
import { masker } from '../shared/mask.js';
import { secretsOf } from '../config/secrets.js';
import { VERSION } from '../shared/version.js';
import type { MessageRecipient, StoredMessage } from '../store/messages.js';
import type { DeliveryState, EventCursor, StoredEvent } from '../store/types.js';
import type {
  ConsoleAccount,
  ConsoleEvent,
  ConsoleEventDetail,
  ConsoleEvents,
  ConsoleMessage,
  ConsoleMessageDetail,
  ConsoleMessages,
  ConsoleOverview,
  ConsoleTarget,
  EventType,
  MessageStatus,
} from './api-types.js';
import { consoleAccounts } from './accounts.js';
import { CSP, type ConsoleAssets, SHELL, loadAssets } from './assets.js';

export interface ConsoleRouteOptions {
  /** Folders to look for the built page in (default: beside the bundle, or the package's dist). */
  assetDirs?: readonly string[];
  /** The gateway's operator operations (Resend, Mark failed) and its accounts' states. */
  gateway?: Pick<Gateway, 'resend' | 'fail' | 'accountStates'>;
}

const TYPES: readonly EventType[] = ['sms.report', 'sms.reply'];
const STATES: readonly DeliveryState[] = ['pending', 'delivered', 'dead'];
const MESSAGE_STATUSES: readonly MessageStatus[] = [
  'queued',
  'sending',
  'sent',
  'failed',
  'unknown',
  'expired',
];
/** The chart's windows: `?window=` → its length; each is cut into 60 buckets. */
const WINDOWS: Record<string, number> = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
};
const BUCKETS = 60;
const MAX_LIMIT = 200;

/**
 * Keyset paging: a page's `next` names its last row; `?before=` it gives the rows after it
 * (older), an index range however deep, and stable while new rows arrive. Opaque to callers.
 */
const cursor = {
  ofEvent: (event: { createdAt: number; id: string }) =>
    Buffer.from(`${event.createdAt}:${event.id}`).toString('base64url'),
  ofMessage: (message: { id: string }) => Buffer.from(message.id).toString('base64url'),
};

function decodeCursor(request: HttpRequest): string | undefined {
  const value = request.query.get('before');
  if (value === null || value === '') return undefined;
  const decoded = /^[A-Za-z0-9_-]{1,200}$/.test(value)
    ? Buffer.from(value, 'base64url').toString('utf8')
    : '';
  // Printable ASCII only: a NUL or a stray byte is never passed on to a store.
  if (!/^[\x21-\x7e]{1,150}$/.test(decoded)) {
    throw new HttpError(400, { error: 'before must be a `next` cursor from an earlier page' });
  }
  return decoded;
}

function eventCursor(request: HttpRequest): EventCursor | undefined {
  const decoded = decodeCursor(request);
  if (decoded === undefined) return undefined;
  const match = /^(\d{1,15}):(.+)$/.exec(decoded);
  if (!match)
    throw new HttpError(400, { error: 'before must be a `next` cursor from an earlier page' });
  return { createdAt: Number(match[1]), id: match[2] ?? '' };
}

/** `scheme://host:port` of a URL: its path and query may hold a token. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

function parseBody(body: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body) as { data?: unknown };
    return parsed.data && typeof parsed.data === 'object'
      ? (parsed.data as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

const text = (value: unknown): string | null =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : null;

function summaryOf(type: string, data: Record<string, unknown>): string | null {
  if (type === 'sms.reply') {
    const content = text(data['content']);
    if (content === null) return null;
    const chars = Array.from(content);
    return chars.length > 60 ? `${chars.slice(0, 60).join('')}…` : content;
  }
  const parts = [text(data['status']), text(data['errorCode']), text(data['taskId'])];
  const shown = parts.filter((p): p is string => p !== null && p !== '');
  return shown.length > 0 ? shown.join(' · ') : null;
}

function consoleEvent(event: StoredEvent): ConsoleEvent & { data: Record<string, unknown> } {
  const data = parseBody(event.body);
  return {
    id: event.id,
    type: event.type,
    account: event.account,
    createdAt: event.createdAt,
    mobile: text(data['mobile']),
    summary: summaryOf(event.type, data),
    deliveries: event.deliveries.map(({ attempts, tries, ...d }) => ({
      ...d,
      attempts: tries,
      failedAttempts: attempts,
    })),
    data,
  };
}

function consoleMessage(message: StoredMessage): ConsoleMessage {
  return {
    id: message.id,
    account: message.account,
    status: message.status,
    to: message.mobiles,
    taskId: message.taskId,
    attempts: message.attempts,
    error: message.errorCode === null ? null : { code: message.errorCode, message: message.error },
    createdAt: message.createdAt,
    updatedAt: message.updatedAt,
  };
}

function consoleMessageDetail(
  message: StoredMessage,
  recipients: readonly MessageRecipient[],
): ConsoleMessageDetail {
  return {
    ...consoleMessage(message),
    content: message.content,
    metadata:
      message.metadata === null ? null : (JSON.parse(message.metadata) as Record<string, unknown>),
    callbackOrigin: message.callbackUrl === null ? null : originOf(message.callbackUrl),
    sendAt: message.sendAt,
    sentAt: message.sentAt,
    expiresAt: message.expiresAt,
    recipients: recipients.map((r) => ({ ...r })),
  };
}

/** The operations console: its page at `/` and its API under `/api/console`. */
export function consoleRoutes(context: RelayContext, options: ConsoleRouteOptions = {}): Route[] {
  const { config } = context;
  const mask = masker(secretsOf(config));
  const targetNames = new Set(config.targets.map((t) => t.name));
  let assets: ConsoleAssets | null | undefined;
  /** Read once found; looked for again while missing (a build may land meanwhile). */
  const currentAssets = () => {
    if (!assets) assets = loadAssets(options.assetDirs);
    return assets;
  };

  /** Every answer as masked JSON: nothing a receiver or platform echoed can carry a secret out. */
  const json = (body: unknown, status = 200): HttpAnswer => ({
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
    },
    body: `${JSON.stringify(mask.value(body))}\n`,
  });

  /** Runs one of the gateway's operator operations; its errors answered the console's way. */
  const operate = async (
    work: (gateway: Pick<Gateway, 'resend' | 'fail'>) => Promise<OperatorResult>,
  ): Promise<HttpAnswer> => {
    if (!options.gateway) return json({ error: 'this relay runs no gateway' }, 404);
    try {
      return json(await work(options.gateway));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      const body = error.body as { error?: { message?: unknown } };
      return json({ error: String(body.error?.message ?? error.message) }, error.status);
    }
  };

  const knownTarget = (request: HttpRequest): string => {
    const name = request.params['name'] ?? '';
    if (!targetNames.has(name)) throw new HttpError(404, { error: `no target named ${name}` });
    return name;
  };

  const choice = <T extends string>(
    request: HttpRequest,
    key: string,
    allowed: readonly T[],
  ): T | undefined => {
    const value = request.query.get(key);
    if (value === null || value === '') return undefined;
    if (!allowed.includes(value as T)) {
      throw new HttpError(400, { error: `${key} must be one of ${allowed.join(', ')}` });
    }
    return value as T;
  };

  const count = (request: HttpRequest, key: string, fallback: number, max: number): number => {
    const value = request.query.get(key);
    if (value === null || value === '') return fallback;
    if (!/^\d{1,9}$/.test(value)) {
      throw new HttpError(400, { error: `${key} must be a whole number` });
    }
    return Math.min(Number(value), max);
  };

  async function overview(request: HttpRequest): Promise<ConsoleOverview> {
    const span = WINDOWS[request.query.get('window') ?? '1h'];
    if (span === undefined) {
      throw new HttpError(400, {
        error: `window must be one of ${Object.keys(WINDOWS).join(', ')}`,
      });
    }
    const store = context.store();
    const bucketMs = span / BUCKETS;
    const now = Date.now();
    // Buckets line up on multiples of their length, so the chart does not shift every second.
    const since = Math.floor((now - span) / bucketMs) * bucketMs + bucketMs;
    const [summary, stats, fetched, errors] = await Promise.all([
      store.overview({ since, bucketMs }),
      store.stats(),
      context.metrics.fetched.get(),
      context.metrics.pollErrors.get(),
    ]);
    const pollers = context.pollers();
    const accounts: ConsoleAccount[] = config.accounts.map((account, i) => {
      const poller = pollers[i];
      const stored = summary.accounts.find((a) => a.account === account.name);
      const counted = (type: string) =>
        fetched.values
          .filter((v) => v.labels['account'] === account.name && v.labels['type'] === type)
          .reduce((sum, v) => sum + v.value, 0);
      const byCode: Record<string, number> = {};
      for (const v of errors.values) {
        if (v.labels['account'] !== account.name || v.value === 0) continue;
        const code = String(v.labels['code']);
        byCode[code] = (byCode[code] ?? 0) + v.value;
      }
      return {
        name: account.name,
        platform: originOf(account.baseUrl),
        polling: poller?.polling ?? false,
        lastPoll: poller?.lastPoll ?? null,
        errors: byCode,
        fetched: { reports: counted('sms.report'), replies: counted('sms.reply') },
        stored: stored?.events ?? 0,
        lastEventAt: stored?.lastEventAt ?? null,
      };
    });
    const targets: ConsoleTarget[] = config.targets.map((target) => {
      const seen = summary.targets.find((t) => t.target === target.name);
      const activity = Array.from({ length: BUCKETS }, (_, i) => ({
        at: since + i * bucketMs,
        delivered: 0,
        failed: 0,
      }));
      for (const a of summary.activity) {
        if (a.target !== target.name) continue;
        const slot = activity[Math.round((a.bucket - since) / bucketMs)];
        if (slot) {
          slot.delivered += a.delivered;
          slot.failed += a.failed;
        }
      }
      return {
        name: target.name,
        origin: originOf(target.url),
        events: [...target.events],
        pending: seen?.pending ?? 0,
        retrying: seen?.retrying ?? 0,
        delivered: seen?.delivered ?? 0,
        dead: seen?.dead ?? 0,
        disabled: seen?.disabled ?? null,
        lastAttempt: seen?.lastAttempt ?? null,
        meanLatencyMs: seen?.meanLatencyMs ?? null,
        activity,
      };
    });
    return {
      relay: { version: VERSION, store: store.kind, now },
      window: { since, bucketMs },
      totals: {
        events: stats.events,
        pending: stats.pending,
        delivered: stats.delivered,
        dead: stats.dead,
        quarantined: stats.quarantined,
      },
      accounts,
      targets,
    };
  }

  return [
    {
      method: 'GET',
      path: '/',
      access: 'page',
      handle: () => {
        if (!currentAssets()) {
          return {
            status: 503,
            body: "the console's page is not built: run `pnpm build` in packages/relay (the published package ships it in dist/console)\n",
          };
        }
        return {
          status: 200,
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': CSP,
            'referrer-policy': 'no-referrer',
            'x-frame-options': 'DENY',
            'cache-control': 'no-cache',
          },
          body: SHELL,
        };
      },
    },
    {
      method: 'GET',
      path: '/console/:file',
      access: 'page',
      handle: (request) => {
        const file = currentAssets()?.files.get(request.params['file'] ?? '');
        if (!file) return { status: 404, body: 'not found\n' };
        return {
          status: 200,
          headers: { 'content-type': file.type, 'cache-control': 'no-cache' },
          body: file.body,
        };
      },
    },
    {
      method: 'GET',
      path: '/api/console/overview',
      access: 'token',
      handle: async (request) => json(await overview(request)),
    },
    {
      method: 'GET',
      path: '/api/console/accounts',
      access: 'token',
      handle: async () => {
        const states = (await options.gateway?.accountStates()) ?? { breakers: [], failovers: [] };
        return json(consoleAccounts(config, states, Date.now()));
      },
    },
    {
      method: 'GET',
      path: '/api/console/events',
      access: 'token',
      handle: async (request) => {
        const limit = Math.max(1, count(request, 'limit', 50, MAX_LIMIT));
        const target = request.query.get('target') || undefined;
        const account = request.query.get('account') || undefined;
        const found = await context.store().listEvents({
          type: choice(request, 'type', TYPES),
          state: choice(request, 'state', STATES),
          target,
          account,
          limit: limit + 1,
          offset: count(request, 'offset', 0, 1_000_000_000),
          before: eventCursor(request),
        });
        const page = found.slice(0, limit);
        const last = page.at(-1);
        const more = found.length > limit;
        const answer: ConsoleEvents = {
          events: page.map((e) => {
            const { data: _, ...event } = consoleEvent(e);
            return event;
          }),
          more,
          next: more && last ? cursor.ofEvent(last) : null,
        };
        return json(answer);
      },
    },
    {
      method: 'GET',
      path: '/api/console/events/:id',
      access: 'token',
      handle: async (request) => {
        const id = request.params['id'] ?? '';
        const store = context.store();
        const event = await store.getEvent(id);
        if (!event) return json({ error: `no event ${id}` }, 404);
        const attempts = await store.listAttempts(id);
        const detail: ConsoleEventDetail = {
          ...consoleEvent(event),
          attempts: attempts.map(({ eventId: _, ...a }) => a),
        };
        return json(detail);
      },
    },
    {
      method: 'GET',
      path: '/api/console/messages',
      access: 'token',
      handle: async (request) => {
        const limit = Math.max(1, count(request, 'limit', 50, MAX_LIMIT));
        const query = {
          status: choice(request, 'status', MESSAGE_STATUSES),
          account: request.query.get('account') || undefined,
          limit: limit + 1,
          offset: count(request, 'offset', 0, 1_000_000_000),
          before: decodeCursor(request),
        };
        // A store without a message queue (a custom one) has no messages to show.
        const found = (await context.store().messages?.list(query)) ?? [];
        const page = found.slice(0, limit);
        const last = page.at(-1);
        const more = found.length > limit;
        const answer: ConsoleMessages = {
          messages: page.map(consoleMessage),
          more,
          next: more && last ? cursor.ofMessage(last) : null,
        };
        return json(answer);
      },
    },
    {
      method: 'GET',
      path: '/api/console/messages/:id',
      access: 'token',
      handle: async (request) => {
        const id = request.params['id'] ?? '';
        const found = await context.store().messages?.get(id);
        if (!found) return json({ error: `no message ${id}` }, 404);
        return json(consoleMessageDetail(found.message, found.recipients));
      },
    },
    {
      method: 'POST',
      path: '/api/console/messages/:id/resend',
      access: 'token',
      handle: (request) => operate((gateway) => gateway.resend(request.params['id'] ?? '')),
    },
    {
      method: 'POST',
      path: '/api/console/messages/:id/fail',
      access: 'token',
      handle: (request) =>
        operate((gateway) =>
          gateway.fail(request.params['id'] ?? '', 'failed by an operator (console)'),
        ),
    },
    {
      method: 'POST',
      path: '/api/console/events/:id/replay',
      access: 'token',
      handle: async (request) => {
        const id = request.params['id'] ?? '';
        const target = request.query.get('target') || undefined;
        if (target !== undefined && !targetNames.has(target)) {
          return json({ error: `no target named ${target}` }, 404);
        }
        if (!(await context.store().getEvent(id))) return json({ error: `no event ${id}` }, 404);
        const replayed = await context.store().replay({ eventId: id, target, now: Date.now() });
        if (replayed > 0) context.wakeDelivery();
        context.logger.info('console: replayed dead deliveries', { id, target, replayed });
        return json({ replayed });
      },
    },
    {
      method: 'POST',
      path: '/api/console/targets/:name/replay',
      access: 'token',
      handle: async (request) => {
        const target = knownTarget(request);
        const replayed = await context.store().replay({ target, now: Date.now() });
        if (replayed > 0) context.wakeDelivery();
        context.logger.info('console: replayed dead deliveries', { target, replayed });
        return json({ replayed });
      },
    },
    {
      method: 'POST',
      path: '/api/console/targets/:name/enable',
      access: 'token',
      handle: async (request) => {
        const target = knownTarget(request);
        await context.store().setTargetDisabled(target, false, Date.now());
        context.wakeDelivery();
        context.logger.info('console: target enabled', { target });
        return json({ enabled: target });
      },
    },
  ];
}
