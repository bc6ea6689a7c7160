import {
  type CheckKeywordResult,
  contentLength,
  countSegments,
  hasSignature,
  isSmsError,
} from '@sms/core';
import { stringFlag } from '../args.js';
import type { Context } from '../context.js';
import { ExitCode, usageError } from '../exit.js';
import { renderPairs } from '../output.js';

export async function checkCommand(ctx: Context): Promise<number> {
  const content = ctx.positionals[0] ?? stringFlag(ctx.flags, 'content');
  if (content === undefined || content.trim() === '')
    throw usageError('give the text to check: sms check "【Brand】text"');
  const client = await ctx.client();
  let result: CheckKeywordResult;
  try {
    result = await client.checkKeyword(content);
  } catch (error) {
    // A platform that answers the check in the send's failure form: still a verdict.
    if (!isSmsError(error) || error.code !== 'ILLEGAL_KEYWORD') throw error;
    result = { blocked: true, words: error.words, message: error.platformMessage ?? '' };
  }
  const length = contentLength(content);
  const segments = countSegments(content);
  const signature = hasSignature(content);
  const { output } = ctx;
  const exitCode = result.blocked ? ExitCode.REFUSED : ExitCode.OK;
  if (output.json) {
    output.printJson({
      // As every --json document: `ok` is false when the exit code is not 0 (3: blocked).
      ok: !result.blocked,
      ...(result.blocked ? { exitCode } : {}),
      blocked: result.blocked,
      words: result.words,
      message: result.message,
      length,
      segments,
      signature,
    });
    return exitCode;
  }
  const p = output.out;
  const verdict = result.blocked
    ? p.red(`blocked${result.words.length > 0 ? `: ${result.words.join(', ')}` : ''}`) +
      ` (${result.message})`
    : p.green('clean') + ` (${result.message})`;
  output.print(
    renderPairs(
      [
        ['keywords', verdict],
        ['length', `${length} characters, ${segments} segment${segments === 1 ? '' : 's'}`],
        [
          'signature',
          signature ? 'yes' : p.yellow('missing: carriers require 【Brand】 at the start or end'),
        ],
      ],
      p,
    ),
  );
  return exitCode;
}
