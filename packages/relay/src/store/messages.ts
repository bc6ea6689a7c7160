/**
 * The gateway's queue of messages to send (`POST /v1/messages`), kept in the relay's store
 * beside its events. One contract, two implementations (`messages-sqlite.ts`,
 * `messages-postgres.ts`).
 *
 * The life of a message: `queued` → (claimed: `sending`, committed BEFORE the platform is
 * called) → `sent` | `failed` | `unknown` | back to `queued` when the send surely never left.
 * A message found `sending` once its lease is over (its sender crashed or hung) becomes
 * `unknown`: it may have reached the platform, so it is never resent on its own. Only an
 * operator's `resend` queues an `unknown` message again.
 */

export type MessageStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'unknown' | 'expired';
export type RecipientStatus = 'queued' | 'sent' | 'delivered' | 'failed' | 'unknown' | 'expired';

export interface NewMessage {
  /** `sms_` + a ULID. */
  id: string;
  /** The `Idempotency-Key` header; unique among stored messages. */
  idempotencyKey: string | null;
  /** sha256 of the normalised request: the same key with another request is a conflict. */
  requestHash: string;
  account: string;
  /**
   * A message sent without an `account`: the accounts that may take it after `account`, in
   * order, when a send there surely did not go out (`@sms/core`'s failover rule). Empty: none.
   */
  route?: readonly string[] | undefined;
  /** Normalised, valid, deduplicated numbers. */
  mobiles: readonly string[];
  content: string;
  /** The platform's sendTime, as an instant (ms); null sends at once. */
  sendAt: number | null;
  extNo: string;
  /** The caller's metadata as JSON text, or null. */
  metadata: string | null;
  callbackUrl: string | null;
  /** Not sent by then: `expired` (ms), or null. */
  expiresAt: number | null;
  now: number;
}

/** An account a routed message moved on from, and why (nothing was sent there). */
export interface Failover {
  account: string;
  code: string;
}

export interface MessageRecipient {
  mobile: string;
  status: RecipientStatus;
  /** The gateway's raw report code (`DELIVRD`, `UNDELIV`, …) or the error code of the message. */
  code: string | null;
  /** The report's receive time (ms), when there is a report. */
  reportedAt: number | null;
  updatedAt: number;
}

export interface StoredMessage {
  id: string;
  idempotencyKey: string | null;
  requestHash: string;
  account: string;
  mobiles: string[];
  content: string;
  sendAt: number | null;
  extNo: string;
  metadata: string | null;
  callbackUrl: string | null;
  expiresAt: number | null;
  status: MessageStatus;
  /** Sends started (claims), including the successful one. */
  attempts: number;
  /** Accounts this message moved on from (each surely did not send it), in order. */
  failovers: Failover[];
  taskId: string | null;
  errorCode: string | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
}

export interface MessageQuery {
  status?: MessageStatus | undefined;
  account?: string | undefined;
  limit: number;
  offset?: number | undefined;
  /** Only messages older than this id (keyset paging: the last id of the previous page). */
  before?: string | undefined;
}

/** A message claimed for sending: durably `sending`, under `lease`. */
export interface ClaimedMessage {
  id: string;
  lease: string;
  account: string;
  mobiles: string[];
  content: string;
  sendAt: number | null;
  extNo: string;
  /** This claim included. */
  attempts: number;
  /** Accounts that may take it next when this send surely does not go out. */
  route: string[];
}

/** What a send came to, recorded only while the claim still holds its lease. */
export type SendOutcome =
  | { kind: 'sent'; taskId: string }
  /** Surely never reached the platform: queued again for `nextAttemptAt`. */
  | { kind: 'retry'; nextAttemptAt: number; code: string; error: string }
  /** The platform refused it for good (or the tries are spent). */
  | { kind: 'failed'; code: string; error: string }
  /** It may have reached the platform: never resent without an operator. */
  | { kind: 'unknown'; code: string; error: string }
  /**
   * Surely not sent on `from`: queued at once on `account` (the route's next), with `route`
   * the ones after it; the numbers follow it (reports are matched by account).
   */
  | {
      kind: 'failover';
      from: string;
      account: string;
      route: string[];
      code: string;
      error: string;
    };

/**
 * Failovers among the messages the store keeps: `count` messages moved on from account `from`
 * to account `to` after `code` there (`CIRCUIT_OPEN`: skipped, its breaker was open).
 */
export interface FailoverCount {
  from: string;
  to: string;
  code: string;
  count: number;
}

/** What `enqueue` answers: the stored message, and whether this call stored it. */
export interface Enqueued {
  message: StoredMessage;
  created: boolean;
}

/** One send's outcome for `recordMany`. */
export interface OutcomeToRecord {
  id: string;
  lease: string;
  outcome: SendOutcome;
}

/** What a report or reply is tagged with: the message it belongs to. */
export interface MessageTag {
  messageId: string;
  /** JSON text, or null. */
  metadata: string | null;
  callbackUrl: string | null;
}

export interface ReportUpdate {
  taskId: string;
  mobile: string;
  delivered: boolean;
  code: string;
  /** The report's time (ms). */
  at: number;
}

export interface NewCallback {
  eventId: string;
  url: string;
  body: string;
}

export interface ClaimedCallback {
  eventId: string;
  url: string;
  body: string;
  lease: string;
  attempts: number;
}

export interface CallbackResult {
  eventId: string;
  url: string;
  lease: string;
  /** `defer`: not tried (its endpoint was busy); due again then, no attempt counted. */
  outcome:
    | { kind: 'delivered' }
    | { kind: 'retry'; nextAttemptAt: number }
    | { kind: 'defer'; nextAttemptAt: number }
    | { kind: 'dead' };
  status?: number | undefined;
  error?: string | undefined;
}

export interface MessageStore {
  /**
   * Stores a message (one transaction; committed when it resolves). With an idempotency key
   * that is already stored, stores nothing and returns the stored message (`created: false`).
   */
  enqueue(message: NewMessage): Promise<Enqueued>;
  /**
   * Stores several messages in ONE transaction (one commit, one fsync: the gateway's group
   * commit). Each answer is what `enqueue` would have answered, in order; a key repeated
   * within `messages` answers its first message (`created: false`), as one after another would.
   */
  enqueueMany(messages: readonly NewMessage[]): Promise<Enqueued[]>;
  get(id: string): Promise<{ message: StoredMessage; recipients: MessageRecipient[] } | undefined>;
  /** Messages newest first (ids sort by creation time), of one `status` and `account` when given. */
  list(query: MessageQuery): Promise<StoredMessage[]>;
  /**
   * Expires queued messages past their `expiresAt`, then leases up to `limit` due queued
   * messages of `account`: `sending` under a fresh lease until `now + leaseMs`, committed
   * (and on disk) before this resolves. Only `queued` messages are ever claimed.
   */
  claim(options: {
    account: string;
    limit: number;
    now: number;
    leaseMs: number;
  }): Promise<ClaimedMessage[]>;
  /**
   * Gives back claims whose sends never started (claimed ahead, then not sent): each message
   * still `sending` under its lease is `queued` again, due at once, its claim's attempt not
   * counted. Returns how many went back.
   */
  release(claims: readonly { id: string; lease: string }[], now: number): Promise<number>;
  /**
   * Records a send's outcome if the message still holds `lease`. `sent` is recorded over an
   * `unknown` too (the answer came after the lease was over: now it is known).
   * Returns whether it was recorded.
   */
  record(id: string, lease: string, outcome: SendOutcome, now: number): Promise<boolean>;
  /** Records several outcomes in ONE transaction; each answer as `record`'s, in order. */
  recordMany(outcomes: readonly OutcomeToRecord[], now: number): Promise<boolean[]>;
  /**
   * Messages `sending` whose lease ended by `now` become `unknown` (their sender is gone
   * or stuck: they may have reached the platform). `all`: every `sending` message, whatever
   * its lease (a SQLite file has one process: at its start, no sender is alive). Returns their ids.
   */
  expireLeases(now: number, options?: { all?: boolean }): Promise<string[]>;
  /** Whether any of `mobiles` belongs to a message of `account` now `sending` (its taskId unknown yet). */
  sendingTo(account: string, mobiles: readonly string[]): Promise<boolean>;
  /**
   * Operator: queues an `unknown`, `failed` or `expired` message again (no ttl). Returns
   * the message, or `undefined` if it does not exist; `false` if its status does not allow it.
   */
  resend(id: string, now: number): Promise<StoredMessage | undefined | false>;
  /** Operator: fails a `queued` or `unknown` message (it will not be sent by the relay). */
  fail(id: string, reason: string, now: number): Promise<StoredMessage | undefined | false>;
  /**
   * Applies reports to their numbers (by account, taskId and mobile) and returns each
   * report's message, in order (undefined: not a gateway message).
   */
  applyReports(
    account: string,
    reports: readonly ReportUpdate[],
    now: number,
  ): Promise<Array<MessageTag | undefined>>;
  /** The last gateway message sent to each number by `account` (for replies), in order. */
  lastSentTo(account: string, mobiles: readonly string[]): Promise<Array<MessageTag | undefined>>;
  /** Queues webhooks to messages' callback URLs (idempotent on event id and URL). */
  enqueueCallbacks(callbacks: readonly NewCallback[], now: number): Promise<void>;
  claimCallbacks(options: {
    limit: number;
    now: number;
    leaseMs: number;
  }): Promise<ClaimedCallback[]>;
  completeCallbacks(results: readonly CallbackResult[], now: number): Promise<void>;
  /**
   * Deletes up to `limit` messages finished (`sent`, `failed`, `expired`) before `before`,
   * with their numbers and idempotency keys, and finished callbacks. Returns how many messages went.
   */
  prune(options: { before: number; limit: number }): Promise<number>;
  /** Every failover of the stored messages, by the accounts it went from and to and its code. */
  failoverCounts(): Promise<FailoverCount[]>;
}

/** Columns of `gw_messages` as both stores return them. */
export interface MessageRow {
  id: string;
  idem_key: string | null;
  request_hash: string;
  account: string;
  mobiles: string;
  content: string;
  send_at: number | string | null;
  ext_no: string;
  metadata: string | null;
  callback_url: string | null;
  expires_at: number | string | null;
  status: MessageStatus;
  attempts: number;
  route: string | null;
  route_attempts: string | null;
  task_id: string | null;
  error_code: string | null;
  error: string | null;
  created_at: number | string;
  updated_at: number | string;
  sent_at: number | string | null;
}

const num = (value: number | string | null): number | null =>
  value === null ? null : Number(value);

export function messageFromRow(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    idempotencyKey: row.idem_key,
    requestHash: row.request_hash,
    account: row.account,
    mobiles: JSON.parse(row.mobiles) as string[],
    content: row.content,
    sendAt: num(row.send_at),
    extNo: row.ext_no,
    metadata: row.metadata,
    callbackUrl: row.callback_url,
    expiresAt: num(row.expires_at),
    status: row.status,
    attempts: row.attempts,
    failovers: row.route_attempts ? (JSON.parse(row.route_attempts) as Failover[]) : [],
    taskId: row.task_id,
    errorCode: row.error_code,
    error: row.error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    sentAt: num(row.sent_at),
  };
}

/** The columns a claim returns, as both stores return them. */
export type ClaimedRow = Pick<
  MessageRow,
  'id' | 'account' | 'mobiles' | 'content' | 'send_at' | 'ext_no' | 'attempts' | 'route'
> & { lease: string };

export function claimedFromRow(row: ClaimedRow): ClaimedMessage {
  return {
    id: row.id,
    lease: row.lease,
    account: row.account,
    mobiles: JSON.parse(row.mobiles) as string[],
    content: row.content,
    sendAt: num(row.send_at),
    extNo: row.ext_no,
    attempts: row.attempts,
    route: row.route ? (JSON.parse(row.route) as string[]) : [],
  };
}

/** The message `enqueue` just stored, as it reads back (no second read of the row). */
export function storedFromNew(m: NewMessage): StoredMessage {
  return {
    id: m.id,
    idempotencyKey: m.idempotencyKey,
    requestHash: m.requestHash,
    account: m.account,
    mobiles: [...m.mobiles],
    content: m.content,
    sendAt: m.sendAt,
    extNo: m.extNo,
    metadata: m.metadata,
    callbackUrl: m.callbackUrl,
    expiresAt: m.expiresAt,
    status: 'queued',
    attempts: 0,
    failovers: [],
    taskId: null,
    errorCode: null,
    error: null,
    createdAt: m.now,
    updatedAt: m.now,
    sentAt: null,
  };
}

export interface RecipientRow {
  mobile: string;
  status: RecipientStatus;
  code: string | null;
  reported_at: number | string | null;
  updated_at: number | string;
}

export function recipientFromRow(row: RecipientRow): MessageRecipient {
  return {
    mobile: row.mobile,
    status: row.status,
    code: row.code,
    reportedAt: num(row.reported_at),
    updatedAt: Number(row.updated_at),
  };
}

/** The per-number status that goes with a message's outcome. */
/** What a send's outcome writes on each of its message's numbers (none for a retry or a failover). */
export function recipientUpdateOf(
  outcome: SendOutcome,
):
  | { status: RecipientStatus; code: string | null; taskId: string | null; sent: boolean }
  | undefined {
  const status = recipientStatusOf(outcome.kind);
  if (!status) return undefined;
  return outcome.kind === 'sent'
    ? { status, code: null, taskId: outcome.taskId, sent: true }
    : { status, code: 'code' in outcome ? outcome.code : null, taskId: null, sent: false };
}

export function recipientStatusOf(outcome: SendOutcome['kind']): RecipientStatus | undefined {
  switch (outcome) {
    case 'sent':
      return 'sent';
    case 'failed':
      return 'failed';
    case 'unknown':
      return 'unknown';
    default:
      return undefined;
  }
}
