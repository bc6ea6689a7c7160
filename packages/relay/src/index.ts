export { secretsOf } from './config/secrets.js';
export { VERSION } from './shared/version.js';
export {
  createRelay,
  type CreateRelayOptions,
  type Relay,
  type RelayStatus,
} from './relay.js';
export { RelayConfigError, type ConfigIssue } from './shared/config-error.js';
export { ENV_PREFIX } from './config/env.js';
export { relayConfigJsonSchema } from './config/json-schema.js';
export { loadConfig, loadStoreConfig, parseConfig } from './config/load.js';
export {
  configWarnings,
  relayConfigSchema,
  type RelayConfig,
  type RelayConfigInput,
} from './config/schema.js';
export {
  DEFAULT_RETRY_SCHEDULE,
  type DeliveryConfig,
  type TargetConfig,
} from './delivery/config.js';
export type { GatewayConfig } from './gateway/config.js';
export type { AccountConfig, JournalConfig } from './pull/config.js';
export type { StoreConfig } from './store/config.js';
export {
  REDACT_PATHS,
  jsonLogger,
  pinoLogger,
  type JsonLoggerOptions,
  type LogLevel,
  type PinoLoggerOptions,
  type RelayLogger,
} from './shared/logger.js';
export { RelayMetrics, type RelayGauges, type RelayMetricsOptions } from './shared/metrics.js';
export { openStore } from './store/open.js';
export { postgresStore, type PostgresStoreOptions } from './store/postgres.js';
export { sqliteStore, type SqliteStoreOptions } from './store/sqlite.js';
export type * from './store/types.js';
export type {
  CallbackResult,
  ClaimedCallback,
  ClaimedMessage,
  MessageQuery,
  MessageRecipient,
  MessageStatus,
  MessageStore,
  MessageTag,
  NewCallback,
  NewMessage,
  RecipientStatus,
  ReportUpdate,
  SendOutcome,
  StoredMessage,
} from './store/messages.js';
