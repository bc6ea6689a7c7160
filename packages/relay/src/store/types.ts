import type { MessageStore } from './messages.js';
import type { SmsWebhookEventType } from '@sms/core';

/** One event to store: its JSON body is frozen at insert so every retry signs the same bytes. */
export interface NewEvent {
  /**
   * Its `webhook-id` (`msg_` + 26 characters), chosen by the caller: derived from the journal
   * entry (`eventIdFor`) so that storing the same record again finds the same id.
   */
  id: string;
  type: SmsWebhookEventType;
  /** The webhook body, serialised once. */
  body: string;
}

export interface InsertBatch {
  account: string;
  events: readonly NewEvent[];
  /** Names of the targets that get a delivery row for each event. */
  targets: readonly string[];
  /** Milliseconds since the epoch. */
  now: number;
}

export interface ClaimOptions {
  limit: number;
  now: number;
  leaseMs: number;
  /** Only these targets (the ones this process knows); default all. */
  targets?: readonly string[] | undefined;
}

/** A delivery handed to the delivery loop, leased for `leaseMs`. */
export interface ClaimedDelivery {
  /** The event's `webhook-id`. */
  eventId: string;
  target: string;
  /**
   * The token of this claim: its result is recorded only while the delivery still carries
   * it (not after the lease expired and another claimer took the delivery).
   */
  lease: string;
  type: SmsWebhookEventType;
  account: string;
  body: string;
  /** Failed attempts so far. */
  attempts: number;
  /** When the event was stored (ms). */
  createdAt: number;
}

export type DeliveryOutcome =
  /** 2xx: done. */
  | { kind: 'delivered' }
  /** Failed: try again at `nextAttemptAt`. */
  | { kind: 'retry'; nextAttemptAt: number }
  /** Failed for the last time: dead-lettered until replayed. */
  | { kind: 'dead' }
  /** 410 Gone: the target is disabled; the delivery waits for it to be enabled again. */
  | { kind: 'gone' }
  /** Not attempted after all (shutdown cut it off): due again now, the attempt not counted. */
  | { kind: 'release' };

export interface DeliveryResult {
  eventId: string;
  target: string;
  /** The `lease` of the claim this result answers (`ClaimedDelivery.lease`). */
  lease: string;
  outcome: DeliveryOutcome;
  /** HTTP status, if a response arrived. */
  status?: number | undefined;
  /** Why it failed (no secrets, no bodies). */
  error?: string | undefined;
  /** How long the request took, from sending to the end of the answer (ms). */
  latencyMs?: number | undefined;
  /** The start of the answer's body (at most 200 characters, the target's secrets masked). */
  response?: string | undefined;
}

/** One POST to a target, as `complete()` recorded it (kept until its event is pruned). */
export interface DeliveryAttempt {
  eventId: string;
  target: string;
  /** When the result was recorded (ms). */
  at: number;
  /** What became of the delivery: `delivered`, `retry`, `dead` or `gone`. */
  outcome: Exclude<DeliveryOutcome['kind'], 'release'>;
  status: number | null;
  latencyMs: number | null;
  error: string | null;
  response: string | null;
}

/** A delivery's state as the console shows it. */
export type DeliveryState = 'pending' | 'delivered' | 'dead';

/** Which events `listEvents` returns, newest first. */
export interface EventQuery {
  type?: SmsWebhookEventType | undefined;
  account?: string | undefined;
  /** Events with a delivery to this target (and in `state`, if given). */
  target?: string | undefined;
  /** Events with a delivery in this state (to `target`, if given). */
  state?: DeliveryState | undefined;
  limit: number;
  offset?: number | undefined;
  /** Only events older than this one (keyset paging: the last event of the previous page). */
  before?: EventCursor | undefined;
}

/** Where a page of events ends: events sort by `(createdAt, id)`, newest first. */
export interface EventCursor {
  createdAt: number;
  id: string;
}

/** An event with the state of its deliveries. */
export interface StoredEvent {
  id: string;
  type: SmsWebhookEventType;
  account: string;
  /** The webhook body as delivered. */
  body: string;
  createdAt: number;
  deliveries: Array<{
    target: string;
    state: DeliveryState;
    /** Failed attempts counted towards the retry schedule (a replay starts it again). */
    attempts: number;
    /** Every attempt recorded for this target, a delivered one included (the event's history). */
    tries: number;
    lastStatus: number | null;
    lastError: string | null;
    nextAttemptAt: number;
    updatedAt: number;
    deliveredAt: number | null;
  }>;
}

/** Per target counts and its latest attempt, for the console. */
export interface TargetOverview {
  target: string;
  pending: number;
  /** Pending deliveries that failed at least once. */
  retrying: number;
  delivered: number;
  dead: number;
  disabled: { at: number; reason: string | null } | null;
  lastAttempt: { at: number; status: number | null; latencyMs: number | null } | null;
  /** Mean latency of the attempts since `since` (ms). */
  meanLatencyMs: number | null;
}

/** Attempts per target and time bucket (`bucket` = start, ms), for the console's chart. */
export interface ActivityBucket {
  target: string;
  bucket: number;
  delivered: number;
  failed: number;
}

export interface Overview {
  targets: TargetOverview[];
  /** Events stored per account, with the newest one's time. */
  accounts: Array<{ account: string; events: number; lastEventAt: number | null }>;
  activity: ActivityBucket[];
}

export interface DeadDelivery {
  eventId: string;
  target: string;
  type: SmsWebhookEventType;
  account: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface StoreStats {
  /** Deliveries waiting (due now or later, including leased ones). */
  pending: number;
  delivered: number;
  dead: number;
  events: number;
  quarantined: number;
  disabledTargets: string[];
}

export interface QuarantineEntry {
  account: string;
  /** Which pull produced the bytes. */
  kind: 'reports' | 'replies';
  httpStatus: number;
  contentType: string | undefined;
  /** The raw response bytes, exactly as received. */
  body: Buffer;
  error: string;
  now: number;
  /**
   * The journal entry the bytes came from. A store keeps one row per entry: a commit repeated
   * after a crash (or after the entry's removal failed) quarantines nothing a second time.
   */
  entryId?: string | undefined;
}

/** A held poll lock for one account; `lost` resolves if the lock is lost (connection died). */
export interface AccountLock {
  readonly lost: Promise<void>;
  release(): Promise<void>;
}

/**
 * Where the relay keeps every event it fetched until each target has it. Two
 * implementations: `sqliteStore` (one process) and `postgresStore` (several replicas).
 */
export interface TakeOver {
  /** The previous owner's pid, if one ran on this store before. */
  previousPid: number | null;
  /** Deliveries and gateway callbacks it had claimed, now free. */
  deliveries: number;
  callbacks: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** The gateway's message queue (`POST /v1/messages`); a store without it runs no gateway. */
  readonly messages?: MessageStore;
  /** Creates tables if needed. */
  init(): Promise<void>;
  /**
   * Stores one fetched batch in ONE transaction: an event row per record (with the id it
   * carries) and a delivery row per event and target. Idempotent: an event whose id is
   * already stored is skipped, its deliveries included, so storing a batch again (a retry
   * after a commit whose acknowledgement was lost, a recovery from the journal) doubles
   * nothing. Returns the ids newly inserted, in batch order.
   */
  insertBatch(batch: InsertBatch): Promise<string[]>;
  /**
   * Keeps the raw bytes of a pull response that could not be parsed; once per `entryId`
   * (a second call for the same entry does nothing).
   */
  quarantine(entry: QuarantineEntry): Promise<void>;
  /**
   * Leases up to `limit` due deliveries to enabled targets (until `now + leaseMs`) so no
   * other claimer gets them meanwhile, stamped with a fresh random lease token (one per
   * call, returned on each delivery); a crashed holder's lease simply expires.
   */
  claim(options: ClaimOptions): Promise<ClaimedDelivery[]>;
  /**
   * Records a batch of delivery results in one transaction. A result counts only if its
   * delivery is still pending under the result's `lease` (then the lease is spent): a
   * holder whose lease expired and was claimed again cannot overwrite the new holder's
   * work, and recording the same results twice counts them once. Each result that counts
   * (but a `release`) is kept as a `DeliveryAttempt` in the same transaction.
   */
  complete(results: readonly DeliveryResult[], now: number): Promise<void>;
  /** Re-queues dead deliveries (all, or one event's) with their original ids. Returns how many. */
  replay(options: { eventId?: string; target?: string; now: number }): Promise<number>;
  listDead(options: { limit: number }): Promise<DeadDelivery[]>;
  /** Disables a target (after a 410) or enables it again. */
  setTargetDisabled(target: string, disabled: boolean, now: number, reason?: string): Promise<void>;
  stats(): Promise<StoreStats>;
  /** Events newest first, filtered, with their deliveries (the console's list). */
  listEvents(query: EventQuery): Promise<StoredEvent[]>;
  /** One event with its deliveries, or null. */
  getEvent(id: string): Promise<StoredEvent | null>;
  /** The attempts recorded for an event, oldest first. */
  listAttempts(eventId: string): Promise<DeliveryAttempt[]>;
  /** Per target and account counts, and attempts per `bucketMs` since `since`. */
  overview(options: { since: number; bucketMs: number }): Promise<Overview>;
  /**
   * Deletes up to `limit` events stored before `before` whose deliveries are all delivered
   * (dead and pending ones are kept), with their attempts. Returns how many events went.
   */
  prune(options: { before: number; limit: number }): Promise<number>;
  /** Takes the poll lock of an account, or returns null if another process holds it. */
  lockAccount(account: string): Promise<AccountLock | null>;
  /**
   * SQLite: makes this process the store's one owner (a lock the kernel drops when its holder
   * dies), waiting up to `waitMs` for a previous process that is still stopping, then frees
   * every delivery and callback claimed by the previous owner, which is gone: they are due at
   * once instead of when their leases run out. Throws if another live process owns the file.
   * Stores shared by replicas have no such method.
   */
  takeOver?(options: { now: number; waitMs: number }): Promise<TakeOver>;
  close(): Promise<void>;
}
