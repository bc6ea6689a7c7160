import type {
  ChannelTypeEnum,
  ISMSEventBody,
  ISendMessageSuccessResponse,
  ISmsOptions,
  ISmsProvider,
  SmsEventStatusEnum,
} from '@novu/stateless';
import { validationError } from '@sms/core';
import type { SmsChannel } from './channel.js';

export interface NovuSmsProviderOptions {
  /** Provider id registered with Novu. Default `sms-ruanwei`. */
  id?: string;
}

/** A delivery report as `@sms/webhook-relay` posts it. */
export interface SmsReportEvent {
  type: 'sms.report';
  timestamp?: string;
  data: {
    taskId: string;
    mobile: string;
    status: 'delivered' | 'failed';
    /** The gateway's raw code (`DELIVRD`, `UNDELIV`, …). */
    errorCode?: string;
    statusCode?: number;
    /** ISO 8601, or a `Date` when the event did not go through JSON. */
    receivedAt?: string | Date;
    receiveTime?: string;
    extNo?: string;
  };
}

// Values of @novu/stateless's enums, written out so this module needs the package for types only.
const SMS: ChannelTypeEnum.SMS = 'sms' as ChannelTypeEnum.SMS;
const DELIVERED = 'delivered' as SmsEventStatusEnum.DELIVERED;
const FAILED = 'failed' as SmsEventStatusEnum.FAILED;

function reportEvents(body: unknown): SmsReportEvent[] {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return [];
    }
  }
  const list = Array.isArray(value) ? value : [value];
  return list.filter(
    (event): event is SmsReportEvent =>
      event !== null &&
      typeof event === 'object' &&
      event.type === 'sms.report' &&
      event.data !== null &&
      typeof event.data === 'object' &&
      typeof event.data.taskId === 'string' &&
      event.data.taskId !== '',
  );
}

function isoDate(value: string | Date | undefined, fallback: string | undefined): string {
  const date = value instanceof Date ? value : new Date(value ?? fallback ?? Number.NaN);
  return Number.isNaN(date.getTime()) ? new Date().toISOString() : date.toISOString();
}

/**
 * A Novu SMS provider (`ISmsProvider` of `@novu/stateless`). `sendMessage` returns the
 * platform's task ID as the message identifier; `getMessageId` and `parseEventBody` read the
 * `sms.report` webhooks of `@sms/webhook-relay` into Novu's SMS event statuses.
 */
export class SmsNovuProvider implements ISmsProvider {
  readonly id: string;
  readonly channelType: ChannelTypeEnum.SMS = SMS;

  constructor(
    private readonly channel: SmsChannel,
    options: NovuSmsProviderOptions = {},
  ) {
    this.id = options.id ?? 'sms-ruanwei';
  }

  async sendMessage(options: ISmsOptions): Promise<ISendMessageSuccessResponse> {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw validationError('input', 'sendMessage needs { to, content }', 'send');
    }
    const result = await this.channel.send({
      to: options.to,
      text: options.content,
      id: options.id,
    });
    return { id: result.id, ids: result.ids, date: result.date.toISOString() };
  }

  /** Task IDs of the delivery reports in a webhook body (one event or a list). */
  getMessageId(body: unknown): string[] {
    return [...new Set(reportEvents(body).map((event) => event.data.taskId))];
  }

  /** The status of message `identifier` (a task ID): `delivered` or `failed`, with the gateway code as `response`. */
  parseEventBody(body: unknown, identifier: string): ISMSEventBody | undefined {
    const event = reportEvents(body).find((candidate) => candidate.data.taskId === identifier);
    if (!event) return undefined;
    const { data } = event;
    return {
      status: data.status === 'delivered' ? DELIVERED : FAILED,
      date: isoDate(data.receivedAt, event.timestamp),
      externalId: data.taskId,
      response: data.errorCode,
      row: JSON.stringify(event),
    };
  }
}

/** `novu.registerProvider(novuSmsProvider(createSmsChannel(client)))`. */
export function novuSmsProvider(
  channel: SmsChannel,
  options?: NovuSmsProviderOptions,
): SmsNovuProvider {
  return new SmsNovuProvider(channel, options);
}
