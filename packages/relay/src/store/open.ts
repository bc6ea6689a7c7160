import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { RelayConfigError } from '../shared/config-error.js';
import type { StoreConfig } from './config.js';
import { postgresStore } from './postgres.js';
import { sqliteStore } from './sqlite.js';
import type { Store } from './types.js';

/**
 * Where a store config points, for messages: the SQLite path, or `host:port/database` of a
 * PostgreSQL URL (never its user or password).
 */
export function describeStore(config: StoreConfig): string {
  if ('sqlite' in config) return config.sqlite;
  try {
    const url = new URL(config.postgres);
    const host = url.hostname || process.env['PGHOST'] || 'localhost';
    const database = decodeURIComponent(url.pathname.slice(1));
    return `${host}:${url.port || process.env['PGPORT'] || '5432'}${database ? `/${database}` : ''}`;
  } catch {
    return 'the PostgreSQL server';
  }
}

/**
 * A store that cannot be opened (a folder that does not exist, a server on another port, a
 * wrong database name) is a configuration error naming the field and the place, with the
 * driver's own message; never the URL itself, which may carry a password.
 */
function openError(config: StoreConfig, error: unknown): RelayConfigError {
  const field = 'sqlite' in config ? 'store.sqlite' : 'store.postgres';
  const reason = error instanceof Error ? error.message : String(error);
  return new RelayConfigError(field, `cannot open ${describeStore(config)}: ${reason}`, {
    cause: error,
  });
}

export interface OpenStoreOptions {
  /**
   * Refuse a SQLite file that does not exist instead of creating an empty one (true for the
   * CLI's inspecting commands: a mistyped path must not report an empty store). Default false.
   */
  mustExist?: boolean;
}

/** Opens the store a config names (not yet initialised: call `init()`). */
export async function openStore(
  config: StoreConfig,
  options: OpenStoreOptions = {},
): Promise<Store> {
  if (
    options.mustExist &&
    'sqlite' in config &&
    config.sqlite !== ':memory:' &&
    !existsSync(config.sqlite) &&
    // A missing folder: opening fails without creating anything, and its error says so.
    existsSync(dirname(config.sqlite))
  ) {
    throw new RelayConfigError(
      'store.sqlite',
      `${config.sqlite} does not exist (sms-relay run creates it; check the path)`,
    );
  }
  let store: Store;
  try {
    store =
      'sqlite' in config
        ? await sqliteStore({ path: config.sqlite })
        : await postgresStore({
            connectionString: config.postgres,
            ...(config.schema ? { schema: config.schema } : {}),
          });
  } catch (error) {
    throw openError(config, error);
  }
  const init = store.init.bind(store);
  store.init = async () => {
    try {
      await init();
    } catch (error) {
      // Nothing else will use it: a pool left open would keep the process alive.
      await store.close().catch(() => {});
      throw openError(config, error);
    }
  };
  return store;
}
