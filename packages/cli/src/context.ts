import {
  type AccountBalance,
  type BalanceResult,
  type ChangePasswordResult,
  type CheckKeywordResult,
  type Reply,
  type SendInput,
  type SendResult,
  SmsClient,
  SmsRouter,
  type StatusReport,
} from '@sms/core';
import type { CommandName, Flags } from './args.js';
import {
  type AccountSettings,
  loadSettings,
  missingPasswordError,
  type Settings,
} from './config.js';
import { usageError } from './exit.js';
import type { Output, Streams } from './output.js';
import { promptHidden, StdinLines, type TtyInput } from './prompt.js';

/** What the commands use of `SmsClient` (tests may pass another implementation). */
export interface CliClient {
  send(input: SendInput): Promise<SendResult>;
  balance(): Promise<BalanceResult>;
  checkKeyword(content: string): Promise<CheckKeywordResult>;
  fetchReports(options?: { max?: number }): Promise<StatusReport[]>;
  fetchReplies(): Promise<Reply[]>;
  changePassword(newPassword: string): Promise<ChangePasswordResult>;
  close(): Promise<void>;
  /** Several accounts: each one's balance or error (`sms balance` shows them all). */
  balances?(): Promise<AccountBalance[]>;
}

function clientFor(settings: Omit<AccountSettings, 'name' | 'weight'>): SmsClient {
  return new SmsClient({
    baseUrl: settings.baseUrl,
    userId: settings.userId,
    account: settings.account,
    password: settings.password,
    charset: settings.charset,
    ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
  });
}

/** The config file's `accounts`, none pinned: sends fail over through `@sms/core`'s router. */
class RouterClient implements CliClient {
  readonly #router: SmsRouter;
  readonly #first: SmsClient;
  readonly #clients: SmsClient[];

  constructor(accounts: AccountSettings[], strategy: Settings['strategy']) {
    this.#clients = accounts.map(clientFor);
    this.#first = this.#clients[0]!;
    this.#router = new SmsRouter({
      strategy: strategy ?? 'priority',
      accounts: accounts.map((account, index) => ({
        name: account.name,
        client: this.#clients[index]!,
        ...(account.weight !== undefined ? { weight: account.weight } : {}),
      })),
    });
  }

  send(input: SendInput): Promise<SendResult> {
    return this.#router.send(input);
  }
  balance(): Promise<BalanceResult> {
    return this.#first.balance();
  }
  balances(): Promise<AccountBalance[]> {
    return this.#router.balances();
  }
  /** Read-only: the first account's platform answers. */
  checkKeyword(content: string): Promise<CheckKeywordResult> {
    return this.#first.checkKeyword(content);
  }
  fetchReports(options?: { max?: number }): Promise<StatusReport[]> {
    return this.#router.fetchReports(options);
  }
  fetchReplies(): Promise<Reply[]> {
    return this.#router.fetchReplies();
  }
  async changePassword(): Promise<ChangePasswordResult> {
    throw usageError('passwd changes one account: pick it with --account NAME');
  }
  async close(): Promise<void> {
    await Promise.all(this.#clients.map((client) => client.close()));
  }
}

export type ResolvedSettings = Settings & { password: string };

/** The outside world of one `sms` run. The binary passes the process; tests pass their own. */
export interface RunIO extends Streams {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdin: TtyInput;
  /** Subscribes to Ctrl-C (SIGINT); returns the unsubscribe function. */
  onInterrupt?: ((listener: () => void) => () => void) | undefined;
  /** Ends the process at once (a second Ctrl-C); the default is `process.exit`. */
  exit?: ((code: number) => void) | undefined;
  /** Builds the client; the default is `new SmsClient(settings)`. */
  createClient?: ((settings: ResolvedSettings) => CliClient) | undefined;
}

export interface Context {
  command: CommandName;
  flags: Flags;
  positionals: string[];
  output: Output;
  io: RunIO;
  stdinLines: StdinLines;
  /** Endpoint and credentials, the password resolved (stdin, env, file or prompt). */
  settings(): Promise<ResolvedSettings>;
  /** One client per run, created on first use. */
  client(): Promise<CliClient>;
  onInterrupt(listener: () => void): () => void;
  /** Ends the process now (a second Ctrl-C). */
  exit(code: number): void;
}

export function createContext(
  command: CommandName,
  flags: Flags,
  positionals: string[],
  output: Output,
  io: RunIO,
): Context & { dispose(): Promise<void> } {
  const stdinLines = new StdinLines(io.stdin);
  let settings: Promise<ResolvedSettings> | undefined;
  let client: CliClient | undefined;

  const resolveSettings = async (): Promise<ResolvedSettings> => {
    const loaded = await loadSettings({
      flags,
      env: io.env,
      cwd: io.cwd,
      warn: (m) => output.warn(m),
    });
    let password: string | undefined;
    if (flags['password-stdin']) password = (await stdinLines.next('--password-stdin')).trim();
    else if (loaded.password !== undefined && loaded.password !== '') password = loaded.password;
    else if (io.stdin.isTTY && !flags['new-password-stdin']) {
      password = await promptHidden(`Password for ${loaded.account}: `, io.stdin, io.stderr);
    }
    if (!password) throw missingPasswordError();
    output.addSecret(password);
    for (const account of loaded.accounts ?? []) output.addSecret(account.password);
    return { ...loaded, password };
  };

  return {
    command,
    flags,
    positionals,
    output,
    io,
    stdinLines,
    settings() {
      settings ??= resolveSettings();
      return settings;
    },
    async client() {
      if (client) return client;
      const resolved = await this.settings();
      client =
        io.createClient?.(resolved) ??
        (resolved.accounts
          ? new RouterClient(resolved.accounts, resolved.strategy)
          : clientFor(resolved));
      return client;
    },
    onInterrupt(listener) {
      return io.onInterrupt?.(listener) ?? (() => {});
    },
    exit(code) {
      (io.exit ?? process.exit)(code);
    },
    async dispose() {
      await client?.close();
    },
  };
}
