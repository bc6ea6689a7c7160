import {
  type Reply,
  SmsError,
  type SmsWebhookEventType,
  type StatusReport,
  decodeResponse,
  excerptOf,
  parseRepliesResponse,
  parseReportsResponse,
} from '@sms/core';
import { eventIdsOf } from '../shared/ids.js';
import type { JournalEntry, JournalHead, PullKind } from './journal.js';
import type { NewEvent } from '../store/types.js';

/** What one pull answer comes to: its complete records, and what to quarantine if anything. */
export interface Settlement {
  head: JournalHead;
  records: ReadonlyArray<StatusReport | Reply>;
  /** The raw answer, kept when some of it could not be read (it may hold records). */
  quarantine?: { body: Buffer; reason: string } | undefined;
  /** Why the answer was not a plain list of records: a refusal, an error status, a bad body. */
  failure?: SmsError | undefined;
}

export const eventTypeOf = (kind: PullKind): SmsWebhookEventType =>
  kind === 'reports' ? 'sms.report' : 'sms.reply';

const RECORD_TAG = /<\s*(statusbox|callbox)\b/i;

/**
 * Whether a failed pull's bytes deserve quarantine: anything not wholly explained by a
 * platform refusal (cut off, unreadable, over a limit, records beside an error element,
 * an error page that mentions records). An empty body holds nothing.
 */
export function quarantineReason(error: SmsError, body: Buffer): string | undefined {
  if (body.length === 0) return undefined;
  const text = decodeResponse(body, error.response?.contentType, 'utf-8');
  if (text.trim() === '') return undefined;
  const transport =
    error.code === 'PROTOCOL' ||
    error.code === 'UNKNOWN_OUTCOME' ||
    error.code === 'TIMEOUT' ||
    error.code === 'NETWORK';
  if (transport || error.records.length > 0 || RECORD_TAG.test(text)) return error.message;
  return undefined;
}

/** A failed read's settlement: the records it salvaged, and its bytes if they need keeping. */
function settlementOfFailure(head: JournalHead, failure: SmsError): Settlement {
  const body = failure.response?.body;
  const reason = body ? quarantineReason(failure, body) : undefined;
  return {
    head,
    records: failure.records,
    quarantine: body && reason ? { body, reason } : undefined,
    failure,
  };
}

/** Reads an answer (just pulled, or recovered from the journal) into what to commit and keep. */
export function settlementOfEntry(entry: JournalEntry, charset: 'utf-8' | 'gbk'): Settlement {
  const head: JournalHead = { ...entry };
  const text = decodeResponse(entry.body, entry.contentType, charset);
  const fetchedAt = new Date(entry.receivedAt);
  let failure: SmsError;
  if (entry.status < 200 || entry.status > 299) {
    failure = new SmsError(`HTTP ${entry.status}`, {
      code: 'HTTP',
      status: entry.status,
      excerpt: excerptOf(text),
    });
  } else {
    try {
      const records =
        entry.kind === 'reports'
          ? parseReportsResponse(text, fetchedAt)
          : parseRepliesResponse(text, fetchedAt);
      return { head, records };
    } catch (error) {
      if (!(error instanceof SmsError)) throw error;
      failure = error;
    }
  }
  failure.response = {
    status: entry.status,
    contentType: entry.contentType,
    body: entry.body,
    receivedAt: fetchedAt,
  };
  return settlementOfFailure(head, failure);
}

/** The gateway message a record belongs to: `data.messageId` and `data.metadata` of its event. */
export interface RecordTag {
  messageId: string;
  /** The message's metadata as JSON text, or null. */
  metadata: string | null;
}

/**
 * The events of a settlement: ids from the entry id and the record's place in the answer.
 * `tags[i]` (the gateway's correlation) adds the message id and metadata to record i.
 */
export function eventsOf(
  settlement: Settlement,
  tags?: ReadonlyArray<RecordTag | undefined>,
): NewEvent[] {
  const { head } = settlement;
  const type = eventTypeOf(head.kind);
  const timestamp = new Date(head.receivedAt).toISOString();
  const idOf = eventIdsOf(head.id);
  return settlement.records.map((record, index) => {
    const tag = tags?.[index];
    return {
      id: idOf(index),
      type,
      body: JSON.stringify({
        type,
        timestamp,
        data: {
          account: head.account,
          ...record,
          receivedAt: record.receivedAt.toISOString(),
          ...(tag
            ? {
                messageId: tag.messageId,
                metadata: tag.metadata === null ? null : (JSON.parse(tag.metadata) as unknown),
              }
            : {}),
        },
      }),
    };
  });
}
