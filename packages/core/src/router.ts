import { type SendBatchInput, type SendBatchResult, planBatch, runBatch } from './batch.js';
import { type FetchReportsOptions, SmsClient, type SmsClientOptions } from './client.js';
import { type RouteAttempt, SmsError, validationError } from './errors.js';
import {
  type BreakerOptions,
  type BreakerState,
  type BreakerView,
  CircuitBreaker,
} from './breaker.js';
import { failoverDecision } from './failover.js';
import { prepareSend } from './protocol.js';
import type { BalanceResult, Reply, SendInput, SendResult, StatusReport } from './types.js';

/** What a router needs of each account's client (an `SmsClient` has it all). */
export type RoutableClient = Pick<
  SmsClient,
  'send' | 'balance' | 'fetchReports' | 'fetchReplies' | 'close'
>;

/** Anything with `SmsClient`'s `send()`: a client or a router. Adapters take this. */
export interface SmsSender {
  send(input: SendInput): Promise<SendResult>;
}

export interface SmsRouterAccount {
  /** A name of your choosing, unique in the router: results, errors and records carry it. */
  name: string;
  /** A client you built (the router does not close it), or... */
  client?: RoutableClient;
  /** ...its options: the router builds the client and closes it in `close()`. */
  options?: SmsClientOptions;
  /** `weighted` strategy: relative share of first tries (default 1; 0 = only as a fallback). */
  weight?: number;
}

export type SmsRouterStrategy = 'priority' | 'weighted' | 'round-robin';

export interface SmsRouterOptions {
  accounts: readonly SmsRouterAccount[];
  /**
   * Which account a send tries first; the others follow only when it surely did not send.
   * `priority` (default): in the listed order. `weighted`: first by `weight`, at random.
   * `round-robin`: each send starts at the next account.
   */
  strategy?: SmsRouterStrategy;
  /** Per-account circuit breaker; `false` turns it off. */
  breaker?: BreakerOptions | false;
  /** Fail over on `ILLEGAL_KEYWORD` too (resellers keep different word lists). Default false. */
  failoverOnKeyword?: boolean;
  /** Told when an account's breaker changes state. */
  onBreakerChange?: (account: string, state: BreakerState) => void;
  /** Random source of the `weighted` strategy, in [0, 1). */
  random?: () => number;
  /** Clock of the breakers, in ms. */
  now?: () => number;
}

/** One account's circuit breaker, as `breakers()` shows it. */
export interface AccountBreaker extends BreakerView {
  account: string;
}

/** A send's result through a router: which account sent it and what was tried before. */
export interface RoutedSendResult extends SendResult {
  account: string;
  /** Accounts tried (or skipped, `CIRCUIT_OPEN`) before the one that sent, in order. */
  attempts: RouteAttempt[];
}

export type AccountReport = StatusReport & { account: string };
export type AccountReply = Reply & { account: string };

export interface AccountBalance {
  account: string;
  balance?: BalanceResult;
  error?: SmsError;
}

interface Entry {
  name: string;
  client: RoutableClient;
  owned: boolean;
  weight: number;
  /** Absent when the router runs without breakers. */
  breaker: CircuitBreaker | undefined;
}

/**
 * Several accounts (at one reseller or several) behind `SmsClient`'s `send()`. A send moves
 * to the next account only when it surely did not go out on this one; the rule is
 * `FAILOVER_RULES` (docs/sending.md). So a message goes out at most once.
 */
export class SmsRouter implements SmsSender {
  readonly strategy: SmsRouterStrategy;
  private readonly entries: Entry[];
  private readonly failoverOnKeyword: boolean;
  private readonly random: () => number;
  private turn = 0;

  constructor(options: SmsRouterOptions) {
    if (options === null || typeof options !== 'object' || !Array.isArray(options.accounts))
      throw validationError(
        'accounts',
        'SmsRouter needs { accounts: [{ name, client | options }] }',
      );
    if (options.accounts.length === 0)
      throw validationError('accounts', 'SmsRouter needs at least one account');
    const strategy = options.strategy ?? 'priority';
    if (!['priority', 'weighted', 'round-robin'].includes(strategy))
      throw validationError('strategy', "strategy must be 'priority', 'weighted' or 'round-robin'");
    this.strategy = strategy;
    const names = new Set<string>();
    const built: SmsClient[] = [];
    try {
      this.entries = options.accounts.map((account, index) => {
        if (account === null || typeof account !== 'object')
          throw validationError('accounts', `accounts[${index}] must be an object`);
        if (typeof account.name !== 'string' || account.name === '')
          throw validationError('accounts', `accounts[${index}] needs a name`);
        if (names.has(account.name))
          throw validationError(
            'accounts',
            `account name ${JSON.stringify(account.name)} is used twice`,
          );
        names.add(account.name);
        if ((account.client === undefined) === (account.options === undefined))
          throw validationError(
            'accounts',
            `account ${account.name}: give either client or options`,
          );
        const weight = account.weight ?? 1;
        if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0)
          throw validationError(
            'accounts',
            `account ${account.name}: weight must be a number >= 0`,
          );
        let client = account.client;
        if (client === undefined) {
          const own = new SmsClient(account.options as SmsClientOptions);
          built.push(own);
          client = own;
        }
        return {
          name: account.name,
          client,
          owned: account.client === undefined,
          weight,
          breaker:
            options.breaker === false
              ? undefined
              : new CircuitBreaker(options.breaker ?? {}, {
                  now: options.now,
                  onChange: (state) => options.onBreakerChange?.(account.name, state),
                }),
        };
      });
    } catch (error) {
      for (const client of built) void client.close();
      throw error;
    }
    this.failoverOnKeyword = options.failoverOnKeyword === true;
    this.random = options.random ?? Math.random;
  }

  /** The account names, in the order given. */
  get accounts(): string[] {
    return this.entries.map((entry) => entry.name);
  }

  /** One account's client, to pin a call to it (`sms --account NAME`). Throws for an unknown name. */
  client(name: string): RoutableClient {
    const entry = this.entries.find((candidate) => candidate.name === name);
    if (!entry)
      throw validationError(
        'account',
        `no account named ${JSON.stringify(name)} (have: ${this.accounts.join(', ')})`,
      );
    return entry.client;
  }

  /**
   * Sends through the first account the strategy picks, moving on only when the send surely
   * did not go out (see `FAILOVER_RULES`). Throws the stopping error (its `account` and
   * `attempts` set; `UNKNOWN_OUTCOME` names the account it may have gone out on), or
   * `ALL_ACCOUNTS_FAILED` listing every account's reason.
   */
  async send(input: SendInput): Promise<RoutedSendResult> {
    const attempts: RouteAttempt[] = [];
    let last: SmsError | undefined;
    for (const entry of this.order()) {
      if (entry.breaker && !entry.breaker.allow()) {
        attempts.push({
          account: entry.name,
          code: 'CIRCUIT_OPEN',
          message: 'circuit breaker open',
        });
        continue;
      }
      let error: SmsError;
      try {
        const result = await entry.client.send(input);
        entry.breaker?.settle();
        return { ...result, account: entry.name, attempts };
      } catch (thrown) {
        // Anything but our own error is not known to have stayed home.
        error =
          thrown instanceof SmsError
            ? thrown
            : new SmsError(`send: the client threw ${String(thrown)}; it may have been sent`, {
                code: 'UNKNOWN_OUTCOME',
                action: 'send',
                cause: thrown,
              });
      }
      entry.breaker?.settle(error.code);
      attempts.push({ account: entry.name, code: error.code, message: error.message });
      error.account = entry.name;
      if (failoverDecision(error.code, { failoverOnKeyword: this.failoverOnKeyword }) === 'stop') {
        error.attempts = attempts;
        error.message = error.message.replace(/^(\[sms\] )?/, `$1account ${entry.name}: `);
        throw error;
      }
      last = error;
    }
    const reasons = attempts.map((attempt) => `${attempt.account}: ${attempt.code}`).join('; ');
    throw new SmsError(`send: no account sent the message (${reasons})`, {
      code: 'ALL_ACCOUNTS_FAILED',
      action: 'send',
      account: attempts.at(-1)?.account,
      attempts,
      cause: last,
    });
  }

  /**
   * `SmsClient.sendBatch` through the router: the valid numbers in chunks of `chunkSize`,
   * `concurrency` at a time, each chunk a routed `send()` (its `result` names the account).
   * A failed chunk does not stop the others unless `stopOnFailure`.
   */
  async sendBatch(input: SendBatchInput): Promise<SendBatchResult> {
    const plan = planBatch(input);
    // Content, extNo and sendTime are checked once, before the first request.
    prepareSend({ ...input, mobiles: plan.valid.slice(0, 1) });
    const { content, sendTime, extNo } = input;
    // A throw that is not an SmsError may come after a send went out: never "surely not sent".
    return runBatch(
      input,
      plan,
      (mobiles) => this.send({ mobiles, content, sendTime, extNo }),
      'UNKNOWN_OUTCOME',
    );
  }

  /**
   * Pulls reports from every account, each tagged with its account. Pull-once: when some
   * account fails, the error carries every record the others (and it) returned on `records`.
   */
  async fetchReports(options: Pick<FetchReportsOptions, 'max'> = {}): Promise<AccountReport[]> {
    return this.pullAll('queryReports', (client) => client.fetchReports(options));
  }

  /** Pulls replies from every account, each tagged with its account (pull-once, as `fetchReports`). */
  async fetchReplies(): Promise<AccountReply[]> {
    return this.pullAll('queryReplies', (client) => client.fetchReplies());
  }

  /** Each account's balance, or the error that account gave. Never throws for one account. */
  async balances(): Promise<AccountBalance[]> {
    return Promise.all(
      this.entries.map(async (entry): Promise<AccountBalance> => {
        try {
          return { account: entry.name, balance: await entry.client.balance() };
        } catch (error) {
          const failure =
            error instanceof SmsError
              ? error
              : new SmsError(String(error), { code: 'NETWORK', action: 'overage', cause: error });
          failure.account = entry.name;
          return { account: entry.name, error: failure };
        }
      }),
    );
  }

  /** Every account's circuit breaker (none when the router runs without). */
  breakers(): AccountBreaker[] {
    return this.entries.flatMap((entry) =>
      entry.breaker ? [{ account: entry.name, ...entry.breaker.view() }] : [],
    );
  }

  /** Closes the clients the router built from `options` (clients you passed stay open). */
  async close(): Promise<void> {
    await Promise.all(this.entries.filter((e) => e.owned).map((e) => e.client.close()));
  }

  private async pullAll<T extends StatusReport | Reply>(
    action: 'queryReports' | 'queryReplies',
    pull: (client: RoutableClient) => Promise<T[]>,
  ): Promise<Array<T & { account: string }>> {
    const settled = await Promise.allSettled(this.entries.map((entry) => pull(entry.client)));
    const records: Array<T & { account: string }> = [];
    const failures: SmsError[] = [];
    settled.forEach((outcome, index) => {
      const account = this.entries[index]!.name;
      const tag = (record: T) => ({ ...record, account });
      if (outcome.status === 'fulfilled') {
        records.push(...outcome.value.map(tag));
        return;
      }
      const error =
        outcome.reason instanceof SmsError
          ? outcome.reason
          : new SmsError(String(outcome.reason), {
              code: 'NETWORK',
              action,
              cause: outcome.reason,
            });
      error.account = account;
      records.push(...(error.records as T[]).map(tag));
      failures.push(error);
    });
    if (failures.length === 0) return records;
    const first = failures[0]!;
    first.attempts = failures.map((error) => ({
      account: error.account ?? '',
      code: error.code,
      message: error.message,
    }));
    // The records of every account are the only copy: they travel on the error.
    first.records = records;
    throw first;
  }

  /** The accounts in the order this send tries them. */
  private order(): Entry[] {
    const entries = this.entries;
    if (this.strategy === 'round-robin') {
      const start = this.turn++ % entries.length;
      return [...entries.slice(start), ...entries.slice(0, start)];
    }
    if (this.strategy === 'weighted') {
      // Weighted random order without replacement (Efraimidis-Spirakis); weight 0 goes last.
      return entries
        .map((entry) => ({
          entry,
          key: entry.weight > 0 ? this.random() ** (1 / entry.weight) : -1,
        }))
        .sort((a, b) => b.key - a.key)
        .map(({ entry }) => entry);
    }
    return entries;
  }
}

/** `new SmsRouter(options)`. */
export function createSmsRouter(options: SmsRouterOptions): SmsRouter {
  return new SmsRouter(options);
}
