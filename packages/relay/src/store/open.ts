import type { StoreConfig } from '../config.js';
import { postgresStore } from './postgres.js';
import { sqliteStore } from './sqlite.js';
import type { Store } from './types.js';

/** Opens the store a config names (not yet initialised: call `init()`). */
export function openStore(config: StoreConfig): Promise<Store> {
  return 'sqlite' in config
    ? sqliteStore({ path: config.sqlite })
    : postgresStore({
        connectionString: config.postgres,
        ...(config.schema ? { schema: config.schema } : {}),
      });
}
