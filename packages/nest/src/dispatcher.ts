import type { Reply, StatusReport } from '@sms/core';
import type {
  SmsDeadLetter,
  SmsHandlerContext,
  SmsHandlerRetryOptions,
  SmsRecordKind,
} from './options.js';

/** A bound handler method and its display name. */
export interface BoundHandler {
  name: string;
  call: (...args: unknown[]) => unknown;
}

/** Minimal logger surface (Nest's `Logger` fits). */
export interface DispatchLogger {
  error(message: string): void;
  warn(message: string): void;
}

interface InFlight {
  kind: SmsRecordKind;
  record: StatusReport | Reply;
  handler: BoundHandler;
  /** The call under way (0 before the first). */
  attempt: number;
  /** Dead-lettered by `abandon()`: whatever the handler does later is ignored. */
  abandoned: boolean;
}

export interface DispatcherOptions {
  client: string | undefined;
  retry?: SmsHandlerRetryOptions | undefined;
  /** Aborted at shutdown: pending backoff delays end and the record is dead-lettered. */
  signal: AbortSignal;
  /** Dead-letter sinks: the `onDeadLetter` option and `@OnSmsDeadLetter()` methods. */
  deadLetterSinks: BoundHandler[];
  logger: DispatchLogger;
}

/** Hands records to handlers, retries a handler that throws, dead-letters what is left. */
export class RecordDispatcher {
  readonly #options: DispatcherOptions;
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #inFlight = new Set<InFlight>();

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#attempts = Math.max(1, options.retry?.attempts ?? 3);
    this.#baseDelayMs = Math.max(0, options.retry?.baseDelayMs ?? 200);
    this.#maxDelayMs = Math.max(0, options.retry?.maxDelayMs ?? 5000);
  }

  /** Dispatches one record to every handler; resolves once each took it or dead-lettered it. */
  async dispatch(
    kind: SmsRecordKind,
    record: StatusReport | Reply,
    handlers: BoundHandler[],
  ): Promise<void> {
    await Promise.all(
      handlers.map(async (handler) => {
        const entry: InFlight = { kind, record, handler, attempt: 0, abandoned: false };
        this.#inFlight.add(entry);
        try {
          await this.#deliver(entry);
        } finally {
          this.#inFlight.delete(entry);
        }
      }),
    );
  }

  /**
   * Gives up on every delivery still running (a handler that never settles at shutdown) and
   * on `queued` records not yet started: each goes to the dead-letter hooks, reason `shutdown`.
   */
  async abandon(
    queued: Array<{ kind: SmsRecordKind; record: StatusReport | Reply }>,
    handlers: (kind: SmsRecordKind) => BoundHandler[],
  ): Promise<void> {
    const error = new Error('[sms] [nest] handler still running when the shutdown timeout expired');
    const running = [...this.#inFlight];
    this.#inFlight.clear();
    for (const entry of running) {
      entry.abandoned = true;
      await this.#deadLetter({ ...entry, error, reason: 'shutdown' });
    }
    for (const { kind, record } of queued) {
      for (const handler of handlers(kind)) {
        await this.#deadLetter({ kind, record, handler, error, attempt: 0, reason: 'shutdown' });
      }
    }
  }

  async #deliver(entry: InFlight): Promise<void> {
    const { kind, record, handler } = entry;
    const { signal } = this.#options;
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.#attempts; attempt++) {
      if (attempt > 1) {
        if (!signal.aborted) await abortableDelay(this.#delay(attempt - 1), signal);
        if (entry.abandoned) return;
        if (signal.aborted) {
          return this.#deadLetter({ ...entry, error: lastError, reason: 'shutdown' });
        }
      }
      entry.attempt = attempt;
      const ctx: SmsHandlerContext = { kind, client: this.#options.client, attempt };
      try {
        await handler.call(record, ctx);
        return;
      } catch (error) {
        lastError = error;
        if (entry.abandoned) return;
        this.#options.logger.warn(
          `[sms] [nest] ${handler.name} threw on ${kind} (attempt ${attempt}/${this.#attempts}): ${describe(error)}`,
        );
      }
    }
    return this.#deadLetter({ ...entry, error: lastError, reason: 'exhausted' });
  }

  #delay(retry: number): number {
    const exp = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (retry - 1));
    // Full jitter in the upper half: spreads retries without collapsing to zero.
    return Math.round(exp / 2 + (Math.random() * exp) / 2);
  }

  async #deadLetter(input: {
    kind: SmsRecordKind;
    record: StatusReport | Reply;
    handler: BoundHandler;
    error: unknown;
    attempt: number;
    reason: SmsDeadLetter['reason'];
  }): Promise<void> {
    const letter: SmsDeadLetter = {
      kind: input.kind,
      record: input.record,
      client: this.#options.client,
      handler: input.handler.name,
      error: input.error,
      attempts: input.attempt,
      reason: input.reason,
    };
    const { deadLetterSinks, logger } = this.#options;
    let taken = false;
    for (const sink of deadLetterSinks) {
      try {
        await sink.call(letter);
        taken = true;
      } catch (error) {
        logger.error(`[sms] [nest] dead-letter hook ${sink.name} threw: ${describe(error)}`);
      }
    }
    if (!taken) {
      // Last resort: the record is gone from the platform, so it must at least reach the logs.
      logger.error(
        `[sms] [nest] dead letter (${letter.reason} after ${letter.attempts} attempt(s)) from ${letter.handler}: ${describe(letter.error)}; record ${JSON.stringify(letter.record)}`,
      );
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/** Resolves after `ms`, or at once when `signal` aborts. Never rejects. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export { describe as describeError };
