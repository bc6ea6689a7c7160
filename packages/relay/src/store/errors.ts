/**
 * A store operation that failed (database unreachable, connection killed, file locked, a
 * constraint): says which store and operation, keeps the driver's `code` (`SQLITE_BUSY`,
 * `57P01`, `ECONNREFUSED`, …) and the driver's error as `cause`.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: string | undefined;

  constructor(
    readonly store: 'sqlite' | 'postgres',
    readonly operation: string,
    cause: unknown,
  ) {
    const code = codeOf(cause);
    super(`[sms] ${store} store: ${operation} failed: ${describe(cause, code)}`, { cause });
    this.code = code;
  }
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  const inner = (error as { errors?: unknown } | null)?.errors;
  return Array.isArray(inner) ? codeOf(inner[0]) : undefined;
}

function describe(error: unknown, code: string | undefined): string {
  // Node's AggregateError (every address of `localhost` refused) has an empty message.
  const message = error instanceof Error ? error.message : String(error);
  if (!message) return code ?? (error instanceof Error ? error.name : 'unknown error');
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

/** Runs one store operation; whatever it throws comes out as a `StoreError`. */
export async function guard<T>(
  store: 'sqlite' | 'postgres',
  operation: string,
  work: () => T | Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof StoreError ? error : new StoreError(store, operation, error);
  }
}

/** Every event must carry its id (a JavaScript caller may have left it out). */
export function checkEventIds(events: readonly { id: string }[]): void {
  for (const event of events) {
    if (typeof event.id !== 'string' || event.id.length === 0) {
      throw new TypeError('[sms] every event of a batch needs its id (a non-empty string)');
    }
  }
}
