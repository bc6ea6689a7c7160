/**
 * The console API's answers (`/api/console/...`), shared by the server and the page. No
 * secret is ever part of them: URLs are shown as their origin only, and every answer is
 * masked with the config's secrets before it is sent.
 */

export type EventType = 'sms.report' | 'sms.reply';
export type DeliveryState = 'pending' | 'delivered' | 'dead';

export interface ConsoleAccount {
  name: string;
  /** The platform's origin (`http://host:port`), without path or query. */
  platform: string;
  /** Whether this process holds the account's poll lock. */
  polling: boolean;
  /** This process's last poll of it, and the error code if that poll failed. */
  lastPoll: { at: number; error: string | null } | null;
  /** Poll failures by code since this process started. */
  errors: Record<string, number>;
  /** Records pulled since this process started. */
  fetched: { reports: number; replies: number };
  /** Events of this account in the store, and the newest one's time. */
  stored: number;
  lastEventAt: number | null;
}

export interface ConsoleTarget {
  name: string;
  /** The target's origin (`https://host`), without path or query. */
  origin: string;
  events: EventType[];
  pending: number;
  /** Pending deliveries that failed at least once. */
  retrying: number;
  delivered: number;
  dead: number;
  disabled: { at: number; reason: string | null } | null;
  lastAttempt: { at: number; status: number | null; latencyMs: number | null } | null;
  /** Mean latency of the attempts in the window. */
  meanLatencyMs: number | null;
  /** Attempts per bucket of the window, oldest first (every bucket present). */
  activity: Array<{ at: number; delivered: number; failed: number }>;
}

export interface ConsoleOverview {
  relay: { version: string; store: 'sqlite' | 'postgres'; now: number };
  window: { since: number; bucketMs: number };
  totals: {
    events: number;
    pending: number;
    delivered: number;
    dead: number;
    quarantined: number;
  };
  accounts: ConsoleAccount[];
  targets: ConsoleTarget[];
}

export interface ConsoleDelivery {
  target: string;
  state: DeliveryState;
  /** Attempts made to this target, the delivered one included: as many as the event's detail lists. */
  attempts: number;
  /** Failed attempts counted towards the retry schedule (a replay starts it again). */
  failedAttempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: number;
  updatedAt: number;
  deliveredAt: number | null;
}

export interface ConsoleEvent {
  id: string;
  type: EventType;
  account: string;
  createdAt: number;
  /** The number the report or reply is about. */
  mobile: string | null;
  /** A report's task id and status, a reply's text (shortened). */
  summary: string | null;
  deliveries: ConsoleDelivery[];
}

export interface ConsoleEvents {
  events: ConsoleEvent[];
  /** Whether more (older) events match. */
  more: boolean;
  /** With `more`: ask again with `?before=<next>` for the next (older) page; else null. */
  next: string | null;
}

export interface ConsoleAttempt {
  target: string;
  at: number;
  outcome: 'delivered' | 'retry' | 'dead' | 'gone';
  status: number | null;
  latencyMs: number | null;
  error: string | null;
  /** The start of the target's answer (at most 200 characters). */
  response: string | null;
}

export interface ConsoleEventDetail extends ConsoleEvent {
  /** The webhook body's `data`, as delivered. */
  data: Record<string, unknown>;
  attempts: ConsoleAttempt[];
}

export type MessageStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'unknown' | 'expired';
export type RecipientStatus = 'queued' | 'sent' | 'delivered' | 'failed' | 'unknown' | 'expired';

/** A gateway message (`POST /v1/messages`). */
export interface ConsoleMessage {
  /** `sms_` + a ULID, as `POST /v1/messages` answered it. */
  id: string;
  account: string;
  status: MessageStatus;
  /** The numbers it goes to. */
  to: string[];
  /** The platform's task id, once sent. */
  taskId: string | null;
  /** Sends started. */
  attempts: number;
  error: { code: string; message: string | null } | null;
  createdAt: number;
  updatedAt: number;
}

export interface ConsoleMessages {
  messages: ConsoleMessage[];
  /** Whether more (older) messages match. */
  more: boolean;
  /** With `more`: ask again with `?before=<next>` for the next (older) page; else null. */
  next: string | null;
}

export interface ConsoleRecipient {
  mobile: string;
  status: RecipientStatus;
  /** The report's code (`DELIVRD`, …) or the message's error code. */
  code: string | null;
  reportedAt: number | null;
  updatedAt: number;
}

export interface ConsoleMessageDetail extends ConsoleMessage {
  content: string;
  metadata: Record<string, unknown> | null;
  /** The `callbackUrl`'s origin, without path or query. */
  callbackOrigin: string | null;
  sendAt: number | null;
  sentAt: number | null;
  expiresAt: number | null;
  recipients: ConsoleRecipient[];
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** A sending account (`GET /api/console/accounts`): its circuit breaker and failovers. */
export interface ConsoleSendingAccount {
  name: string;
  /** This relay process's breaker of the account; null when `gateway.breaker` is false. */
  breaker: {
    state: BreakerState;
    /** When it entered this state (ms). */
    since: number;
    /** Failures counted within the window. */
    failures: number;
    /** When an open breaker lets a probe send try the account again (ms); null unless open. */
    probeAt: number | null;
  } | null;
  /**
   * Stored messages that moved on from this account (surely not sent here) and that came to it
   * from another; `awayByCode`: the first, by the reason (`CIRCUIT_OPEN`: skipped, breaker open).
   */
  failovers: { away: number; to: number; awayByCode: Record<string, number> };
}

export interface ConsoleAccounts {
  now: number;
  /** The breakers' settings (`gateway.breaker`); null when turned off. */
  breaker: { failures: number; windowMs: number; coolDownMs: number } | null;
  accounts: ConsoleSendingAccount[];
}
