import type { RelayContext } from '../http/context.js';
import type { Route } from '../http/router.js';

/** The operations console: its page at `/` and its API under `/api/console`. */
export function consoleRoutes(_context: RelayContext): Route[] {
  return [];
}
