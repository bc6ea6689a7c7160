export {
  SmsChannelError,
  createSmsChannel,
  type SmsChannel,
  type SmsChannelClient,
  type SmsChannelMessage,
  type SmsChannelOptions,
  type SmsChannelResult,
} from './channel.js';
