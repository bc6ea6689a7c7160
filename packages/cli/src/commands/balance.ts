import type { AccountBalance } from '@sms/core';
import type { Context } from '../context.js';
import { describeError, ExitCode, exitCodeFor, worstExitCode } from '../exit.js';
import { renderPairs, renderTable } from '../output.js';

export async function balanceCommand(ctx: Context): Promise<number> {
  const client = await ctx.client();
  if (client.balances) return balancesCommand(ctx, await client.balances());
  const balance = await client.balance();
  const { output } = ctx;
  if (output.json) {
    output.printJson({ ok: true, ...balance });
    return ExitCode.OK;
  }
  output.print(
    renderPairs(
      [
        ['pay type', `${balance.payType} (${balance.payInfo})`],
        ['balance', `${balance.overage} points`],
        // The platform's sendTotal: points recharged on a prepaid account, sent on a postpaid one.
        [
          balance.payType === 'prepaid' ? 'recharged total' : 'sent total',
          String(balance.sendTotal),
        ],
      ],
      output.out,
    ),
  );
  return ExitCode.OK;
}

/** Several accounts: one row each; an account that failed shows its error and sets the exit code. */
function balancesCommand(ctx: Context, balances: AccountBalance[]): number {
  const { output } = ctx;
  const exitCode = worstExitCode(
    balances.flatMap(({ error }) => (error ? [exitCodeFor(error)] : [])),
  );
  if (output.json) {
    output.printJson({
      ok: exitCode === ExitCode.OK,
      accounts: balances.map(({ account, balance, error }) => {
        if (!error) return { account, ...balance };
        const { code, message } = describeError(error);
        return { account, error: { code, message } };
      }),
    });
    return exitCode;
  }
  const p = output.out;
  output.print(
    renderTable(
      balances,
      [
        { header: 'account', value: (row) => row.account },
        { header: 'pay type', value: (row) => row.balance?.payType ?? '' },
        {
          header: 'balance',
          value: (row) => (row.balance ? `${row.balance.overage} points` : ''),
          align: 'right',
        },
        {
          header: 'status',
          value: (row) =>
            row.error
              ? `[${describeError(row.error).code}] ${describeError(row.error).message}`
              : 'ok',
          paint: (text, row) => (row.error ? p.red(text) : p.green(text)),
        },
      ],
      p,
    ),
  );
  return exitCode;
}
