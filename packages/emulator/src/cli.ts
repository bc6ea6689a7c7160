/** `sms-emulator`: the platform on a port, until SIGINT or SIGTERM. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEmulator } from './emulator.js';
import { DEFAULT_ACCOUNT } from './platform.js';
import type { AccountConfig, EmulatorOptions, PayType } from './types.js';

const USAGE = `Usage: sms-emulator [options]

  --port <n>             port to listen on (default 8080; 0 = any free port)
  --host <addr>          interface (default 127.0.0.1)
  --account <u:a:p>      an account as userId:account:password (repeatable; default 12:demo:secret)
  --balance <n>          starting balance of the --account accounts (default 1000)
  --pay-type <type>      prepaid (default) or postpaid, for the --account accounts
  --config <file.json>   EmulatorOptions as JSON (flags override it; --account adds accounts)
  --report-delay <ms>    delay of delivery reports (default 0)
  --fail-rate <0..1>     share of numbers whose report fails (default 0)
  --keyword <word>       a blocked word (repeatable; replaces the default list)
  --require-signature    refuse content without a 【签名】 (需要签名)
  --quirks               answer wild-server XML (CRLF, single quotes, spaced tags, 预付, …)
  --allowed-host <name>  a host name the inbox and control API answer besides IPs and
                         localhost (repeatable; e.g. a Compose service name)
  --help                 this text
`;

function fail(message: string): never {
  process.stderr.write(`sms-emulator: ${message}\n\n${USAGE}`);
  process.exit(2);
}

interface NumberRule {
  /** What the flag takes, for the message: "a number from 0 to 1". */
  expected: string;
  min: number;
  max?: number;
  integer?: boolean;
}

const NUMERIC_FLAGS: Record<string, NumberRule> = {
  '--port': { expected: 'a port from 0 to 65535', min: 0, max: 65535, integer: true },
  '--balance': { expected: 'a non-negative number', min: 0 },
  '--report-delay': { expected: 'a non-negative number of milliseconds', min: 0 },
  '--fail-rate': { expected: 'a number from 0 to 1', min: 0, max: 1 },
};

function number(value: string | undefined, flag: keyof typeof NUMERIC_FLAGS): number | undefined {
  if (value === undefined) return undefined;
  const rule = NUMERIC_FLAGS[flag]!;
  const parsed = value.trim() === '' ? Number.NaN : Number(value);
  if (
    !Number.isFinite(parsed) ||
    parsed < rule.min ||
    (rule.max !== undefined && parsed > rule.max) ||
    (rule.integer && !Number.isInteger(parsed))
  ) {
    fail(`${flag} must be ${rule.expected}, got "${value}"`);
  }
  return parsed;
}

/**
 * `--report-delay -5` as `--report-delay=-5`: parseArgs refuses a value starting with a dash
 * as "ambiguous"; joined, the value reaches the range check and its clear message.
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg in NUMERIC_FLAGS && next !== undefined && /^-(\d|\.\d|Infinity$)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** `userId:account:password`; the password may itself contain colons. */
export function parseAccountFlag(
  value: string,
  balance: number | undefined,
  payType: PayType | undefined,
): AccountConfig {
  const [userId, account, ...rest] = value.split(':');
  const password = rest.join(':');
  if (userId === undefined || !account || !password) {
    fail(
      `--account must be userId:account:password (userId may be empty), got "${value.split(':').slice(0, 2).join(':')}:…"`,
    );
  }
  return {
    userId,
    account,
    password,
    ...(balance === undefined ? {} : { balance }),
    ...(payType === undefined ? {} : { payType }),
  };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(process.argv.slice(2)),
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        account: { type: 'string', multiple: true },
        balance: { type: 'string' },
        'pay-type': { type: 'string' },
        config: { type: 'string' },
        'report-delay': { type: 'string' },
        'fail-rate': { type: 'string' },
        keyword: { type: 'string', multiple: true },
        'require-signature': { type: 'boolean' },
        quirks: { type: 'boolean' },
        'allowed-host': { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const flags = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (flags.help) {
    process.stdout.write(USAGE);
    return;
  }

  let options: EmulatorOptions = { accounts: [] };
  if (typeof flags.config === 'string') {
    try {
      options = JSON.parse(readFileSync(flags.config, 'utf8')) as EmulatorOptions;
    } catch (error) {
      fail(
        `cannot read ${flags.config}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    options.accounts ??= [];
  }
  const payType = flags['pay-type'] as PayType | undefined;
  if (payType !== undefined && payType !== 'prepaid' && payType !== 'postpaid') {
    fail('--pay-type must be prepaid or postpaid');
  }
  const balance = number(flags.balance as string | undefined, '--balance');
  const accounts = (flags.account as string[] | undefined) ?? [];
  options.accounts = [
    ...(options.accounts ?? []),
    ...accounts.map((value) => parseAccountFlag(value, balance, payType)),
  ];
  if (options.accounts.length === 0) {
    options.accounts.push({
      ...DEFAULT_ACCOUNT,
      ...(balance === undefined ? {} : { balance }),
      ...(payType ? { payType } : {}),
    });
  }
  options.port = number(flags.port as string | undefined, '--port') ?? options.port ?? 8080;
  if (typeof flags.host === 'string') options.host = flags.host;
  const delayMs = number(flags['report-delay'] as string | undefined, '--report-delay');
  const failRate = number(flags['fail-rate'] as string | undefined, '--fail-rate');
  if (delayMs !== undefined || failRate !== undefined) {
    options.report = {
      ...options.report,
      ...(delayMs === undefined ? {} : { delayMs }),
      ...(failRate === undefined ? {} : { failRate }),
    };
  }
  if (Array.isArray(flags.keyword)) options.keywords = flags.keyword;
  if (flags['require-signature']) options.requireSignature = true;
  if (flags.quirks) options.quirks = true;
  if (Array.isArray(flags['allowed-host']))
    options.allowedHosts = [...(options.allowedHosts ?? []), ...flags['allowed-host']];

  let emulator: Awaited<ReturnType<typeof startEmulator>>;
  try {
    emulator = await startEmulator(options);
  } catch (error) {
    process.stderr.write(
      `sms-emulator: cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  }
  // Account names only: passwords never reach a log.
  const names = options.accounts.map(
    (account) => `${account.account} (userid ${account.userId || '(empty)'})`,
  );
  process.stdout.write(`sms-emulator listening on ${emulator.url}\n`);
  process.stdout.write(`accounts: ${names.join(', ')}\ncontrol API: ${emulator.url}/__emulator/\n`);
  process.stdout.write(`inbox: ${emulator.url}/\n`);

  const stop = (signal: string) => {
    process.stdout.write(`sms-emulator: ${signal}, stopping\n`);
    emulator.close().then(
      () => {
        process.exitCode = 0;
      },
      () => {
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`sms-emulator: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
