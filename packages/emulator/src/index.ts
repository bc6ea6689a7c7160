export { startEmulator } from './emulator.js';
export {
  DEFAULT_KEYWORDS,
  DEFAULT_SQL_INJECTION_PATTERNS,
  DEFAULT_STATUS_NUM,
} from './platform.js';
export type {
  AccountConfig,
  AccountRef,
  AccountState,
  AccountUpdate,
  AutoReply,
  Emulator,
  EmulatorCharset,
  EmulatorOptions,
  Fault,
  FaultType,
  InjectReplyInput,
  InjectReportInput,
  MessageReport,
  PayType,
  Quirks,
  RecordedRequest,
  ReplyRecord,
  ReportOptions,
  SentMessage,
  SettleOptions,
  StatusReportRecord,
} from './types.js';
