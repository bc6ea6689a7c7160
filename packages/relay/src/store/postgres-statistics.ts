/**
 * Keeps PostgreSQL's statistics of `deliveries` fresh while the relay fills it. The claim asks
 * for the first due rows in `next_attempt_at` order; with statistics taken when the table was
 * empty (or never taken: autovacuum looks once a minute), the planner expects a handful of
 * due rows and reads and sorts ALL of them for every claim instead of walking the index to
 * the first few. Measured on a fresh schema, 20,000 due deliveries claimed 64 at a time: 200+
 * against 40-55 µs of PostgreSQL CPU per claimed row (packages/relay/bench/README.md).
 *
 * So the store analyzes the table itself once the rows it added since its last analysis reach
 * a tenth of the table (at least `MIN_ROWS`), one analysis at a time, in the background:
 * an `ANALYZE` samples a bounded number of rows whatever the table's size, and does not block
 * writers.
 */
const MIN_ROWS = 1000;
const SHARE = 0.1;

export interface StatisticsKeeper {
  /** `rows` deliveries were inserted. */
  added(rows: number): void;
  /** Waits for an analysis in flight (before the pool closes). */
  settle(): Promise<void>;
}

/** `analyze` runs `ANALYZE` and answers the table's estimated row count after it. */
export function statisticsKeeper(analyze: () => Promise<number>): StatisticsKeeper {
  let since = 0;
  let threshold = MIN_ROWS;
  let running: Promise<void> | undefined;
  return {
    added(rows) {
      since += rows;
      if (since < threshold || running) return;
      since = 0;
      running = analyze()
        .then(
          (estimate) => {
            threshold = Math.max(MIN_ROWS, Math.round(estimate * SHARE));
          },
          // A failed analysis changes nothing for correctness: the next burst tries again.
          () => {},
        )
        .finally(() => {
          running = undefined;
        });
    },
    async settle() {
      await running;
    },
  };
}
