import { rmSync, statSync } from 'node:fs';
import type { SmsWebhookEventType } from '@sms/core';
import type { RelayLogger } from '../shared/logger.js';
import type { RelayMetrics } from '../shared/metrics.js';
import type { Store } from '../store/types.js';
import { type Settlement, settlementOfEntry } from './answer.js';
import type { AccountConfig, JournalConfig } from './config.js';
import { Journal } from './journal.js';
import { AccountPoller, type Correlation } from './poller.js';
import { type PullThread, PullWorker } from './pull-worker.js';

export interface PullRelayOptions {
  accounts: readonly AccountConfig[];
  journal: JournalConfig;
  logger: RelayLogger;
  metrics: RelayMetrics;
}

export interface PullRelayStart {
  store: Store;
  /** Target names that receive an account's events of a type. */
  targetsFor: (account: string, type: SmsWebhookEventType) => string[];
  /** Called after a batch is committed (wakes the delivery loop). */
  onStored: () => void;
  /** The gateway's correlation of records with its messages. */
  correlate?: (settlement: Settlement) => Promise<Correlation | undefined>;
}

/**
 * The pull relay: the journal, the pull thread and one poller per account. Answers a crash
 * left in the journal are settled by their account's poller before its first pull.
 */
export class PullRelay {
  private pollers: AccountPoller[] = [];
  private puller: PullWorker | undefined;
  private journal: Journal | undefined;
  private leftovers = new Map<string, Settlement[]>();

  constructor(private readonly options: PullRelayOptions) {}

  /** The accounts whose poll lock this process holds. */
  polling(): string[] {
    return this.pollers.flatMap((p, i) => (p.polling ? [this.options.accounts[i]!.name] : []));
  }

  /** The pull thread's kernel id and nice value (after `prepare`; empty off Linux). */
  thread(): PullThread {
    return this.puller?.thread ?? {};
  }

  /** One per configured account, in config order (empty before start). */
  all(): readonly AccountPoller[] {
    return this.pollers;
  }

  /** Opens the journal, reads what a crash left there, and starts the pull thread. */
  async prepare(): Promise<void> {
    const journal = new Journal(this.options.journal);
    journal.open();
    this.journal = journal;
    this.leftovers = this.recover(journal);
    this.puller = new PullWorker(journal.dir);
    await this.puller.start();
  }

  /** Starts one poller per account (after `prepare`). */
  start(run: PullRelayStart): void {
    const { journal, puller, leftovers } = this;
    if (!journal || !puller) throw new Error('[sms] [relay] the pull relay is not prepared');
    this.pollers = this.options.accounts.map(
      (account) =>
        new AccountPoller({
          account,
          store: run.store,
          journal,
          puller,
          leftovers: leftovers.get(account.name) ?? [],
          targetsFor: (type) => run.targetsFor(account.name, type),
          logger: this.options.logger,
          metrics: this.options.metrics,
          onStored: run.onStored,
          ...(run.correlate ? { correlate: run.correlate } : {}),
        }),
    );
    for (const poller of this.pollers) poller.start();
  }

  /** Waits for pulls in progress (a pulled record exists nowhere else), then ends the thread. */
  async stop(): Promise<void> {
    await Promise.all(this.pollers.map((p) => p.stop()));
    await this.puller?.close();
  }

  /**
   * Reads what a crash left in the journal: every answer whose records were not known to be
   * committed. The ids come from the entries, so an answer that was in fact committed inserts
   * nothing twice.
   */
  private recover(journal: Journal): Map<string, Settlement[]> {
    const { accounts, logger, metrics } = this.options;
    const byAccount = new Map<string, Settlement[]>();
    const { entries, unreadable } = journal.entries();
    for (const { path, reason } of unreadable) {
      if (statSync(path, { throwIfNoEntry: false })?.size === 0) {
        rmSync(path, { force: true });
        continue;
      }
      logger.error('journal entry unreadable; left in place for an operator', { path, reason });
    }
    for (const entry of entries) {
      const account = accounts.find((a) => a.name === entry.account);
      if (!account) {
        logger.error('journal entry of an account no longer configured; left in place', {
          entry: entry.id,
          account: entry.account,
          path: journal.pathOf(entry.id),
        });
        continue;
      }
      const settlement = settlementOfEntry(entry, account.charset);
      metrics.recovered.inc({ account: entry.account, kind: entry.kind });
      logger.warn('recovering a pull answer from the journal', {
        account: entry.account,
        kind: entry.kind,
        entry: entry.id,
        records: settlement.records.length,
        incomplete: settlement.quarantine !== undefined,
      });
      const list = byAccount.get(entry.account) ?? [];
      list.push(settlement);
      byAccount.set(entry.account, list);
    }
    return byAccount;
  }
}
