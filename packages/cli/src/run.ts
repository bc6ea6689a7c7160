import { type CommandName, parseCommandLine } from './args.js';
import { balanceCommand } from './commands/balance.js';
import { checkCommand } from './commands/check.js';
import { passwdCommand } from './commands/passwd.js';
import { pullCommand } from './commands/pull.js';
import { sendCommand } from './commands/send.js';
import { type Context, createContext, type RunIO } from './context.js';
import { ExitCode, exitCodeFor } from './exit.js';
import { helpText } from './help.js';
import { Output, shouldColor } from './output.js';

declare const __SMS_CLI_VERSION__: string | undefined;

/** The version printed by `sms --version`: package.json's, stamped in at build time. */
export const VERSION: string =
  typeof __SMS_CLI_VERSION__ === 'string' ? __SMS_CLI_VERSION__ : '0.0.0-dev';

const COMMANDS: Record<CommandName, (ctx: Context) => Promise<number>> = {
  send: sendCommand,
  balance: balanceCommand,
  check: checkCommand,
  reports: (ctx) => pullCommand(ctx, 'reports'),
  replies: (ctx) => pullCommand(ctx, 'replies'),
  passwd: passwdCommand,
};

/**
 * Runs one `sms` command line and resolves to its exit code. Never throws: errors are
 * printed (secret-free) and mapped to the documented exit codes.
 */
export async function run(argv: readonly string[], io: RunIO): Promise<number> {
  const json = argv.includes('--json');
  const output = new Output({
    stdout: io.stdout,
    stderr: io.stderr,
    json,
    color: shouldColor(io.stdout, io.env),
    colorErr: shouldColor(io.stderr, io.env),
  });
  output.addSecret(io.env['SMS_PASSWORD']);
  let dispose: (() => Promise<void>) | undefined;
  let code: number = ExitCode.INTERNAL;
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.kind === 'help') {
      io.stdout.write(helpText(parsed.command));
      return ExitCode.OK;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(`${VERSION}\n`);
      return ExitCode.OK;
    }
    const ctx = createContext(parsed.command, parsed.flags, parsed.positionals, output, io);
    dispose = ctx.dispose;
    code = await COMMANDS[parsed.command](ctx);
    return code;
  } catch (error) {
    code = exitCodeFor(error);
    output.error(error, code);
    if (code === ExitCode.INTERNAL && error instanceof Error && io.env['SMS_DEBUG']) {
      output.note(error.stack ?? '');
    }
    return code;
  } finally {
    // Interrupted: do not wait for abandoned requests to drain (the caller exits at once).
    if (code !== ExitCode.INTERRUPTED) await dispose?.().catch(() => {});
  }
}
