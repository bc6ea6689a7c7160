import { type ParseArgsConfig, parseArgs } from 'node:util';
import { usageError } from './exit.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command takes: where the platform is, who you are, how to print. */
export const GLOBAL_OPTIONS = {
  'base-url': { type: 'string' },
  userid: { type: 'string' },
  account: { type: 'string' },
  charset: { type: 'string' },
  config: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const COMMAND_OPTIONS = {
  send: {
    to: { type: 'string' },
    content: { type: 'string' },
    at: { type: 'string' },
    ext: { type: 'string' },
    csv: { type: 'string' },
    'content-column': { type: 'string' },
    'mobile-column': { type: 'string' },
    'chunk-size': { type: 'string' },
    concurrency: { type: 'string' },
    results: { type: 'string' },
    'dry-run': { type: 'boolean' },
    'skip-invalid': { type: 'boolean' },
    retry: { type: 'string' },
  },
  balance: {},
  check: { content: { type: 'string' } },
  reports: {
    watch: { type: 'boolean' },
    out: { type: 'string' },
    interval: { type: 'string' },
    max: { type: 'string' },
  },
  replies: {
    watch: { type: 'boolean' },
    out: { type: 'string' },
    interval: { type: 'string' },
  },
  passwd: { 'new-password-stdin': { type: 'boolean' } },
} as const satisfies Record<string, Options>;

export type CommandName = keyof typeof COMMAND_OPTIONS;
export const COMMANDS = Object.keys(COMMAND_OPTIONS) as CommandName[];

/** Parsed flags: strings and booleans by long name. */
export type Flags = Record<string, string | boolean | undefined>;

export type Parsed =
  | { kind: 'help'; command?: CommandName | undefined }
  | { kind: 'version' }
  | { kind: 'command'; command: CommandName; flags: Flags; positionals: string[] };

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_OPTIONS, name);
}

/** `sms <command> [options]`: the command first, options in any order after it. */
export function parseCommandLine(argv: readonly string[]): Parsed {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    return { kind: 'help', command: topic && isCommand(topic) ? topic : undefined };
  }
  if (first === '--version' || first === '-v' || first === 'version') return { kind: 'version' };
  if (!isCommand(first)) {
    const instead = PASSWORD_FLAGS[first.replace(/^-+/, '').split('=')[0]!.toLowerCase()];
    if (first.startsWith('-') && instead !== undefined) {
      throw usageError(
        `${first.split('=')[0]} is not an option: a password on the command line shows up in ps and shell history; use ${instead}`,
      );
    }
    throw usageError(
      first.startsWith('-')
        ? `put the command first: sms <${COMMANDS.join('|')}> [options]`
        : `unknown command "${first}" (commands: ${COMMANDS.join(', ')})`,
    );
  }
  const parsed = parseFlags(first, rest);
  if (parsed.values['help']) return { kind: 'help', command: first };
  const maxPositionals = first === 'check' ? 1 : 0;
  if (parsed.positionals.length > maxPositionals) {
    throw usageError(
      `unexpected argument "${parsed.positionals[maxPositionals]}" (quote the content: --content "…")`,
    );
  }
  return { kind: 'command', command: first, flags: parsed.values, positionals: parsed.positionals };
}

/** Flags that look like a password on the command line: where to put it instead. */
const PASSWORD_FLAGS: Readonly<Record<string, string>> = {
  password: 'SMS_PASSWORD or --password-stdin',
  pwd: 'SMS_PASSWORD or --password-stdin',
  pass: 'SMS_PASSWORD or --password-stdin',
  'new-password': '--new-password-stdin',
  newpwd: '--new-password-stdin',
};

/**
 * parseArgs in its lenient mode, then our own checks on its tokens: Node's strict messages
 * ("To specify a positional argument starting with a '-'…") explain parseArgs, not `sms`.
 * A message names the flag as typed, never its value (it may be a password).
 */
function parseFlags(
  command: CommandName,
  args: string[],
): { values: Flags; positionals: string[] } {
  const options: Options = { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[command] };
  const { values, positionals, tokens } = parseArgs({
    args,
    options,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const see = `see: sms ${command} --help`;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const flag = token.rawName;
    const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!option) {
      const instead = PASSWORD_FLAGS[token.name.toLowerCase()];
      if (instead !== undefined)
        throw usageError(
          `${flag} is not an option: a password on the command line shows up in ps and shell history; use ${instead}`,
        );
      throw usageError(`unknown option ${flag} for sms ${command} (${see})`);
    }
    if (option.type === 'boolean') {
      if (token.inlineValue) throw usageError(`${flag} takes no value (${see})`);
      continue;
    }
    if (token.value === undefined) throw usageError(`${flag} needs a value (${see})`);
    // `--to --content x`: the next flag is not a value. `--content "-50% today"` is.
    if (!token.inlineValue && (token.value.startsWith('--') || token.value === '-h')) {
      throw usageError(
        `${flag} needs a value, got the option ${token.value}; write ${flag}=${token.value.startsWith('--') ? '--…' : '-h'} if that is the value`,
      );
    }
  }
  return { values: values as Flags, positionals };
}

export function stringFlag(flags: Flags, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

/** A positive integer flag, with bounds; usage error otherwise. */
export function intFlag(
  flags: Flags,
  name: string,
  fallback: number,
  { min = 1, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim())) throw usageError(`--${name} must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max)
    throw usageError(`--${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}
