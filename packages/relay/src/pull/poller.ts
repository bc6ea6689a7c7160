import {
  type SmsClientOptions,
  SmsError,
  type SmsWebhookEventType,
  isSmsError,
  maskErrorSecrets,
} from '@sms/core';
import type { AccountConfig } from './config.js';
import type { RelayLogger } from '../shared/logger.js';
import type { RelayMetrics } from '../shared/metrics.js';
import {
  type RecordTag,
  type Settlement,
  eventTypeOf,
  eventsOf,
  settlementOfEntry,
} from './answer.js';
import { newJournalEntryId } from '../shared/ids.js';
import type { Journal, PullKind } from './journal.js';
import type { PullFailure, PullWorker } from './pull-worker.js';
import type { AccountLock, NewEvent, Store } from '../store/types.js';

export interface PollerOptions {
  account: AccountConfig;
  store: Store;
  /** Where pull answers are written before anything else. */
  journal: Journal;
  /** The thread the pulls run on. */
  puller: PullWorker;
  /** Answers a crash left in the journal for this account: settled before the first pull. */
  leftovers?: readonly Settlement[];
  /** Target names that receive this account's events of a type. */
  targetsFor: (type: SmsWebhookEventType) => string[];
  logger: RelayLogger;
  metrics: RelayMetrics;
  /** Called after a batch is committed (wakes the delivery loop). */
  onStored: () => void;
  /**
   * The gateway's correlation: tags each record with the message it belongs to before the
   * events are built (so the stored bodies carry it); `stored` runs once they are committed.
   */
  correlate?: (settlement: Settlement) => Promise<Correlation | undefined>;
}

/** What the gateway makes of a settlement's records (see `gateway/correlate.ts`). */
export interface Correlation {
  tags: ReadonlyArray<RecordTag | undefined>;
  stored(events: readonly NewEvent[]): Promise<void>;
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
  private readonly clientOptions: SmsClientOptions;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private lock: AccountLock | null = null;
  private failures = 0;
  /** Journal entries not yet committed (a crash's leftovers, or a commit the store refused). */
  private readonly unsettled = new Map<string, Settlement>();

  constructor(private readonly options: PollerOptions) {
    const { account } = options;
    this.clientOptions = {
      baseUrl: account.baseUrl,
      userId: account.userId,
      account: account.account,
      password: account.password,
      charset: account.charset,
      auth: account.auth,
      timeoutMs: account.timeoutMs,
      maxResponseBytes: account.maxResponseBytes,
      connections: 2,
      // The poll loop backs off and retries on its own schedule.
      retry: false,
    };
    for (const settlement of options.leftovers ?? []) {
      this.unsettled.set(settlement.head.id, settlement);
    }
  }

  /** Whether this process currently holds the account's poll lock. */
  get polling(): boolean {
    return this.lock !== null;
  }

  private last: { at: number; error: string | null } | undefined;
  private lastError: string | null = null;

  /** When this process last polled the account, and its error code if that poll failed. */
  get lastPoll(): { at: number; error: string | null } | undefined {
    return this.last;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    // Cleared before the release: ending the lock's session resolves `lost`, and giving the
    // lock up on shutdown is not losing it.
    const lock = this.lock;
    this.lock = null;
    await lock?.release().catch(() => {});
  }

  private async run(): Promise<void> {
    const { account, logger } = this.options;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const cycleStart = Date.now();
      let wait = account.pollIntervalMs;
      try {
        let drained = true;
        let failed = false;
        // Leftovers first (they need no poll lock: their event ids are fixed). While the store
        // refuses what the journal holds, pull nothing new: the platform keeps it meanwhile.
        let storeDown = false;
        if (this.unsettled.size > 0) {
          try {
            await this.settleLeftovers();
          } catch (error) {
            failed = storeDown = true;
            this.failed('journal', error);
          }
        }
        if (!storeDown && !(await this.ensureLock())) {
          await sleep(account.pollIntervalMs, signal);
          continue;
        }
        if (account.reports && !storeDown) {
          try {
            const count = await this.pull('reports');
            if (count >= account.statusNum) drained = false;
          } catch (error) {
            failed = true;
            storeDown = error instanceof StoreFailure;
            this.failed('reports', error);
          }
        }
        if (account.replies && !signal.aborted && !storeDown) {
          try {
            await this.pull('replies');
          } catch (error) {
            failed = true;
            this.failed('replies', error);
          }
        }
        this.last = { at: Date.now(), error: failed ? this.lastError : null };
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

  private failed(kind: PullKind | 'journal', error: unknown): void {
    const { account, logger, metrics } = this.options;
    const code = isSmsError(error) ? error.code : 'STORE';
    this.lastError = code;
    if (error instanceof StoreFailure) error = error.error;
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
   * One pull, on the pull thread (core's client there never repeats a pull that may have
   * reached the platform). Its bytes go to the journal as they arrive; then its complete
   * records are committed, whatever is unreadable quarantined, and only then the entry
   * removed. An answer cut off mid-body still delivers every record it held whole. Returns
   * the record count.
   */
  private async pull(kind: PullKind): Promise<number> {
    const { account, journal, puller, metrics, logger } = this.options;
    const outcome = await puller.pull({
      account: account.name,
      client: this.clientOptions,
      kind,
      max: kind === 'reports' ? account.statusNum : undefined,
      entryId: newJournalEntryId(),
      dir: journal.dir,
      fsync: journal.fsync,
    });
    const exchangeFailure = outcome.error ? pullError(outcome.error, kind) : undefined;
    if (!outcome.head)
      throw exchangeFailure ?? pullError({ code: 'NETWORK', message: 'no answer' }, kind);
    if (outcome.journalError !== undefined) {
      metrics.storeErrors.inc({ op: 'journal' });
      logger.error('could not write the pull journal; keeping the answer in memory', {
        account: account.name,
        kind,
        entry: outcome.head.id,
        error: outcome.journalError,
      });
    }
    const settlement = settlementOfEntry({ ...outcome.head, body: outcome.body }, account.charset);
    if (exchangeFailure && exchangeFailure.code !== 'PROTOCOL' && settlement.quarantine) {
      settlement.quarantine.reason = `${exchangeFailure.message}; ${settlement.quarantine.reason}`;
    }
    // The exchange's own failure, else what reading the answer found (a refusal, a bad body),
    // masked as core masks its own: a platform may echo the password back.
    const failure =
      exchangeFailure ??
      (settlement.failure && maskErrorSecrets(settlement.failure, [account.password]));
    if (settlement.records.length > 0) {
      metrics.fetched.inc(
        { account: account.name, type: eventTypeOf(kind) },
        settlement.records.length,
      );
    }
    await this.settle(settlement, outcome.durable);
    if (failure) throw failure;
    if (settlement.quarantine) {
      throw new SmsError(settlement.quarantine.reason, {
        code: 'PROTOCOL',
        action: kind === 'reports' ? 'queryReports' : 'queryReplies',
      });
    }
    return settlement.records.length;
  }

  /**
   * Commits a settlement, then removes its journal entry. If the store fails and the entry is
   * on disk, it is left for the next cycle (no new pull meanwhile); if the journal could not
   * hold it, the records exist only here, so keep trying.
   */
  private async settle(settlement: Settlement, durable: boolean): Promise<void> {
    const { account, logger, journal } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.commit(settlement);
        journal.remove(settlement.head.id);
        this.unsettled.delete(settlement.head.id);
        return;
      } catch (error) {
        this.options.metrics.storeErrors.inc({ op: 'commit' });
        if (durable) {
          this.unsettled.set(settlement.head.id, settlement);
          logger.error('could not store a pulled answer; it stays in the journal and is retried', {
            account: account.name,
            kind: settlement.head.kind,
            entry: settlement.head.id,
            records: settlement.records.length,
            error,
          });
          throw new StoreFailure(error);
        }
        if (this.stopping.signal.aborted && attempt >= 10) {
          // Shutting down, no journal, no store: the log is the last copy of these records
          // (numbers and reply texts, no secrets) and of the raw answer.
          logger.error('could not store a pulled answer before shutdown; its records follow', {
            account: account.name,
            kind: settlement.head.kind,
            error,
            events: eventsOf(settlement).map((event) => JSON.parse(event.body) as unknown),
            quarantine: settlement.quarantine?.body.toString('base64'),
          });
          return;
        }
        logger.error('could not store a pulled answer; retrying', {
          account: account.name,
          kind: settlement.head.kind,
          records: settlement.records.length,
          attempt,
          error,
        });
        await sleep(Math.min(100 * 2 ** attempt, 5000), this.stopping.signal);
      }
    }
  }

  /** Inserts the events (idempotent: ids come from the entry) and quarantines what was unreadable. */
  private async commit(settlement: Settlement): Promise<void> {
    const { account, store, metrics, logger, targetsFor, onStored } = this.options;
    const { head, quarantine } = settlement;
    const type = eventTypeOf(head.kind);
    const correlation =
      settlement.records.length > 0 ? await this.options.correlate?.(settlement) : undefined;
    const events = eventsOf(settlement, correlation?.tags);
    if (events.length > 0) {
      const inserted = await store.insertBatch({
        account: head.account,
        events,
        targets: targetsFor(type),
        now: head.receivedAt,
      });
      metrics.stored.inc({ account: account.name, type }, inserted.length);
      await correlation?.stored(events);
      onStored();
    }
    if (quarantine) {
      await store.quarantine({
        account: head.account,
        kind: head.kind,
        httpStatus: head.status,
        contentType: head.contentType,
        body: quarantine.body,
        error: `${quarantine.reason} (journal entry ${head.id}; ${events.length} record(s) kept)`,
        now: head.receivedAt,
        entryId: head.id,
      });
      metrics.quarantined.inc({ account: account.name, kind: head.kind });
      logger.error('quarantined a pull answer that could not be read whole', {
        account: account.name,
        kind: head.kind,
        status: head.status,
        bytes: quarantine.body.length,
        recordsKept: events.length,
        reason: quarantine.reason,
      });
    }
  }

  /** Settles the journal entries left by a crash or a failed commit, oldest first. */
  private async settleLeftovers(): Promise<void> {
    for (const [id, settlement] of [...this.unsettled]) {
      await this.settle(settlement, true);
      this.unsettled.delete(id);
    }
  }
}

/** The store refused a pulled answer that the journal holds: back off, retry it next cycle. */
class StoreFailure extends Error {
  override readonly name = 'StoreFailure';
  constructor(readonly error: unknown) {
    super('could not store a pulled answer', { cause: error });
  }
}

/** The pull thread's failure as the `SmsError` it was there. */
function pullError(error: PullFailure, kind: PullKind): SmsError {
  return new SmsError(error.message.replace(/^\[sms\] /, ''), {
    code: error.code as SmsError['code'],
    action: kind === 'reports' ? 'queryReports' : 'queryReplies',
    status: error.status,
    platformMessage: error.platformMessage,
    excerpt: error.excerpt,
    words: error.words,
  });
}
