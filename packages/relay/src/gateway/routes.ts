import type { RelayContext } from '../http/context.js';
import type { Route } from '../http/router.js';

/** The sending gateway: `/v1/messages` and `/v1/openapi.json`. */
export function gatewayRoutes(_context: RelayContext): Route[] {
  return [];
}
