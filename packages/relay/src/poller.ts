import {
  type Reply,
  SmsClient,
  type SmsRawResponse,
  type SmsWebhookEventType,
  type StatusReport,
  decodeResponse,
  isSmsError,
} from '@sms/core';
import type { AccountConfig } from './config.js';
import type { RelayLogger } from './logger.js';
import type { RelayMetrics } from './metrics.js';
import type { AccountLock, NewEvent, Store } from './store/types.js';

export interface PollerOptions {
  account: AccountConfig;
  store: Store;
  /** Target names that receive this account's events of a type. */
  targetsFor: (type: SmsWebhookEventType) => string[];
  logger: RelayLogger;
  metrics: RelayMetrics;
  /** Called after a batch is committed (wakes the delivery loop). */
  onStored: () => void;
}

const MAX_BACKOFF_MS = 5 * 60_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Polls one account: holds its poll lock, pulls reports and replies, and commits each pulled
 * batch to the store before doing anything else with it. The platform hands each record out
 * once, so a pull in progress is never aborted: stop() waits for it.
 */
export class AccountPoller {
  private readonly client: SmsClient;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private lock: AccountLock | null = null;
  private failures = 0;

  constructor(private readonly options: PollerOptions) {
    const { account } = options;
    this.client = new SmsClient({
      baseUrl: account.baseUrl,
      userId: account.userId,
      account: account.account,
      password: account.password,
      charset: account.charset,
      auth: account.auth,
      timeoutMs: account.timeoutMs,
      connections: 2,
      // The poll loop backs off and retries on its own schedule.
      retry: false,
    });
  }

  /** Whether this process currently holds the account's poll lock. */
  get polling(): boolean {
    return this.lock !== null;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.lock?.release().catch(() => {});
    this.lock = null;
    await this.client.close();
  }

  private async run(): Promise<void> {
    const { account, logger } = this.options;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const cycleStart = Date.now();
      let wait = account.pollIntervalMs;
      try {
        if (!(await this.ensureLock())) {
          await sleep(account.pollIntervalMs, signal);
          continue;
        }
        let drained = true;
        let failed = false;
        if (account.reports) {
          try {
            const count = await this.pull('reports');
            if (count >= account.statusNum) drained = false;
          } catch (error) {
            failed = true;
            this.failed('reports', error);
          }
        }
        if (account.replies && !signal.aborted) {
          try {
            await this.pull('replies');
          } catch (error) {
            failed = true;
            this.failed('replies', error);
          }
        }
        if (failed) {
          this.failures++;
          wait = Math.min(
            account.pollIntervalMs * 2 ** Math.min(this.failures, 10),
            MAX_BACKOFF_MS,
          );
          wait = Math.round(wait * (0.8 + Math.random() * 0.4));
        } else {
          this.failures = 0;
          if (!drained) wait = 0;
        }
      } catch (error) {
        logger.error('poll loop error', { account: account.name, error });
        wait = Math.min(account.pollIntervalMs * 2, MAX_BACKOFF_MS);
      }
      // Polls start every interval (not an interval after the last one ended), so a record
      // waits at most one interval for its pull.
      if (this.failures === 0 && wait > 0) wait -= Date.now() - cycleStart;
      if (wait > 0) await sleep(wait, signal);
    }
  }

  private async ensureLock(): Promise<boolean> {
    if (this.lock) return true;
    const lock = await this.options.store.lockAccount(this.options.account.name);
    if (!lock) return false;
    this.lock = lock;
    this.options.logger.info('polling account', { account: this.options.account.name });
    lock.lost.then(() => {
      if (this.lock !== lock) return;
      this.lock = null;
      this.options.logger.warn('lost the poll lock', { account: this.options.account.name });
    });
    return true;
  }

  private failed(kind: 'reports' | 'replies', error: unknown): void {
    const { account, logger, metrics } = this.options;
    const code = isSmsError(error) ? error.code : 'STORE';
    metrics.pollErrors.inc({ account: account.name, code });
    logger.warn('poll failed', {
      account: account.name,
      kind,
      code,
      failures: this.failures + 1,
      error,
    });
  }

  /**
   * One pull through core's client (which never repeats a pull that may have reached the
   * platform), then one transaction. An answer that cannot be read is quarantined as raw
   * bytes: it may hold records the platform will not hand out again. Returns the count.
   */
  private async pull(kind: 'reports' | 'replies'): Promise<number> {
    const { account, metrics } = this.options;
    let records: Array<StatusReport | Reply>;
    try {
      records =
        kind === 'reports'
          ? await this.client.fetchReports({ max: account.statusNum })
          : await this.client.fetchReplies();
    } catch (error) {
      if (isSmsError(error) && error.response && this.worthKeeping(error.code, error.response)) {
        await this.quarantine(kind, error.response, error.message);
      }
      throw error;
    }
    if (records.length === 0) return 0;
    const fetchedAt = new Date();
    const type: SmsWebhookEventType = kind === 'reports' ? 'sms.report' : 'sms.reply';
    const timestamp = fetchedAt.toISOString();
    const events: NewEvent[] = records.map((record) => ({
      type,
      body: JSON.stringify({
        type,
        timestamp,
        data: { account: account.name, ...record, receivedAt: record.receivedAt.toISOString() },
      }),
    }));
    metrics.fetched.inc({ account: account.name, type }, events.length);
    await this.commit(events, type, fetchedAt.getTime());
    return events.length;
  }

  /** Unreadable XML is kept; an HTTP error page only if it looks like it holds records. */
  private worthKeeping(code: string, response: SmsRawResponse): boolean {
    if (code === 'PROTOCOL') return true;
    const text = decodeResponse(response.body, response.contentType, 'utf-8');
    return /<(statusbox|callbox)\b/i.test(text);
  }

  private async quarantine(
    kind: 'reports' | 'replies',
    response: SmsRawResponse,
    why: string,
  ): Promise<void> {
    const { account, store, metrics, logger } = this.options;
    await store.quarantine({
      account: account.name,
      kind,
      httpStatus: response.status,
      contentType: response.contentType,
      body: response.body,
      error: why,
      now: response.receivedAt.getTime(),
    });
    metrics.quarantined.inc({ account: account.name, kind });
    logger.error('quarantined an unparseable response', {
      account: account.name,
      kind,
      status: response.status,
      bytes: response.body.length,
      reason: why,
    });
  }

  /** The records exist nowhere else now: keep trying to commit them until it works. */
  private async commit(events: NewEvent[], type: SmsWebhookEventType, now: number): Promise<void> {
    const { account, store, metrics, logger, targetsFor, onStored } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        await store.insertBatch({ account: account.name, events, targets: targetsFor(type), now });
        break;
      } catch (error) {
        if (this.stopping.signal.aborted && attempt >= 10) {
          // Shutting down and the store is gone: these records exist nowhere else, so the
          // log is their last copy (it holds numbers and reply texts, but no secrets).
          logger.error('could not store a fetched batch before shutdown; the events follow', {
            account: account.name,
            type,
            count: events.length,
            error,
            events: events.map((event) => JSON.parse(event.body) as unknown),
          });
          return;
        }
        logger.error('could not store a fetched batch; retrying', {
          account: account.name,
          type,
          count: events.length,
          attempt,
          error,
        });
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 5000)));
      }
    }
    metrics.stored.inc({ account: account.name, type }, events.length);
    onStored();
  }
}
