/**
 * The protocol without I/O: typed requests to `{ path, body, contentType }`, response
 * text to typed results or `SmsError`s. `SmsClient` is a thin shell around these.
 */
import { type Charset, encodeForm } from './charset.js';
import { SmsError, type SmsAction, validationError } from './errors.js';
import {
  PayInfo,
  PlatformMessage,
  ReturnStatus,
  codeForMessage,
  pullErrorByNumber,
} from './messages.js';
import { parseMobiles } from './mobile.js';
import { parseShanghai, toSendTime } from './time.js';
import type {
  BalanceResult,
  ChangePasswordResult,
  CheckKeywordResult,
  Credentials,
  Reply,
  SendInput,
  SendResult,
  StatusReport,
  WireRequest,
} from './types.js';
import {
  XmlReadError,
  type XmlElement,
  childText,
  childrenNamed,
  leafFields,
  readXml,
} from './xml.js';

const FORM = 'application/x-www-form-urlencoded';
const EXT_NO = /^\d{1,10}$/;
const EXCERPT_LENGTH = 200;

export const Paths = {
  utf8: '/sms.aspx',
  gbk: '/smsGBK.aspx',
  reports: '/statusApi.aspx',
  replies: '/callApi.aspx',
} as const;

function sendPath(charset: Charset): string {
  return charset === 'gbk' ? Paths.gbk : Paths.utf8;
}

function credentialFields(credentials: Credentials): Array<[string, string]> {
  return [
    ['userid', credentials.userId],
    ['account', credentials.account],
    ['password', credentials.password],
  ];
}

function request(
  path: string,
  fields: Array<[string, string]>,
  charset: Charset,
  action: SmsAction,
): WireRequest {
  return { path, body: encodeForm(fields, charset, action), contentType: FORM, charset };
}

/** Encoded `action=…&userid=…&account=…&password=…`, memoised per credentials object. */
const credentialPrefixes = new WeakMap<Credentials, Map<string, string>>();

function withCredentials(
  action: string,
  credentials: Credentials,
  rest: Array<[string, string]>,
  charset: Charset,
  smsAction: SmsAction,
): Buffer {
  let byAction = credentialPrefixes.get(credentials);
  if (!byAction) {
    byAction = new Map();
    credentialPrefixes.set(credentials, byAction);
  }
  const key = `${charset}:${action}`;
  let prefix = byAction.get(key);
  if (prefix === undefined) {
    prefix = encodeForm(
      [['action', action], ...credentialFields(credentials)],
      charset,
      smsAction,
    ).toString('latin1');
    byAction.set(key, prefix);
  }
  return Buffer.from(
    `${prefix}&${encodeForm(rest, charset, smsAction).toString('latin1')}`,
    'latin1',
  );
}

/** Validated, normalised send parameters (what will go on the wire). */
export interface PreparedSend {
  mobiles: string[];
  content: string;
  sendTime: string;
  extNo: string;
}

export function prepareSend(input: SendInput): PreparedSend {
  if (typeof input.content !== 'string' || input.content.trim() === '') {
    throw validationError('content', 'content is empty', 'send');
  }
  const extNo = input.extNo ?? '';
  if (extNo !== '' && !EXT_NO.test(extNo)) {
    throw validationError('extNo', 'extNo must be 1 to 10 digits', 'send');
  }
  return {
    mobiles: parseMobiles(input.mobiles),
    content: input.content,
    sendTime: toSendTime(input.sendTime),
    extNo,
  };
}

export function buildSendRequest(
  credentials: Credentials,
  input: SendInput,
  charset: Charset = 'utf-8',
): WireRequest {
  const prepared = prepareSend(input);
  const body = withCredentials(
    'send',
    credentials,
    [
      ['mobile', prepared.mobiles.join(',')],
      ['content', prepared.content],
      ['sendTime', prepared.sendTime],
      ['extno', prepared.extNo],
    ],
    charset,
    'send',
  );
  return { path: sendPath(charset), body, contentType: FORM, charset };
}

export function buildBalanceRequest(
  credentials: Credentials,
  charset: Charset = 'utf-8',
): WireRequest {
  return request(
    sendPath(charset),
    [['action', 'overage'], ...credentialFields(credentials)],
    charset,
    'overage',
  );
}

export function buildCheckKeywordRequest(
  credentials: Credentials,
  content: string,
  charset: Charset = 'utf-8',
): WireRequest {
  if (typeof content !== 'string' || content.trim() === '') {
    throw validationError('content', 'content is empty', 'checkkeyword');
  }
  return request(
    sendPath(charset),
    [['action', 'checkkeyword'], ...credentialFields(credentials), ['content', content]],
    charset,
    'checkkeyword',
  );
}

export function buildChangePasswordRequest(
  credentials: Credentials,
  newPassword: string,
  charset: Charset = 'utf-8',
): WireRequest {
  if (typeof newPassword !== 'string' || newPassword === '') {
    throw validationError('newPassword', 'the new password is empty', 'changespwd');
  }
  return request(
    sendPath(charset),
    [
      ['action', 'changespwd'],
      ...credentialFields(credentials),
      ['newpwd', newPassword],
      ['renewpwd', newPassword],
    ],
    charset,
    'changespwd',
  );
}

/** `statusApi.aspx`: `max` becomes `statusNum` (the platform's default is 4000). */
export function buildReportsRequest(
  credentials: Credentials,
  options: { max?: number } = {},
): WireRequest {
  const fields: Array<[string, string]> = [['action', 'query'], ...credentialFields(credentials)];
  if (options.max !== undefined) {
    if (!Number.isInteger(options.max) || options.max < 1) {
      throw validationError('max', 'max must be a positive integer', 'queryReports');
    }
    fields.push(['statusNum', String(options.max)]);
  }
  return request(Paths.reports, fields, 'utf-8', 'queryReports');
}

export function buildRepliesRequest(credentials: Credentials): WireRequest {
  return request(
    Paths.replies,
    [['action', 'query'], ...credentialFields(credentials)],
    'utf-8',
    'queryReplies',
  );
}

// ---------------------------------------------------------------------------
// Responses

/** A short, single-line excerpt of a body for error messages. */
export function excerptOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_LENGTH ? `${flat.slice(0, EXCERPT_LENGTH)}…` : flat;
}

function protocolError(action: SmsAction, why: string, text: string, cause?: unknown): SmsError {
  return new SmsError(`${action}: ${why}`, {
    code: 'PROTOCOL',
    action,
    excerpt: excerptOf(text),
    cause,
  });
}

/** Parses a body into its `<returnsms>` root, or throws a `PROTOCOL` error. */
export function readReturnSms(text: string, action: SmsAction): XmlElement {
  if (text.trim() === '') throw protocolError(action, 'empty response body', text);
  if (/^\s*(<!doctype\s+html|<html)/i.test(text)) {
    throw protocolError(action, 'the server answered with an HTML page', text);
  }
  let root: XmlElement;
  try {
    root = readXml(text);
  } catch (error) {
    const why = error instanceof XmlReadError ? error.message : 'unreadable XML';
    throw protocolError(action, `malformed response: ${why}`, text, error);
  }
  if (root.name !== 'returnsms') {
    throw protocolError(action, `unexpected root element <${root.name}>`, text);
  }
  return root;
}

function platformError(action: SmsAction, message: string): SmsError {
  const { code, words } = codeForMessage(message);
  const shown = message === '' ? '(no message)' : message;
  return new SmsError(`${action} refused by the platform: ${shown} [${code}]`, {
    code,
    action,
    platformMessage: message,
    words,
  });
}

function isSuccessStatus(status: string | undefined): boolean {
  const value = (status ?? '').toLowerCase();
  // `Sucess` (sic) is the balance query's spelling; accept either everywhere.
  return (
    value === ReturnStatus.success.toLowerCase() ||
    value === ReturnStatus.balanceSuccess.toLowerCase()
  );
}

/** Integer or decimal count; empty reads as 0. */
function toNumber(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return 0;
  const value = Number(text.trim());
  return Number.isFinite(value) ? value : 0;
}

export function parseSendResponse(text: string): SendResult {
  const root = readReturnSms(text, 'send');
  const fields = leafFields(root);
  const message = fields['message'] ?? '';
  const status = fields['returnstatus'];
  const ok = isSuccessStatus(status) || (status === undefined && isOkMessage(message));
  if (!ok) {
    if (status === undefined && message === '')
      throw protocolError('send', 'no returnstatus or message', text);
    throw platformError('send', message);
  }
  // Accepted: never throw from here on, or a caller might resend and bill twice.
  return {
    taskId: fields['taskid'] ?? '',
    successCounts: toNumber(fields['successcounts']),
    remainPoint: toNumber(fields['remainpoint']),
    message,
  };
}

function isOkMessage(message: string): boolean {
  return message.toLowerCase() === PlatformMessage.ok || message === PlatformMessage.operationOk;
}

export function parseBalanceResponse(text: string): BalanceResult {
  const root = readReturnSms(text, 'overage');
  const fields = leafFields(root);
  const status = fields['returnstatus'];
  const message = fields['message'] ?? '';
  if (!isSuccessStatus(status) && !(status === undefined && 'overage' in fields)) {
    if (status === undefined && message === '')
      throw protocolError('overage', 'no returnstatus or message', text);
    throw platformError('overage', message);
  }
  const payInfo = fields['payinfo'] ?? '';
  let payType: BalanceResult['payType'];
  if (payInfo.startsWith(PayInfo.postpaid.slice(0, 1))) payType = 'postpaid';
  else if (payInfo.startsWith(PayInfo.prepaid.slice(0, 1))) payType = 'prepaid';
  else throw protocolError('overage', `unknown payinfo "${payInfo}"`, text);
  return {
    payType,
    overage: toNumber(fields['overage']),
    sendTotal: toNumber(fields['sendtotal']),
    payInfo,
  };
}

export function parseCheckKeywordResponse(text: string): CheckKeywordResult {
  const root = readReturnSms(text, 'checkkeyword');
  const fields = leafFields(root);
  const message = fields['message'] ?? '';
  if (message === PlatformMessage.keywordClean) return { blocked: false, words: [], message };
  const { code, words } = codeForMessage(message);
  if (code === 'ILLEGAL_KEYWORD') return { blocked: true, words, message };
  if (message === '' && fields['returnstatus'] === undefined) {
    throw protocolError('checkkeyword', 'no message in the answer', text);
  }
  throw platformError('checkkeyword', message);
}

export function parseChangePasswordResponse(text: string): ChangePasswordResult {
  const root = readReturnSms(text, 'changespwd');
  const fields = leafFields(root);
  const message = fields['message'] ?? '';
  if (isSuccessStatus(fields['returnstatus']) || message === PlatformMessage.passwordChanged)
    return { message };
  if (fields['returnstatus'] === undefined && message === '') {
    throw protocolError('changespwd', 'no returnstatus or message', text);
  }
  throw platformError('changespwd', message);
}

/** Both error forms of the pull endpoints: `<errorstatus>` and the send-style `Faild`. */
function throwIfPullError(root: XmlElement, action: SmsAction): void {
  const errorStatus = childrenNamed(root, 'errorstatus')[0];
  if (errorStatus) {
    const number = Number(childText(errorStatus, 'error'));
    const remark = childText(errorStatus, 'remark') ?? '';
    const known = pullErrorByNumber(number);
    const code = known?.code ?? codeForMessage(remark).code;
    throw new SmsError(
      `${action} refused by the platform: ${remark || `error ${number}`} [${code}]`,
      {
        code,
        action,
        platformMessage: remark,
      },
    );
  }
  const status = childText(root, 'returnstatus');
  if (status !== undefined && !isSuccessStatus(status)) {
    throw platformError(action, childText(root, 'message') ?? '');
  }
}

function receivedAt(raw: string, fetchedAt: Date): Date {
  return parseShanghai(raw) ?? fetchedAt;
}

export function parseReportsResponse(text: string, fetchedAt: Date = new Date()): StatusReport[] {
  const root = readReturnSms(text, 'queryReports');
  throwIfPullError(root, 'queryReports');
  const reports: StatusReport[] = [];
  for (const box of root.children) {
    if (box.name !== 'statusbox') continue;
    const fields = leafFields(box);
    const statusCode = Number.parseInt(fields['status'] ?? '', 10);
    const receiveTime = fields['receivetime'] ?? '';
    reports.push({
      mobile: fields['mobile'] ?? '',
      taskId: fields['taskid'] ?? '',
      status: statusCode === 10 ? 'delivered' : 'failed',
      statusCode: Number.isNaN(statusCode) ? 0 : statusCode,
      receivedAt: receivedAt(receiveTime, fetchedAt),
      receiveTime,
      errorCode: fields['errorcode'] ?? '',
      extNo: fields['extno'] ?? '',
    });
  }
  return reports;
}

export function parseRepliesResponse(text: string, fetchedAt: Date = new Date()): Reply[] {
  const root = readReturnSms(text, 'queryReplies');
  throwIfPullError(root, 'queryReplies');
  const replies: Reply[] = [];
  for (const box of root.children) {
    if (box.name !== 'callbox') continue;
    const fields = leafFields(box);
    const receiveTime = fields['receivetime'] ?? '';
    replies.push({
      mobile: fields['mobile'] ?? '',
      taskId: fields['taskid'] ?? '',
      content: fields['content'] ?? '',
      receivedAt: receivedAt(receiveTime, fetchedAt),
      receiveTime,
      extNo: fields['extno'] ?? '',
    });
  }
  return replies;
}
