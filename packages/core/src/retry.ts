export interface RetryOptions {
  /** Extra attempts after the first (default 2). */
  retries?: number;
  /** First backoff delay in ms (default 200); doubles each attempt, with full jitter. */
  minDelayMs?: number;
  /** Upper bound of one delay in ms (default 5000). */
  maxDelayMs?: number;
}

export interface RetryPolicy {
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export function retryPolicy(options: RetryOptions | false | undefined): RetryPolicy {
  if (options === false) return { retries: 0, minDelayMs: 0, maxDelayMs: 0 };
  return {
    retries: options?.retries ?? 2,
    minDelayMs: options?.minDelayMs ?? 200,
    maxDelayMs: options?.maxDelayMs ?? 5000,
  };
}

/** Full jitter: a random delay between 0 and the exponential bound. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const bound = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** attempt);
  return Math.round(random() * bound);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
