export {
  EXT_NO_HEADER,
  SEND_TIME_HEADER,
  SmsTransport,
  smsTransport,
  type SmsMailMessage,
  type SmsSentMessageInfo,
  type SmsTransportOptions,
} from './transport.js';
export {
  SmsTransportError,
  nodemailerCode,
  toTransportError,
  type NodemailerErrorCode,
  type SmsTransportErrorOptions,
} from './errors.js';
export { applySignature } from '@sms/core';
export {
  htmlToText,
  partitionRecipients,
  type RecipientPartition,
} from './mapping.js';
