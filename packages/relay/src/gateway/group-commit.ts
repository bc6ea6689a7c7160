interface Waiting<In, Out> {
  item: In;
  resolve: (answer: Out) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items that arrive while a commit is in flight share the next one (one
 * transaction, one fsync, for all of them). `add` resolves with an item's answer only once
 * the commit that holds it has committed. A commit of several items that fails is tried
 * again item by item, so one item the store refuses fails alone, not its neighbours.
 */
export class GroupCommit<In, Out> {
  private waiting: Array<Waiting<In, Out>> = [];
  private readonly committing = new Set<Promise<void>>();
  private scheduled = false;
  /** Set while the waiting items gather (fewer than `gather`): starts their commit anyway. */
  private gatherTimer: NodeJS.Timeout | undefined;
  /** When the oldest waiting item came (ms, monotonic). */
  private oldestAt = 0;
  private readonly maxItems: number;
  private readonly parallel: number;
  private readonly gather: number;
  private readonly gatherMs: number;

  /**
   * `commit`: stores the items in one transaction, answering each in order.
   * `maxItems`: the most items one commit takes. `parallel`: commits in flight at once (1 for
   * SQLite, whose commits run one after another anyway; more where a commit is mostly a wait
   * on round trips, as on PostgreSQL). `gather`: a commit waits until this many items are
   * there, or until the oldest has waited `gatherMs` (by default it starts on the next turn
   * with what came): for items that come one by one and nothing waits on, as a sender's
   * outcomes, where each commit costs about as much for one item as for ten.
   */
  constructor(
    private readonly commit: (items: In[]) => Promise<Out[]>,
    options: { maxItems?: number; parallel?: number; gather?: number; gatherMs?: number } = {},
  ) {
    this.maxItems = options.maxItems ?? 1000;
    this.parallel = Math.max(1, options.parallel ?? 1);
    this.gather = Math.max(1, Math.min(options.gather ?? 1, this.maxItems));
    this.gatherMs = options.gatherMs ?? 0;
  }

  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      if (this.waiting.length === 0) this.oldestAt = performance.now();
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every item added so far is committed (or failed). */
  async settled(): Promise<void> {
    while (this.committing.size > 0 || this.waiting.length > 0 || this.scheduled) {
      if (this.committing.size === 0 && !this.scheduled) this.startSoon();
      await (this.committing.size > 0
        ? Promise.all(this.committing)
        : new Promise((resolve) => setImmediate(resolve)));
    }
  }

  private schedule(): void {
    if (this.committing.size >= this.parallel || this.scheduled) return;
    const waited = performance.now() - this.oldestAt;
    if (this.waiting.length < this.gather && waited < this.gatherMs) {
      this.gatherTimer ??= setTimeout(() => {
        this.gatherTimer = undefined;
        this.schedule();
      }, this.gatherMs - waited);
      return;
    }
    this.startSoon();
  }

  private startSoon(): void {
    if (this.scheduled) return;
    clearTimeout(this.gatherTimer);
    this.gatherTimer = undefined;
    this.scheduled = true;
    // After this turn of the event loop: the requests read in the same turn join this commit.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.committing.size >= this.parallel || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.maxItems);
    this.oldestAt = performance.now();
    const committing: Promise<void> = this.run(batch).finally(() => {
      this.committing.delete(committing);
      if (this.waiting.length > 0) this.schedule();
    });
    this.committing.add(committing);
  }

  private async run(batch: Array<Waiting<In, Out>>): Promise<void> {
    try {
      const answers = await this.commit(batch.map((w) => w.item));
      for (const [i, w] of batch.entries()) w.resolve(answers[i]!);
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
    }
    for (const w of batch) {
      try {
        w.resolve((await this.commit([w.item]))[0]!);
      } catch (error) {
        w.reject(error);
      }
    }
  }
}
