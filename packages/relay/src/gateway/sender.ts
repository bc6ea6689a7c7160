import {
  type BreakerView,
  CircuitBreaker,
  SmsClient,
  failoverDecision,
  isSmsError,
} from '@sms/core';
import type { AccountConfig } from '../pull/config.js';
import type { GatewayConfig } from './config.js';
import type { RelayLogger } from '../shared/logger.js';
import type {
  ClaimedMessage,
  MessageStore,
  OutcomeToRecord,
  SendOutcome,
} from '../store/messages.js';
import { Doorbell } from '../shared/doorbell.js';
import { GroupCommit } from './group-commit.js';

/** The longest an outcome waits for others to share its commit. */
const OUTCOME_GATHER_MS = 2;

/** Platform refusals that no retry can change: the message fails at once. */
const DEFINITIVE = new Set<string>([
  'VALIDATION',
  'CONTENT_EMPTY',
  'MOBILE_EMPTY',
  'ILLEGAL_KEYWORD',
  'SQL_INJECTION',
  'SIGNATURE_REQUIRED',
]);

/**
 * What a failed send comes to. `UNKNOWN_OUTCOME` (the request may have reached the platform),
 * and an answer we cannot read (`HTTP`, `PROTOCOL`: the platform got the request and said
 * something) are `unknown`: never resent without an operator. `NETWORK` and `TIMEOUT` on a
 * send mean the request surely never left (core says `UNKNOWN_OUTCOME` otherwise): retry.
 * A platform refusal is definitive for bad content, else retried (balance, auth, 其他错误).
 */
export function classifySendError(error: unknown): 'retry' | 'failed' | 'unknown' {
  if (!isSmsError(error)) return 'unknown';
  if (error.code === 'NETWORK' || error.code === 'TIMEOUT') return 'retry';
  if (error.code === 'UNKNOWN_OUTCOME' || error.code === 'HTTP' || error.code === 'PROTOCOL') {
    return 'unknown';
  }
  return DEFINITIVE.has(error.code) ? 'failed' : 'retry';
}

export interface SenderOptions {
  messages: MessageStore;
  accounts: readonly AccountConfig[];
  config: GatewayConfig;
  logger: RelayLogger;
  /** Expire every `sending` lease at start (SQLite: one process per file, so its holder is dead). */
  recoverAtStart: boolean;
  /** Counts each send's outcome (metrics). */
  onOutcome?: (account: string, outcome: SendOutcome['kind'] | 'skipped') => void;
}

/**
 * A sliding window per account: at most `rate` sends in any second (for a rate below 1, one
 * send per `1 / rate` s). A token bucket let a full bucket and its refill through together,
 * up to twice the rate in one second, which a platform's own per-second limit refuses.
 */
export class RateWindow {
  private readonly capacity: number;
  private readonly windowMs: number;
  /** When each of the last (at most `capacity`) sends was started, oldest first. */
  private readonly starts: number[] = [];
  constructor(rate: number) {
    this.capacity = Math.max(1, Math.floor(rate));
    this.windowMs = (this.capacity / rate) * 1000;
  }
  private trim(now: number): void {
    while (this.starts.length > 0 && this.starts[0]! <= now - this.windowMs) this.starts.shift();
  }
  available(now: number = Date.now()): number {
    this.trim(now);
    return this.capacity - this.starts.length;
  }
  take(n: number, now: number = Date.now()): void {
    for (let i = 0; i < n; i++) this.starts.push(now);
  }
  /** Milliseconds until one more send may start. */
  wait(now: number = Date.now()): number {
    this.trim(now);
    if (this.starts.length < this.capacity) return 1;
    return Math.max(1, Math.ceil(this.starts[0]! + this.windowMs - now));
  }
}

/** A message claimed ahead: durably `sending`, its send not started yet. */
interface Ready {
  message: ClaimedMessage;
  /** When its lease ends (ms). */
  until: number;
}

/**
 * Sends queued messages: claims them (durably `sending` before the platform is called),
 * sends each through `SmsClient` at most `concurrency` at a time and `ratePerSecond` per
 * account, and records what came of it. A send in flight is never aborted (that would make
 * its outcome unknown): `stop()` waits for it.
 *
 * Claims run ahead of the sends by at most one window: up to `concurrency` messages wait,
 * claimed, for a free slot, and a claim (a commit) refills them while the slots are busy, so
 * no slot waits for a claim's commit. The price: a crash leaves those claimed messages
 * `sending`, and they become `unknown` like the ones in flight (never resent). So a crash
 * can make up to three windows of messages unknown: `concurrency` on the wire, `concurrency`
 * answered whose outcomes gather for their commit (2 ms at most, see `send`) and
 * `concurrency` claimed ahead. A stop (SIGTERM) gives the waiting ones back to the queue.
 */
export class GatewaySender {
  private readonly clients = new Map<string, SmsClient>();
  private readonly windows = new Map<string, RateWindow>();
  /** Per account, unless `gateway.breaker` is false (this process's view only). */
  private readonly breakers = new Map<string, CircuitBreaker>();
  private running = false;
  private loop: Promise<void> | undefined;
  private inFlight = 0;
  /** Outcomes being recorded (their sends done). */
  private recording = 0;
  private readonly inFlightDone = new Set<Promise<void>>();
  private readonly doorbell = new Doorbell();
  private lastSweep = 0;
  /** Which account a claiming pass starts at (round robin). */
  private turn = 0;
  /** Claimed ahead, oldest first: at most `concurrency` (see the class comment). */
  private readonly ready: Ready[] = [];
  /** Each account's send timeout: a message claimed ahead starts only with more lease left. */
  private readonly timeouts = new Map<string, number>();
  /** Outcomes that come in while one commit is in flight share the next. */
  private readonly outcomes: GroupCommit<OutcomeToRecord, boolean>;
  /**
   * Accounts whose last claim found fewer messages than it asked for: nothing else was due.
   * When every account is dry, a finished send does not claim again (it found nothing: an
   * empty claim, a commit and on SQLite an fsync, per send of a steady flow); new work does
   * (`wake`), and the idle poll finds what fell due meanwhile (retries).
   */
  private readonly dry = new Set<string>();

  constructor(private readonly options: SenderOptions) {
    // Outcomes come one by one (each send's answer in a turn of its own: 3.7 a commit in a
    // drain), and a commit costs about as much for one as for ten: they gather for a window,
    // 2 ms at most (half a window made 10 a commit in a drain, a window 16.5). Their slots are
    // already free (`send`), so no send waits for it, and no more outcomes wait than before:
    // `send` caps them at `concurrency` either way.
    this.outcomes = new GroupCommit((batch) => options.messages.recordMany(batch, Date.now()), {
      gather: options.config.concurrency,
      gatherMs: OUTCOME_GATHER_MS,
    });
    for (const account of options.accounts) {
      this.clients.set(
        account.name,
        new SmsClient({
          baseUrl: account.baseUrl,
          userId: account.userId,
          account: account.account,
          password: account.password,
          charset: account.charset,
          auth: account.auth,
          timeoutMs: account.timeoutMs,
          connections: options.config.concurrency,
          // The queue retries on its own schedule, and only what surely never left.
          retry: false,
        }),
      );
      this.windows.set(account.name, new RateWindow(options.config.ratePerSecond));
      this.timeouts.set(account.name, account.timeoutMs);
      if (options.config.breaker !== false) {
        const breaker = new CircuitBreaker(options.config.breaker, {
          onChange: (state) =>
            (state === 'open' ? options.logger.warn : options.logger.info).call(
              options.logger,
              'account circuit breaker changed',
              { account: account.name, state },
            ),
        });
        this.breakers.set(account.name, breaker);
      }
    }
  }

  /** Each account's circuit breaker, in the configured order (none when turned off). */
  breakerStates(): Array<BreakerView & { account: string }> {
    return [...this.breakers].map(([account, breaker]) => ({ account, ...breaker.view() }));
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (this.options.recoverAtStart) await this.sweep(Date.now(), true);
    this.running = true;
    this.loop = this.run();
  }

  /** There is new work (a message queued, or queued again): claim at once. */
  wake(): void {
    this.dry.clear();
    this.doorbell.ring();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    // Claimed ahead, never sent: back to the queue (else they would end `unknown`).
    await this.release(this.ready.splice(0).map((r) => r.message));
    await Promise.all(this.inFlightDone);
    await Promise.all([...this.clients.values()].map((client) => client.close()));
  }

  /** Messages whose sender is gone (lease over) become `unknown`. */
  private async sweep(now: number, all = false): Promise<void> {
    const ids = await this.options.messages.expireLeases(now, { all });
    for (const id of ids) {
      this.options.logger.warn('message was being sent when its sender stopped: outcome unknown', {
        id,
      });
    }
  }

  private async run(): Promise<void> {
    const { messages, config, logger, accounts } = this.options;
    let failures = 0;
    while (this.running) {
      let wait = config.idleMs;
      try {
        const now = Date.now();
        if (now - this.lastSweep >= 1000) {
          this.lastSweep = now;
          await this.sweep(now);
        }
        this.fill();
        // Each pass starts at the next account and gives each at most its share of the room:
        // the first account in a fixed order took it all, and a backlog there held every other
        // account back until it was drained.
        // The turn moves past an account when it is served, not with every pass: a pass finding
        // room for one message gives it to the next account in line, never by chance to the same one.
        const start = this.turn % accounts.length;
        const order = [...accounts.slice(start), ...accounts.slice(0, start)];
        // A claim is a commit: with sends under way it waits for room for three quarters of a
        // window, so it takes several messages (see claimRoom).
        const batch = this.inFlight + this.ready.length === 0 ? 1 : this.claimBatch();
        for (const [i, account] of order.entries()) {
          const room = this.claimRoom();
          if (room < batch || !this.running) break;
          const limiter = this.windows.get(account.name)!;
          const share = Math.ceil(room / (order.length - i));
          // The rate counts sends when they start: what waits claimed has its place already.
          const waiting = this.ready.filter((r) => r.message.account === account.name).length;
          const limit = Math.min(share, limiter.available() - waiting);
          if (limit <= 0) {
            wait = Math.min(wait, limiter.wait());
            continue;
          }
          const now = Date.now();
          const claimed = await messages.claim({
            account: account.name,
            limit,
            now,
            leaseMs: config.leaseMs,
          });
          if (claimed.length > 0) this.turn = (start + i + 1) % accounts.length;
          if (claimed.length < limit) this.dry.add(account.name);
          else this.dry.delete(account.name);
          for (const message of claimed) this.ready.push({ message, until: now + config.leaseMs });
          this.fill();
          if (claimed.length === limit) wait = 0;
        }
        failures = 0;
      } catch (error) {
        failures++;
        logger.error('claiming messages to send failed', { error, failures });
        wait = Math.min(config.idleMs * 2 ** failures, 10_000);
      }
      const full = this.claimRoom() < this.claimBatch();
      if (full) wait = Math.max(wait, config.idleMs);
      if (wait > 0 || full) await this.doorbell.wait(wait);
    }
  }

  /** The least a claim takes while sends are under way: three quarters of a window. */
  private claimBatch(): number {
    return Math.max(1, (this.options.config.concurrency * 3) >> 2);
  }

  /**
   * How many more messages may be claimed: the free slots and one window claimed ahead. A
   * claim waits for room for three quarters of a window (claimBatch), so it takes several
   * messages and a quarter of a window is still waiting when it starts: the slots that free up
   * meanwhile take those, none waits for the claim's commit. Claiming when a quarter of the
   * slots were free, without messages claimed ahead, left each slot idle for a commit per
   * message; claiming at half a window made more claims, each a commit (SQLite's drain: 16 of
   * 20 rounds side by side slower, 0.76x against 0.80x of the raw client in one run).
   */
  private claimRoom(): number {
    return 2 * this.options.config.concurrency - this.inFlight - this.ready.length;
  }

  /**
   * Starts messages claimed ahead in the free slots, oldest first. One whose lease could end
   * before its send does (its slot came late) goes back to the queue instead: surely not sent.
   */
  private fill(): void {
    if (!this.running) return;
    const { concurrency } = this.options.config;
    const now = Date.now();
    const stale: ClaimedMessage[] = [];
    while (this.inFlight < concurrency && this.ready.length > 0) {
      const { message, until } = this.ready.shift()!;
      if (until - now <= (this.timeouts.get(message.account) ?? 0)) {
        stale.push(message);
        continue;
      }
      this.windows.get(message.account)?.take(1, now);
      this.launch(message);
    }
    if (stale.length > 0) {
      const released: Promise<void> = this.release(stale).finally(() =>
        this.inFlightDone.delete(released),
      );
      this.inFlightDone.add(released);
    }
  }

  /** Gives back messages claimed and never sent (`queued` again); a failure leaves them to their lease. */
  private async release(messages: ClaimedMessage[]): Promise<void> {
    if (messages.length === 0) return;
    try {
      await this.options.messages.release(
        messages.map((m) => ({ id: m.id, lease: m.lease })),
        Date.now(),
      );
      if (this.running) this.wake();
    } catch (error) {
      this.options.logger.error(
        'giving back messages claimed and not sent failed: they become unknown when their lease ends',
        { ids: messages.map((m) => m.id), error },
      );
    }
  }

  private launch(message: ClaimedMessage): void {
    this.inFlight++;
    let slotFreed = false;
    const freeSlot = () => {
      if (slotFreed) return;
      slotFreed = true;
      this.inFlight--;
      // The next message claimed ahead takes the slot at once; the claim loop wakes when there
      // is room for a claim of three quarters of a window (claimRoom).
      this.fill();
      const someNotDry = this.dry.size < this.options.accounts.length;
      if (someNotDry && this.claimRoom() >= this.claimBatch()) this.doorbell.ring();
    };
    const done: Promise<void> = this.send(message, freeSlot)
      .catch((error: unknown) =>
        // The claim stays `sending` and its lease ends: the message becomes `unknown`.
        this.options.logger.error('gateway send crashed', { id: message.id, error }),
      )
      .finally(() => {
        freeSlot();
        this.inFlightDone.delete(done);
      });
    this.inFlightDone.add(done);
  }

  /**
   * Sends one message and records its outcome. `freeSlot` gives its send slot back once the
   * platform has answered: recording the outcome is a commit shared with other outcomes (they
   * gather for it), and holding the slot through it left the platform idle. The message stays
   * `sending` until the outcome is recorded, so a crash meanwhile still makes it `unknown`,
   * never sent again. At most `concurrency` outcomes wait for a commit with their slots given
   * back; beyond that a send keeps its slot until its outcome is in.
   */
  private async send(message: ClaimedMessage, freeSlot: () => void): Promise<void> {
    const client = this.clients.get(message.account);
    const breaker = this.breakers.get(message.account);
    const next = message.route[0];
    let outcome: SendOutcome;
    /** Not attempted: the account's breaker was open (counted apart from a send's failover). */
    let skipped = false;
    if (!client) {
      outcome = {
        kind: 'failed',
        code: 'VALIDATION',
        error: `no account named "${message.account}" is configured`,
      };
    } else if (!breaker || breaker.allow()) {
      let code: string | undefined = 'INTERNAL';
      try {
        ({ outcome, code } = await this.attempt(client, message));
      } finally {
        breaker?.settle(code);
      }
    } else if (next !== undefined) {
      // Its breaker is open: skipped before any send (surely not sent), the route's next takes it.
      skipped = true;
      outcome = {
        kind: 'failover',
        from: message.account,
        account: next,
        route: message.route.slice(1),
        code: 'CIRCUIT_OPEN',
        error: `account ${message.account}: circuit breaker open`,
      };
      this.options.logger.info('gateway send skipped an account whose breaker is open', {
        id: message.id,
        account: message.account,
        next,
      });
    } else {
      // Nowhere else to go: it keeps its own retry schedule; the breaker hears how it went.
      const attempted = await this.attempt(client, message);
      outcome = attempted.outcome;
      breaker.observe(attempted.code);
    }
    this.options.onOutcome?.(message.account, skipped ? 'skipped' : outcome.kind);
    if (this.recording < this.options.config.concurrency) {
      freeSlot();
    }
    this.recording++;
    try {
      await this.record(message, outcome);
    } finally {
      this.recording--;
    }
    // Queued again for the route's next account, due now.
    if (outcome.kind === 'failover') this.wake();
  }

  /** One send on the message's account, and what came of it (`code`: its error, none when sent). */
  private async attempt(
    client: SmsClient,
    message: ClaimedMessage,
  ): Promise<{ outcome: SendOutcome; code?: string }> {
    const { config, logger } = this.options;
    // A schedule still ahead goes to the platform as sendTime; one already due sends now.
    const sendTime =
      message.sendAt !== null && message.sendAt > Date.now() + 1000
        ? new Date(message.sendAt)
        : undefined;
    try {
      const result = await client.send({
        mobiles: message.mobiles,
        content: message.content,
        extNo: message.extNo,
        ...(sendTime ? { sendTime } : {}),
      });
      return { outcome: { kind: 'sent', taskId: result.taskId } };
    } catch (error) {
      const kind = classifySendError(error);
      const code = isSmsError(error) ? error.code : 'INTERNAL';
      const text = error instanceof Error ? error.message : String(error);
      const next = message.route[0];
      let outcome: SendOutcome;
      if (next !== undefined && isSmsError(error) && failoverDecision(error.code) === 'failover') {
        // Surely not sent here (core's failover rule): the route's next account takes it now.
        outcome = {
          kind: 'failover',
          from: message.account,
          account: next,
          route: message.route.slice(1),
          code,
          error: text,
        };
      } else if (kind === 'retry' && message.attempts < config.maxAttempts) {
        const delay = Math.min(config.retryDelayMs * 2 ** (message.attempts - 1), 5 * 60_000);
        outcome = {
          kind: 'retry',
          nextAttemptAt: Date.now() + Math.round(delay * (0.8 + Math.random() * 0.4)),
          code,
          error: text,
        };
      } else {
        outcome = { kind: kind === 'unknown' ? 'unknown' : 'failed', code, error: text };
      }
      (kind === 'unknown' ? logger.warn : logger.info).call(logger, 'gateway send failed', {
        id: message.id,
        account: message.account,
        code,
        outcome: outcome.kind,
        attempts: message.attempts,
      });
      return { outcome, code };
    }
  }

  /**
   * Records an outcome. The platform's answer exists only here until this commits, so keep
   * trying while the lease lasts (a `sent` is recorded even after the lease turned the
   * message `unknown`).
   */
  private async record(message: ClaimedMessage, outcome: SendOutcome): Promise<void> {
    const { logger, config } = this.options;
    const deadline = Date.now() + config.leaseMs * 2;
    for (let attempt = 0; ; attempt++) {
      try {
        const recorded = await this.outcomes.add({ id: message.id, lease: message.lease, outcome });
        if (!recorded) {
          logger.warn('a send outcome arrived after its claim was over; not recorded', {
            id: message.id,
            outcome: outcome.kind,
          });
        }
        return;
      } catch (error) {
        logger.error('recording a send outcome failed; retrying', {
          id: message.id,
          outcome: outcome.kind,
          ...(outcome.kind === 'sent' ? { taskId: outcome.taskId } : {}),
          attempt,
          error,
        });
        if (Date.now() > deadline) return;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 5000)));
      }
    }
  }
}
