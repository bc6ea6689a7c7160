export {
  SmsClient,
  type FetchRepliesOptions,
  type FetchReportsOptions,
  type PollOptions,
  type SmsClientOptions,
} from './client.js';
export type {
  BatchChunk,
  BatchChunkFailure,
  BatchChunkSuccess,
  BatchProgress,
  SendBatchInput,
  SendBatchResult,
} from './batch.js';
export {
  SmsError,
  isSmsError,
  maskErrorSecrets,
  toSmsError,
  validationError,
  type SmsAction,
  type SmsErrorCode,
  type SmsErrorOptions,
  type SmsRawResponse,
  type RouteAttempt,
} from './errors.js';
export {
  FAILOVER_RULES,
  countsAgainstAccount,
  failoverDecision,
  type FailoverDecision,
  type FailoverOptions,
  type FailoverRule,
} from './failover.js';
export {
  CircuitBreaker,
  type BreakerOptions,
  type BreakerState,
  type BreakerView,
  type CircuitBreakerHooks,
} from './breaker.js';
export {
  SmsRouter,
  createSmsRouter,
  type AccountBalance,
  type AccountBreaker,
  type AccountReply,
  type AccountReport,
  type RoutableClient,
  type RoutedSendResult,
  type SmsRouterAccount,
  type SmsRouterOptions,
  type SmsRouterStrategy,
  type SmsSender,
} from './router.js';
export type { SmsLogger } from './logger.js';
export { type MaskOptions, SECRET_MASK, maskSecrets, secretVariants } from './secrets.js';
export type { RetryOptions } from './retry.js';
export type { ResponseSink } from './transport.js';
export type * from './types.js';
export {
  KEYWORD_SEPARATOR,
  PULL_ERRORS,
  PayInfo,
  PlatformMessage,
  ReturnStatus,
  codeForMessage,
  illegalKeywordMessage,
  parseKeywordList,
  pullErrorByCode,
  pullErrorByNumber,
  type PlatformErrorCode,
} from './messages.js';
export {
  decodeBytes,
  decodeForm,
  decodeResponse,
  detectCharset,
  encodeForm,
  encodeFormValue,
  encodeText,
  findGbkUnencodable,
} from './charset.js';
export {
  isValidMobile,
  normalizeMobile,
  parseMobiles,
  partitionMobiles,
  splitMobiles,
  type MobilePartition,
} from './mobile.js';
export {
  MULTI_SEGMENT_LENGTH,
  SINGLE_SEGMENT_LENGTH,
  applySignature,
  contentLength,
  countSegments,
  hasSignature,
} from './segments.js';
export {
  SEND_TIME_PAST_TOLERANCE_MS,
  formatShanghai,
  parseShanghai,
  toSendTime,
} from './time.js';
export {
  Paths,
  buildBalanceRequest,
  buildChangePasswordRequest,
  buildCheckKeywordRequest,
  buildRepliesRequest,
  buildReportsRequest,
  buildSendRequest,
  excerptOf,
  parseBalanceResponse,
  parseChangePasswordResponse,
  parseCheckKeywordResponse,
  parseRepliesResponse,
  parseReportsResponse,
  parseSendResponse,
  prepareSend,
  readFields,
  readReturnSms,
  resolveWire,
  signRequest,
  signTimestamp,
  type PreparedSend,
  type WireOptions,
} from './protocol.js';
export { readXml, readXmlPartial, type XmlElement } from './xml.js';
export {
  type SignWebhookOptions,
  type SmsReplyWebhookData,
  type SmsReportWebhookData,
  type SmsWebhookEvent,
  type SmsWebhookEventType,
  type VerifyWebhookOptions,
  MIN_WEBHOOK_SECRET_BYTES,
  WebhookVerificationError,
  type WebhookVerificationErrorCode,
  assertWebhookSecret,
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  webhookHeaders,
} from './webhooks.js';
