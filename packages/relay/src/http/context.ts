import type { RelayConfig } from '../config/schema.js';
import type { RelayLogger } from '../shared/logger.js';
import type { RelayMetrics } from '../shared/metrics.js';
import type { AccountPoller } from '../pull/poller.js';
import type { Store } from '../store/types.js';

/** What the relay's HTTP features (console, gateway) see of a running relay. */
export interface RelayContext {
  readonly config: RelayConfig;
  readonly logger: RelayLogger;
  readonly metrics: RelayMetrics;
  /** The open store; throws before start. */
  store(): Store;
  /** One per configured account, in config order (empty before start). */
  pollers(): readonly AccountPoller[];
  /** Tells the delivery loop new deliveries are due. */
  wakeDelivery(): void;
  /** Name resolution for callback hosts (`CreateRelayOptions.lookup`). */
  readonly lookup?: (hostname: string) => Promise<Array<{ address: string; family: number }>>;
}
