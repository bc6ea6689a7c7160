import type { RelayLogger } from '../shared/logger.js';
import type { Store } from '../store/types.js';
import { messageView } from './routes.js';

const ACTIONS = ['show', 'resend', 'fail'] as const;

/**
 * `sms-relay message show|resend|fail --id sms_…`: the operator's side of an `unknown` send
 * without the HTTP token (the same store operations as `POST /v1/messages/:id/resend|fail`).
 * Exit 0 done, 1 not found or not allowed in its status, 2 a usage mistake.
 */
export async function messageCommand(
  store: Store,
  args: readonly string[],
  options: { id?: string | undefined; json: boolean },
  out: { stdout(text: string): void; stderr(text: string): void },
  /** Where an operator's resend or fail is logged, as `POST /v1/messages/:id/resend|fail` logs it. */
  logger?: RelayLogger,
): Promise<number> {
  const action = args[0] ?? 'show';
  if (!(ACTIONS as readonly string[]).includes(action) || args.length > 1) {
    out.stderr(`sms-relay: message ${args.join(' ')}: use message show|resend|fail --id sms_…\n`);
    return 2;
  }
  if (!options.id) {
    out.stderr('sms-relay: message: --id sms_… is required\n');
    return 2;
  }
  const messages = store.messages;
  if (!messages) {
    out.stderr('sms-relay: this store has no message queue\n');
    return 2;
  }
  const found = await messages.get(options.id);
  if (!found) {
    out.stderr(`sms-relay: no message ${options.id}\n`);
    return 1;
  }
  if (action === 'show') {
    const view = messageView(found.message, found.recipients);
    if (options.json) out.stdout(`${JSON.stringify(view)}\n`);
    else {
      out.stdout(
        `${view.id}  ${view.status}  account=${view.account}  taskId=${view.taskId ?? '-'}  attempts=${view.attempts}` +
          `${view.error ? `  ${view.error.code}: ${view.error.message}` : ''}\n` +
          view.recipients
            .map((r) => `  ${r.mobile}  ${r.status}${r.code ? `  ${r.code}` : ''}\n`)
            .join(''),
      );
    }
    return 0;
  }
  const now = Date.now();
  const reason = 'failed by an operator (sms-relay message fail)';
  const result =
    action === 'resend'
      ? await messages.resend(options.id, now)
      : await messages.fail(options.id, reason, now);
  if (!result) {
    out.stderr(
      `sms-relay: a ${found.message.status} message cannot be ${action === 'resend' ? 'resent (only unknown, failed or expired)' : 'failed (only queued or unknown)'}\n`,
    );
    return 1;
  }
  // The same audit line as the HTTP route's: a resend is a second platform send, by decision.
  if (action === 'resend')
    logger?.warn('message resent by an operator', { id: result.id, via: 'sms-relay message' });
  else
    logger?.warn('message failed by an operator', {
      id: result.id,
      reason,
      via: 'sms-relay message',
    });
  out.stdout(`${result.id} ${result.status}\n`);
  return 0;
}
