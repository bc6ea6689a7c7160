import type { Reply, StatusReport } from '@sms/core';
import type { Settlement } from '../pull/answer.js';
import type { RelayLogger } from '../shared/logger.js';
import type { Correlation } from '../pull/poller.js';
import type { MessageStore, MessageTag } from '../store/messages.js';

export interface CorrelatorOptions {
  messages: MessageStore;
  logger: RelayLogger;
  /**
   * How long a report whose number has a message `sending` right now waits for that send's
   * taskId to be recorded (the platform may report before the send's answer is committed).
   * Default 3000 ms.
   */
  waitMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Tags a pulled answer's records with the gateway message they belong to: a report by its
 * `(taskId, mobile)` (and the number's status is updated from it), a reply by the last
 * message sent to its number. Events to a message's `callbackUrl` are queued once the
 * events are stored (idempotent on event id, so a recovery queues nothing twice).
 */
export function correlator(options: CorrelatorOptions) {
  const { messages } = options;
  const waitMs = options.waitMs ?? 3000;

  return async (settlement: Settlement): Promise<Correlation | undefined> => {
    const { head } = settlement;
    let tags: Array<MessageTag | undefined>;
    if (head.kind === 'reports') {
      const reports = settlement.records as readonly StatusReport[];
      const updates = reports.map((r) => ({
        taskId: r.taskId,
        mobile: r.mobile,
        delivered: r.status === 'delivered',
        code: r.errorCode,
        at: r.receivedAt.getTime(),
      }));
      // A report can overtake the commit of its own send's answer. Asked first (one query for
      // the whole answer), "is any of these numbers being sent right now?": when none is, one
      // look finds every report's message (a send recorded before the look has its taskId),
      // where two looks per answer were the rule before.
      const anySending = await messages.sendingTo(
        head.account,
        updates.map((u) => u.mobile),
      );
      tags = await messages.applyReports(head.account, updates, Date.now());
      if (anySending) {
        // While one of its numbers has a message `sending`, look again. The last look comes
        // after a `sendingTo` that said no, so a send recorded in between is found too.
        const deadline = Date.now() + waitMs;
        for (;;) {
          const missing = updates.filter((_, i) => tags[i] === undefined);
          if (missing.length === 0) break;
          const waiting =
            Date.now() < deadline &&
            (await messages.sendingTo(
              head.account,
              missing.map((u) => u.mobile),
            ));
          if (waiting) await sleep(50);
          const again = await messages.applyReports(head.account, missing, Date.now());
          let j = 0;
          tags = tags.map((tag) => tag ?? again[j++]);
          if (!waiting) break;
        }
      }
    } else {
      const replies = settlement.records as readonly Reply[];
      tags = await messages.lastSentTo(
        head.account,
        replies.map((r) => r.mobile),
      );
    }
    if (tags.every((tag) => tag === undefined)) return undefined;
    return {
      tags,
      async stored(events) {
        const callbacks = events.flatMap((event, i) => {
          const url = tags[i]?.callbackUrl;
          return url ? [{ eventId: event.id, url, body: event.body }] : [];
        });
        await messages.enqueueCallbacks(callbacks, Date.now());
      },
    };
  };
}
