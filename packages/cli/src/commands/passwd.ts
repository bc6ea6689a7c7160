import type { Context } from '../context.js';
import { ExitCode, usageError } from '../exit.js';
import { promptHidden } from '../prompt.js';

export async function passwdCommand(ctx: Context): Promise<number> {
  const { output, io } = ctx;
  // The current password first: with --password-stdin too, it is stdin's first line.
  const settings = await ctx.settings();
  let next: string;
  if (ctx.flags['new-password-stdin']) {
    next = (await ctx.stdinLines.next('--new-password-stdin')).trim();
  } else if (io.stdin.isTTY) {
    next = await promptHidden('New password: ', io.stdin, io.stderr);
    const again = await promptHidden('New password again: ', io.stdin, io.stderr);
    if (next !== again) throw usageError('the two passwords differ; nothing was changed');
  } else {
    throw usageError('no terminal to prompt on: pipe the new password with --new-password-stdin');
  }
  if (next === '') throw usageError('the new password is empty; nothing was changed');
  if (/[\r\n]/.test(next)) throw usageError('the new password holds a line break');
  output.addSecret(next);
  if (next === settings.password) output.warn('the new password is the same as the current one');
  const client = await ctx.client();
  const result = await client.changePassword(next);
  if (output.json) {
    output.printJson({ ok: true, message: result.message });
  } else {
    output.print(`${output.out.green('Password changed')} (${result.message}).`);
    output.note('Update SMS_PASSWORD or your config file: the old password no longer works.');
  }
  return ExitCode.OK;
}
