import { type SmsErrorCode, validationError } from './errors.js';
import { countsAgainstAccount } from './failover.js';

export interface BreakerOptions {
  /** Failures (account refusals, network errors, unknown outcomes) within `windowMs` that open it. Default 5. */
  failures?: number;
  /** Default 60000 ms. */
  windowMs?: number;
  /** How long an open breaker skips the account before one probe send may try it. Default 30000 ms. */
  coolDownMs?: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** What a breaker shows (the router's `breakers()`, the relay's console). */
export interface BreakerView {
  state: BreakerState;
  /** When it entered this state (ms, the breaker's clock). */
  since: number;
  /** Failures counted within the window. */
  failures: number;
  /** When an open breaker lets a probe through (ms, the breaker's clock). */
  retryAt?: number;
}

export interface CircuitBreakerHooks {
  /** Told when the state changes. */
  onChange?: (state: BreakerState) => void;
  /** Clock, in ms. Default `Date.now`. */
  now?: () => number;
}

/**
 * One account's circuit breaker: open after `failures` failures that are the account's fault
 * (`FAILOVER_RULES`' breaker column) within `windowMs`; after `coolDownMs` half-open, when one
 * probe send at a time may try it; a probe that sends closes it, one that fails opens it again.
 * Asking comes before a send (`allow()`), telling after it (`settle()`): a skipped account
 * surely did not send.
 */
export class CircuitBreaker {
  readonly options: Readonly<Required<BreakerOptions>>;
  private state: BreakerState = 'closed';
  private since: number;
  private failures: number[] = [];
  private openedAt = 0;
  private probing = false;
  private readonly now: () => number;
  private readonly onChange: CircuitBreakerHooks['onChange'];

  constructor(options: BreakerOptions = {}, hooks: CircuitBreakerHooks = {}) {
    this.options = {
      failures: positive(options.failures, 'breaker.failures', 5),
      windowMs: positive(options.windowMs, 'breaker.windowMs', 60_000),
      coolDownMs: positive(options.coolDownMs, 'breaker.coolDownMs', 30_000),
    };
    this.now = hooks.now ?? Date.now;
    this.onChange = hooks.onChange;
    this.since = this.now();
  }

  /**
   * Whether a send may try the account now. Half-open, it says yes once (the probe) until that
   * send is settled. Every `true` must be followed by one `settle()`.
   */
  allow(): boolean {
    this.tick();
    if (this.state === 'closed') return true;
    if (this.state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  /**
   * What the allowed send came to: `undefined` when it sent, else its error code. A failure
   * of the account counts (a probe's reopens it); an answer about the content shows the
   * account works; `VALIDATION` (refused before any request) says nothing about it.
   */
  settle(code?: SmsErrorCode | string): void {
    const wasProbe = this.state === 'half-open';
    this.probing = false;
    this.apply(code, wasProbe, wasProbe);
  }

  /**
   * What a send made without asking came to (the gateway's, when the message has nowhere else
   * to go): a failure counts like any other; one that went through closes the breaker, open or
   * half-open (the account works now). It is no probe and leaves the probe's slot alone.
   */
  observe(code?: SmsErrorCode | string): void {
    this.apply(code, false, this.state !== 'closed');
  }

  private apply(code: string | undefined, wasProbe: boolean, closeOnSuccess: boolean): void {
    if (code === 'VALIDATION') return;
    if (code === undefined || !countsAgainstAccount(code as SmsErrorCode)) {
      if (closeOnSuccess) {
        this.failures = [];
        this.setState('closed');
      }
      return;
    }
    // One reading of the clock: the failure, the opening and `since` are the same moment.
    const now = this.now();
    this.failures.push(now);
    this.tick(now);
    if (wasProbe || (this.state === 'closed' && this.failures.length >= this.options.failures)) {
      this.openedAt = now;
      this.setState('open', now);
    }
  }

  view(): BreakerView {
    this.tick();
    const view: BreakerView = {
      state: this.state,
      since: this.since,
      failures: this.failures.length,
    };
    if (this.state === 'open') view.retryAt = this.openedAt + this.options.coolDownMs;
    return view;
  }

  private tick(now: number = this.now()): void {
    while (this.failures.length > 0 && this.failures[0]! <= now - this.options.windowMs)
      this.failures.shift();
    if (this.state === 'open' && now >= this.openedAt + this.options.coolDownMs) {
      this.setState('half-open', this.openedAt + this.options.coolDownMs);
    }
  }

  private setState(state: BreakerState, at: number = this.now()): void {
    if (this.state === state) return;
    this.state = state;
    this.since = at;
    this.onChange?.(state);
  }
}

function positive(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw validationError(field, `${field} must be a positive number`);
  return value;
}
