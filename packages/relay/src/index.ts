export { secretsOf } from './shared/secrets.js';
export { VERSION } from './shared/version.js';
export {
  createRelay,
  type CreateRelayOptions,
  type Relay,
  type RelayStatus,
} from './relay.js';
export {
  DEFAULT_RETRY_SCHEDULE,
  ENV_PREFIX,
  RelayConfigError,
  configWarnings,
  loadConfig,
  loadStoreConfig,
  parseConfig,
  relayConfigJsonSchema,
  relayConfigSchema,
  type AccountConfig,
  type ConfigIssue,
  type DeliveryConfig,
  type GatewayConfig,
  type JournalConfig,
  type RelayConfig,
  type RelayConfigInput,
  type StoreConfig,
  type TargetConfig,
} from './shared/config.js';
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
