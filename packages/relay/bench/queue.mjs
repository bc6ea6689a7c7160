// The gateway queue as the benches fill and drain it directly (`MessageStore`, no HTTP): messages
// numbered 0 to n - 1, one recipient each, of account `main`.
import { randomBytes } from 'node:crypto';

const queuedMessage = (i, now) => ({
  id: `sms_${String(i).padStart(26, '0')}`,
  idempotencyKey: null,
  requestHash: randomBytes(32).toString('hex'),
  account: 'main',
  route: [],
  mobiles: [`13${String(i).padStart(9, '0')}`],
  content: `【测试】${randomBytes(8).toString('hex')}`,
  sendAt: null,
  extNo: '',
  metadata: null,
  callbackUrl: null,
  expiresAt: null,
  now,
});

/** Queues `total` messages (numbers 0 to total - 1), `perCommit` to an `enqueueMany`. */
export async function enqueueAll(messages, total, perCommit) {
  for (let i = 0; i < total; i += perCommit) {
    const now = Date.now();
    const batch = [];
    for (let j = i; j < Math.min(total, i + perCommit); j++) batch.push(queuedMessage(j, now));
    await messages.enqueueMany(batch);
  }
}

/**
 * The store's part of sending the queue, until it is empty: claims of `claim`, their outcomes
 * recorded sent `record` at a time (by default each claim's as it comes).
 */
export async function claimAndRecordSent(messages, claim, record = claim) {
  const pending = [];
  let taskId = 1e15;
  for (;;) {
    const claimed = await messages.claim({
      account: 'main',
      limit: claim,
      now: Date.now(),
      leaseMs: 60_000,
    });
    for (const m of claimed) {
      pending.push({ id: m.id, lease: m.lease, outcome: { kind: 'sent', taskId: `${taskId++}` } });
    }
    while (pending.length > 0 && (pending.length >= record || claimed.length < claim)) {
      await messages.recordMany(pending.splice(0, record), Date.now());
    }
    if (claimed.length === 0) return;
  }
}
