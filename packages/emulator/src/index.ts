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
  PayType,
  Quirks,
  RecordedRequest,
  ReplyRecord,
  ReportOptions,
  SentMessage,
  StatusReportRecord,
} from './types.js';
