import type { Context } from '../context.js';
import { ExitCode } from '../exit.js';
import { renderPairs } from '../output.js';

export async function balanceCommand(ctx: Context): Promise<number> {
  const client = await ctx.client();
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
