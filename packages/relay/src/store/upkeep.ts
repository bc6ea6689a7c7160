import type { RelayLogger } from '../shared/logger.js';
import type { Store } from './types.js';

/**
 * The relay's own upkeep of its store: taking a dead predecessor's claims back at start, and
 * deleting fully delivered events past their retention.
 */

/** Frees what a predecessor on this store held when it died (its grace period is waited for). */
export async function takeOverPredecessor(
  store: Store,
  waitMs: number,
  logger: RelayLogger,
): Promise<void> {
  if (!store.takeOver) return;
  const taken = await store.takeOver({ now: Date.now(), waitMs });
  if (taken.deliveries + taken.callbacks > 0) {
    logger.warn('the previous relay on this store stopped mid-work: its claims are free again', {
      previousPid: taken.previousPid,
      deliveries: taken.deliveries,
      callbacks: taken.callbacks,
    });
  }
}

const PRUNE_BATCH = 5000;

/** Deletes fully delivered events older than `retentionMs`, a batch at a time, every so often. */
export function startPruning(
  store: Store,
  retentionMs: number,
  logger: RelayLogger,
): { stop(): Promise<void> } {
  if (retentionMs <= 0) return { stop: async () => {} };
  let stopped = false;
  let pruning: Promise<void> | undefined;
  async function prune(): Promise<void> {
    let total = 0;
    try {
      for (;;) {
        const removed = await store.prune({
          before: Date.now() - retentionMs,
          limit: PRUNE_BATCH,
        });
        total += removed;
        if (removed < PRUNE_BATCH || stopped) break;
      }
      if (total > 0) logger.info('pruned delivered events', { count: total });
    } catch (error) {
      logger.warn('pruning failed', { error });
    }
  }
  const timer = setInterval(
    () => {
      pruning ??= prune().finally(() => {
        pruning = undefined;
      });
    },
    Math.max(1000, Math.min(retentionMs / 10, 3_600_000)),
  );
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await pruning;
    },
  };
}
