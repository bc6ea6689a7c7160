import type { Reply, SmsClientOptions, SmsRouterOptions, StatusReport } from '@sms/core';

export type { SmsClientOptions, SmsRouterOptions };

/** Which pull queue a record came from. */
export type SmsRecordKind = 'report' | 'reply';

/** A record handed to a dead-letter hook: it was fetched (pull-once) but a handler never took it. */
export interface SmsDeadLetter {
  kind: SmsRecordKind;
  /** The record exactly as fetched. */
  record: StatusReport | Reply;
  /** The client name, `undefined` for the default client. */
  client: string | undefined;
  /** `ClassName.method` of the handler that failed. */
  handler: string;
  /** The last error the handler threw. */
  error: unknown;
  /** How many times the handler was called. */
  attempts: number;
  /** `exhausted`: every attempt threw; `shutdown`: the app shut down before the next attempt. */
  reason: 'exhausted' | 'shutdown';
}

/** Retries of a handler that throws. */
export interface SmsHandlerRetryOptions {
  /** Calls per record and handler, the first included. Default 3. */
  attempts?: number;
  /** Delay before the second call; doubles each time. Default 200 ms. */
  baseDelayMs?: number;
  /** Cap on one delay. Default 5000 ms. */
  maxDelayMs?: number;
}

/** Opt-in polling of the pull-once report and reply queues. */
export interface SmsPollingOptions {
  /** Poll delivery reports and hand them to `@OnSmsReport()` handlers. */
  reports?: boolean;
  /** Poll replies (MO messages) and hand them to `@OnSmsReply()` handlers. */
  replies?: boolean;
  /** Pause between polls. Default 10000 ms. */
  intervalMs?: number;
  /** `statusNum`: the most reports fetched per request. Default: the platform's (4000). */
  maxReports?: number;
  /**
   * At shutdown, how long to wait for handlers still running before their records (and
   * those queued behind them) are dead-lettered with reason `shutdown`. Default 10000 ms.
   */
  shutdownTimeoutMs?: number;
  /** How a handler that throws is retried. */
  retry?: SmsHandlerRetryOptions;
  /**
   * Called with each record that no handler accepted after the last attempt. With neither
   * this nor an `@OnSmsDeadLetter()` handler, the record is logged at error level.
   */
  onDeadLetter?: (deadLetter: SmsDeadLetter) => unknown;
}

interface SmsModulePolling {
  /** Poll reports and/or replies and dispatch them to decorated handlers. Off by default. */
  polling?: SmsPollingOptions;
}

/** One account: the client options of `@sms/core`, plus polling. */
export type SmsClientModuleOptions = SmsClientOptions & SmsModulePolling;

/**
 * Several accounts: `SmsRouter`'s options (`accounts`, `strategy`, `breaker`, …), plus
 * polling (every account is polled; records carry their `account`).
 */
export type SmsRouterModuleOptions = SmsRouterOptions & SmsModulePolling;

/** `SmsModule.forRoot` options: one account (client options) or several (`accounts`). */
export type SmsModuleOptions = SmsClientModuleOptions | SmsRouterModuleOptions;

/** Options accepted at the top level of both `forRoot` and `forRootAsync`. */
export interface SmsModuleExtras {
  /** Register the client globally (no need to import the module elsewhere). */
  isGlobal?: boolean;
  /** Name of this client; inject it with `@InjectSmsClient(name)`. Omit for the default client. */
  name?: string;
}

/** Context passed as second argument to report and reply handlers. */
export interface SmsHandlerContext {
  kind: SmsRecordKind;
  /** The client name, `undefined` for the default client. */
  client: string | undefined;
  /** 1 on the first call, 2 on the first retry, ... */
  attempt: number;
}

/** What a `forRootAsync({ useClass })` / `useExisting` class implements. */
export interface SmsOptionsFactory {
  createSmsOptions(): SmsModuleOptions | Promise<SmsModuleOptions>;
}
