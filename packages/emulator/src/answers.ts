/**
 * The platform's answers: built as data, then written as the XML of the interface text
 * (or as JSON for the `smsJson.aspx` variant).
 */
import { PULL_ERRORS, PayInfo, PlatformMessage, ReturnStatus } from '@sms/core';
import type { PayType, Quirks, ReplyRecord, StatusReportRecord } from './types.js';

/** An answer before it is written: the children of `<returnsms>` in order. */
export type Answer =
  | { kind: 'fields'; fields: ReadonlyArray<readonly [string, string]> }
  | { kind: 'statusboxes'; reports: readonly StatusReportRecord[]; userId: string }
  | { kind: 'callboxes'; replies: readonly ReplyRecord[]; userId: string }
  | { kind: 'errorstatus'; error: number; remark: string };

const fields = (...pairs: Array<readonly [string, string | number]>): Answer => ({
  kind: 'fields',
  fields: pairs.map(([name, value]) => [name, String(value)] as const),
});

export interface SendAnswer {
  remainPoint: number;
  taskId: string;
  successCounts: number;
  message: string;
}

export function sendSuccess(answer: SendAnswer): Answer {
  return fields(
    ['returnstatus', ReturnStatus.success],
    ['message', answer.message],
    ['remainpoint', answer.remainPoint],
    ['taskID', answer.taskId],
    ['successCounts', answer.successCounts],
  );
}

/** A refused send: `Faild` (sic), the message, the numeric fields zeroed, taskID empty. */
export function sendFailure(message: string): Answer {
  return fields(
    ['returnstatus', ReturnStatus.failed],
    ['message', message],
    ['remainpoint', 0],
    ['taskID', ''],
    ['successCounts', 0],
  );
}

/** The balance answer: `Sucess` (sic) and an empty message. */
export function overageSuccess(payType: PayType, overage: number, sendTotal: number): Answer {
  return fields(
    ['returnstatus', ReturnStatus.balanceSuccess],
    ['message', ''],
    ['payinfo', payType === 'prepaid' ? PayInfo.prepaid : PayInfo.postpaid],
    ['overage', overage],
    ['sendTotal', sendTotal],
  );
}

export function overageFailure(message: string): Answer {
  return fields(
    ['returnstatus', ReturnStatus.failed],
    ['message', message],
    ['payinfo', ''],
    ['overage', ''],
    ['sendTotal', ''],
  );
}

/** checkkeyword answers with a message only, success or not. */
export function messageOnly(message: string): Answer {
  return fields(['message', message]);
}

export function passwordChanged(): Answer {
  return fields(
    ['returnstatus', ReturnStatus.success],
    ['message', PlatformMessage.passwordChanged],
    ['checkCounts', ''],
  );
}

export function passwordFailure(message: string): Answer {
  return fields(['returnstatus', ReturnStatus.failed], ['message', message], ['checkCounts', '']);
}

/** Failure of an unknown action on sms.aspx / smsGBK.aspx. */
export function genericFailure(message: string): Answer {
  return fields(['returnstatus', ReturnStatus.failed], ['message', message]);
}

/** `<errorstatus>` of the pull endpoints: 1 auth missing, 2 auth failed, 3 barred, 4 bad params. */
export function pullError(error: 1 | 2 | 3 | 4): Answer {
  const entry = PULL_ERRORS.find((candidate) => candidate.number === error);
  return { kind: 'errorstatus', error, remark: entry?.remark ?? '' };
}

export function statusBoxes(reports: readonly StatusReportRecord[], userId: string): Answer {
  return { kind: 'statusboxes', reports, userId };
}

export function callBoxes(replies: readonly ReplyRecord[], userId: string): Answer {
  return { kind: 'callboxes', replies, userId };
}

function reportFields(report: StatusReportRecord): Array<[string, string]> {
  return [
    ['mobile', report.mobile],
    ['taskid', report.taskId],
    ['status', String(report.status)],
    ['receivetime', report.receiveTime],
    ['errorcode', report.errorCode],
    ['extno', report.extNo],
  ];
}

function replyFields(reply: ReplyRecord): Array<[string, string]> {
  return [
    ['mobile', reply.mobile],
    ['taskid', reply.taskId],
    ['content', reply.content],
    ['receivetime', reply.receiveTime],
    ['extno', reply.extNo],
  ];
}

// ---- XML ---------------------------------------------------------------------------

/** Real servers declare utf-8 even in the GB2312 bytes of smsGBK.aspx; the header carries the truth. */
const DECLARATION = '<?xml version="1.0" encoding="utf-8" ?>';
const SINGLE_QUOTED_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>";

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

const ALL_QUIRKS: Required<Quirks> = {
  whitespace: true,
  singleQuotes: true,
  spacedTags: true,
  extraChildren: true,
  selfClosingEmpty: true,
  sendStylePullErrors: true,
  shortPayInfo: true,
  bom: true,
};

export function normalizeQuirks(quirks: Quirks | boolean | null | undefined): Quirks {
  if (quirks === true) return { ...ALL_QUIRKS };
  if (!quirks || typeof quirks !== 'object') return {};
  const out: Quirks = {};
  for (const key of Object.keys(ALL_QUIRKS) as Array<keyof Quirks>) {
    if (quirks[key] !== undefined) out[key] = Boolean(quirks[key]);
  }
  return out;
}

function writer(quirks: Quirks) {
  const newline = quirks.whitespace ? '\r\n' : '';
  const indent = (depth: number) => (quirks.whitespace ? '  '.repeat(depth) : '');
  return {
    newline,
    elements(pairs: ReadonlyArray<readonly [string, string]>, depth: number): string {
      let out = '';
      for (const [name, value] of pairs) {
        if (quirks.spacedTags && name === 'checkCounts' && value === '') {
          // Exactly as the interface text prints it (not well-formed XML).
          out += `${indent(depth)}< checkCounts > </ checkCounts >${newline}`;
          continue;
        }
        const close = quirks.spacedTags ? `</${name} >` : `</${name}>`;
        out += `${indent(depth)}<${name}>${escapeXml(value)}${close}${newline}`;
      }
      return out;
    },
    box(name: string, pairs: ReadonlyArray<readonly [string, string]>): string {
      return `${indent(1)}<${name}>${newline}${this.elements(pairs, 2)}${indent(1)}</${name}>${newline}`;
    },
  };
}

/** `<?xml …?>` then `<returnsms>…</returnsms>`, as in the interface text (or with quirks). */
export function renderXml(answer: Answer, quirks: Quirks = {}): string {
  const write = writer(quirks);
  let inner: string;
  switch (answer.kind) {
    case 'fields': {
      const fields = quirks.shortPayInfo
        ? answer.fields.map(([name, value]) =>
            name === 'payinfo'
              ? ([name, value.replace(/费$/, '')] as const)
              : ([name, value] as const),
          )
        : answer.fields;
      inner = write.elements(fields, 1);
      break;
    }
    case 'statusboxes':
    case 'callboxes': {
      const extra: Array<[string, string]> = quirks.extraChildren
        ? [['userid', answer.userId]]
        : [];
      inner =
        answer.kind === 'statusboxes'
          ? answer.reports
              .map((r) => write.box('statusbox', [...extra, ...reportFields(r)]))
              .join('')
          : answer.replies.map((r) => write.box('callbox', [...extra, ...replyFields(r)])).join('');
      break;
    }
    case 'errorstatus':
      inner = quirks.sendStylePullErrors
        ? write.elements(
            [
              ['returnstatus', ReturnStatus.failed],
              ['message', answer.remark],
            ],
            1,
          )
        : write.box('errorstatus', [
            ['error', String(answer.error)],
            ['remark', answer.remark],
          ]);
      break;
  }
  const declaration = quirks.singleQuotes ? SINGLE_QUOTED_DECLARATION : DECLARATION;
  const root =
    inner === '' && quirks.selfClosingEmpty
      ? '<returnsms/>'
      : `<returnsms>${write.newline}${inner}</returnsms>`;
  const head = quirks.whitespace ? `${declaration}\r\n\r\n` : `${declaration}\n`;
  return `${quirks.bom ? '\uFEFF' : ''}${head}${root}`;
}

/** Breaks well-formed XML: the root never closes and a closing tag does not match its opening. */
export function malformXml(xml: string): string {
  return `${xml.replace(/<\/returnsms>$/, '')}<message>ok</mesage><returnstatus>`;
}

// ---- JSON (smsJson.aspx) -------------------------------------------------------------

/** The same keys as the XML, every value a string (a 16-digit taskID must survive). */
export function renderJson(answer: Answer): string {
  switch (answer.kind) {
    case 'fields':
      return JSON.stringify(Object.fromEntries(answer.fields));
    case 'statusboxes':
      return JSON.stringify({
        statusbox: answer.reports.map((r) => Object.fromEntries(reportFields(r))),
      });
    case 'callboxes':
      return JSON.stringify({
        callbox: answer.replies.map((r) => Object.fromEntries(replyFields(r))),
      });
    case 'errorstatus':
      return JSON.stringify({
        errorstatus: { error: String(answer.error), remark: answer.remark },
      });
  }
}

/** Cuts JSON short so that no parser accepts it. */
export function malformJson(json: string): string {
  return `${json.slice(0, Math.max(1, Math.floor(json.length / 2)))},"`;
}

// ---- HTML pages ---------------------------------------------------------------------

/** What an ASP.NET server answers on an unhandled exception. */
export function aspNetErrorPage(): string {
  return (
    '<!DOCTYPE html>\n<html><head><title>Runtime Error</title></head><body>' +
    "<h1>Server Error in '/' Application.</h1><h2><i>Runtime Error</i></h2>" +
    '<p>An application error occurred on the server.</p></body></html>'
  );
}

export function notFoundPage(): string {
  return (
    '<!DOCTYPE html>\n<html><head><title>The resource cannot be found.</title></head><body>' +
    "<h1>Server Error in '/' Application.</h1><h2><i>The resource cannot be found.</i></h2>" +
    '<p>HTTP 404.</p></body></html>'
  );
}
