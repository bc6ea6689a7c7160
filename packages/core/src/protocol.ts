/**
 * The protocol without I/O: typed requests to `{ path, body, contentType }`, response
 * text to typed results or `SmsError`s. `SmsClient` is a thin shell around these.
 */
import { createHash } from 'node:crypto';
import { encodeFormText, encodeFormValue, findGbkUnencodable } from './charset.js';
import { SmsError, type SmsAction, validationError } from './errors.js';
import {
  PayInfo,
  PlatformMessage,
  ReturnStatus,
  codeForMessage,
  pullErrorByNumber,
} from './messages.js';
import { parseMobiles } from './mobile.js';
import { describeType, formatShanghai, shanghaiReader, toSendTime } from './time.js';
import type {
  BalanceResult,
  ChangePasswordResult,
  Charset,
  CheckKeywordResult,
  Credentials,
  Reply,
  SendInput,
  SendResult,
  StatusReport,
  WireRequest,
} from './types.js';
import {
  type RecordShape,
  XmlReadError,
  type XmlElement,
  readLeafFields,
  readRecords,
  readXml,
} from './xml.js';

const FORM = 'application/x-www-form-urlencoded';
/**
 * `smsGBK.aspx` bodies are GBK bytes: say so, so a server (or a proxy) that honours the
 * header does not read them as UTF-8 or Latin-1. UTF-8 requests keep the bare type, which
 * every server already reads as UTF-8.
 */
const FORM_GBK = `${FORM}; charset=gb2312`;
const EXT_NO = /^\d{1,10}$/;
const EXCERPT_LENGTH = 200;
const JSON_START = /^\s*\{/;
const BLANK = /^\s*$/;
const HTML_START = /^\s*(<!doctype\s+html|<html)/i;

export const Paths = {
  utf8: '/sms.aspx',
  gbk: '/smsGBK.aspx',
  json: '/smsJson.aspx',
  reports: '/statusApi.aspx',
  replies: '/callApi.aspx',
} as const;

/** How requests go on the wire. A bare `Charset` is shorthand for `{ charset }`. */
export interface WireOptions {
  /** `utf-8` (default) posts to `sms.aspx`, `gbk` to `smsGBK.aspx`. */
  charset?: Charset;
  /**
   * `password` (default) sends the password in the form. `signed` uses the v2 endpoints
   * (`v2sms.aspx`, …): `timestamp` + `sign` = MD5(account + password + timestamp), so the
   * password never travels.
   */
  auth?: 'password' | 'signed';
  /** `xml` (default), or `json` for platforms that offer `smsJson.aspx` (send-family actions only). */
  format?: 'xml' | 'json';
  /** The clock behind the signed `timestamp` (default: now). */
  now?: () => Date;
}

interface ResolvedWire {
  charset: Charset;
  auth: 'password' | 'signed';
  format: 'xml' | 'json';
  now: () => Date;
}

const wireCache = new Map<Charset, ResolvedWire>();

/** Fills in defaults and refuses combinations no platform offers. */
export function resolveWire(spec: Charset | WireOptions = 'utf-8'): ResolvedWire {
  if (typeof spec === 'string') {
    let cached = wireCache.get(spec);
    if (!cached) {
      cached = resolveWire({ charset: spec });
      wireCache.set(spec, cached);
    }
    return cached;
  }
  if (spec === null || typeof spec !== 'object') {
    throw validationError('charset', "charset must be 'utf-8' or 'gbk'");
  }
  // Only `undefined` means "the default": a null or a number is a mistake worth naming.
  const resolved: ResolvedWire = {
    charset: spec.charset === undefined ? 'utf-8' : spec.charset,
    auth: spec.auth === undefined ? 'password' : spec.auth,
    format: spec.format === undefined ? 'xml' : spec.format,
    now: spec.now === undefined ? () => new Date() : spec.now,
  };
  if (typeof resolved.now !== 'function') {
    throw validationError('now', 'now must be a function returning a Date');
  }
  if (resolved.charset !== 'utf-8' && resolved.charset !== 'gbk') {
    throw validationError('charset', "charset must be 'utf-8' or 'gbk'");
  }
  if (resolved.auth !== 'password' && resolved.auth !== 'signed') {
    throw validationError('auth', "auth must be 'password' or 'signed'");
  }
  if (resolved.format !== 'xml' && resolved.format !== 'json') {
    throw validationError('format', "format must be 'xml' or 'json'");
  }
  if (resolved.format === 'json' && (resolved.charset === 'gbk' || resolved.auth === 'signed')) {
    throw validationError(
      'format',
      "format 'json' (smsJson.aspx) is UTF-8 with password auth only",
    );
  }
  return resolved;
}

function sendFamilyPath(wire: ResolvedWire): string {
  const path =
    wire.format === 'json' ? Paths.json : wire.charset === 'gbk' ? Paths.gbk : Paths.utf8;
  return wire.auth === 'signed' ? `/v2${path.slice(1)}` : path;
}

function pullPath(path: string, wire: ResolvedWire): string {
  return wire.auth === 'signed' ? `/v2${path.slice(1)}` : path;
}

/** `yyyyMMddHHmmss` in Asia/Shanghai time, for the signed endpoints. */
export function signTimestamp(date: Date): string {
  return formatShanghai(date).replace(/[- :]/g, '');
}

/** The v2 `sign`: lower-case hex MD5 of account + password + timestamp. */
export function signRequest(credentials: Credentials, timestamp: string): string {
  return createHash('md5')
    .update(credentials.account + credentials.password + timestamp, 'utf8')
    .digest('hex');
}

/** Encoded `action=…&userid=…&account=…&password=…`, memoised per credentials object. */
const credentialPrefixes = new WeakMap<Credentials, Record<Charset, Map<string, string>>>();

function authPrefix(
  action: string,
  credentials: Credentials,
  wire: ResolvedWire,
  smsAction: SmsAction,
): string {
  const identity = (): Array<[string, string]> => [
    ['action', action],
    ['userid', credentials.userId],
    ['account', credentials.account],
  ];
  if (wire.auth === 'signed') {
    const timestamp = signTimestamp(wire.now());
    const fields = identity();
    fields.push(['timestamp', timestamp], ['sign', signRequest(credentials, timestamp)]);
    return encodeFormText(fields, wire.charset, smsAction);
  }
  let byCharset = credentialPrefixes.get(credentials);
  if (!byCharset) {
    byCharset = { 'utf-8': new Map(), gbk: new Map() };
    credentialPrefixes.set(credentials, byCharset);
  }
  const byAction = byCharset[wire.charset];
  let prefix = byAction.get(action);
  if (prefix === undefined) {
    const fields = identity();
    fields.push(['password', credentials.password]);
    prefix = encodeFormText(fields, wire.charset, smsAction);
    byAction.set(action, prefix);
  }
  return prefix;
}

/** A request whose form is `prefix` (credentials) and then `rest`, already encoded. */
function wireRequest(path: string, form: string, wire: ResolvedWire): WireRequest {
  return {
    path,
    body: Buffer.from(form, 'latin1'),
    contentType: wire.charset === 'gbk' ? FORM_GBK : FORM,
    charset: wire.charset,
  };
}

function formRequest(
  path: string,
  action: string,
  smsAction: SmsAction,
  credentials: Credentials,
  rest: Array<[string, string]>,
  wire: ResolvedWire,
): WireRequest {
  const prefix = authPrefix(action, credentials, wire, smsAction);
  return wireRequest(
    path,
    rest.length === 0 ? prefix : `${prefix}&${encodeFormText(rest, wire.charset, smsAction)}`,
    wire,
  );
}

/** Validated, normalised send parameters (what will go on the wire). */
export interface PreparedSend {
  mobiles: string[];
  content: string;
  sendTime: string;
  extNo: string;
}

/** C0 controls other than tab, line feed and carriage return: never part of a real text. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/**
 * False for a UTF-16 surrogate without its partner, which no charset can encode
 * (`String.prototype.isWellFormed`, in every Node this package supports; ES2024, so not in
 * the ES2023 lib types).
 */
function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Checks that a value is text that can go on the wire: a string, without NUL or other
 * control characters, without lone surrogates. `secret` keeps the value out of the message.
 */
export function assertText(
  value: unknown,
  field: string,
  action: SmsAction | undefined,
  options: { allowEmpty?: boolean; secret?: boolean } = {},
): asserts value is string {
  if (typeof value !== 'string') {
    throw validationError(field, `${field} must be a string, got ${describeType(value)}`, action);
  }
  if (!options.allowEmpty && value.trim() === '') {
    throw validationError(field, `${field} is empty`, action);
  }
  const control = CONTROL.exec(value);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw validationError(
      field,
      `${field} contains a control character (U+${code}${options.secret ? '' : ` at ${control.index}`})`,
      action,
    );
  }
  if (!isWellFormed(value)) {
    throw validationError(field, `${field} is not valid Unicode (a lone surrogate)`, action);
  }
}

/** Recipients as `SendInput.mobiles` takes them: a string, or an array of strings. */
export function assertMobilesInput(
  value: unknown,
  action: SmsAction = 'send',
): asserts value is string | readonly string[] {
  if (typeof value === 'string') return;
  if (Array.isArray(value)) {
    const bad = value.findIndex((entry) => typeof entry !== 'string');
    if (bad === -1) return;
    throw validationError(
      'mobiles',
      `mobiles[${bad}] must be a string, got ${describeType(value[bad])}`,
      action,
    );
  }
  throw validationError(
    'mobiles',
    `mobiles must be a string or an array of strings, got ${describeType(value)}`,
    action,
  );
}

/** Throws unless `input` is a plain object (not null, not an array). */
export function assertInputObject(
  value: unknown,
  what: string,
  action?: SmsAction,
): asserts value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw validationError('input', `${what} must be an object, got ${describeType(value)}`, action);
  }
}

/**
 * Validates and normalises send parameters. Everything malformed is a `VALIDATION`
 * `SmsError` naming the field, including a `sendTime` more than
 * `SEND_TIME_PAST_TOLERANCE_MS` before `now` (a `Date`, or a clock read only when a
 * `sendTime` is given).
 */
export function prepareSend(
  input: SendInput,
  now: Date | (() => Date) = () => new Date(),
): PreparedSend {
  assertInputObject(input, 'send input ({ mobiles, content })', 'send');
  assertMobilesInput(input.mobiles, 'send');
  assertText(input.content, 'content', 'send');
  const extNo: unknown = input.extNo === undefined ? '' : input.extNo;
  if (typeof extNo !== 'string' || (extNo !== '' && !EXT_NO.test(extNo))) {
    throw validationError('extNo', 'extNo must be a string of 1 to 10 digits', 'send');
  }
  return {
    mobiles: parseMobiles(input.mobiles),
    content: input.content,
    // The clock is read only for a scheduled send (checked against the past).
    sendTime:
      input.sendTime === undefined || input.sendTime === ''
        ? ''
        : toSendTime(input.sendTime, typeof now === 'function' ? now() : now),
    extNo,
  };
}

export function buildSendRequest(
  credentials: Credentials,
  input: SendInput,
  options?: Charset | WireOptions,
): WireRequest {
  const wire = resolveWire(options);
  return buildPreparedSendRequest(credentials, prepareSend(input, wire.now), wire);
}

/** The send form for parameters `prepareSend` already checked (a batch checks them once). */
export function buildPreparedSendRequest(
  credentials: Credentials,
  prepared: PreparedSend,
  options?: Charset | WireOptions,
): WireRequest {
  const wire = resolveWire(options);
  const { charset } = wire;
  // The one request sent per message: its form is written out rather than built from pairs.
  const form =
    `${authPrefix('send', credentials, wire, 'send')}` +
    `&mobile=${encodeFormValue(prepared.mobiles.join(','), charset, 'mobile', 'send')}` +
    `&content=${encodeFormValue(prepared.content, charset, 'content', 'send')}` +
    `&sendTime=${encodeFormValue(prepared.sendTime, charset, 'sendTime', 'send')}` +
    `&extno=${encodeFormValue(prepared.extNo, charset, 'extno', 'send')}`;
  return wireRequest(sendFamilyPath(wire), form, wire);
}

export function buildBalanceRequest(
  credentials: Credentials,
  options?: Charset | WireOptions,
): WireRequest {
  const wire = resolveWire(options);
  return formRequest(sendFamilyPath(wire), 'overage', 'overage', credentials, [], wire);
}

export function buildCheckKeywordRequest(
  credentials: Credentials,
  content: string,
  options?: Charset | WireOptions,
): WireRequest {
  assertText(content, 'content', 'checkkeyword');
  const wire = resolveWire(options);
  const path = sendFamilyPath(wire);
  return formRequest(
    path,
    'checkkeyword',
    'checkkeyword',
    credentials,
    [['content', content]],
    wire,
  );
}

export function buildChangePasswordRequest(
  credentials: Credentials,
  newPassword: string,
  options?: Charset | WireOptions,
): WireRequest {
  assertText(newPassword, 'newPassword', 'changespwd', { secret: true });
  const wire = resolveWire(options);
  if (wire.charset === 'gbk' && findGbkUnencodable(newPassword).length > 0) {
    // The characters themselves are part of a secret: not named.
    throw validationError(
      'newPassword',
      "newPassword has characters GBK cannot encode (use charset 'utf-8')",
      'changespwd',
    );
  }
  const fields: Array<[string, string]> = [
    ['newpwd', newPassword],
    ['renewpwd', newPassword],
  ];
  return formRequest(sendFamilyPath(wire), 'changespwd', 'changespwd', credentials, fields, wire);
}

/** `statusApi.aspx`: `max` becomes `statusNum` (the platform's default is 4000). Always UTF-8 XML. */
export function buildReportsRequest(
  credentials: Credentials,
  options: { max?: number } = {},
  wireOptions?: WireOptions,
): WireRequest {
  assertInputObject(options, 'fetchReports options', 'queryReports');
  const fields: Array<[string, string]> = [];
  if (options.max !== undefined) {
    assertMax(options.max, 'queryReports');
    fields.push(['statusNum', String(options.max)]);
  }
  const wire = resolveWire({ ...pullWire(wireOptions) });
  return formRequest(
    pullPath(Paths.reports, wire),
    'query',
    'queryReports',
    credentials,
    fields,
    wire,
  );
}

/** `statusNum`: a whole number from 1 (a float, `1e21` or a string would reach the wire garbled). */
export function assertMax(
  value: unknown,
  action: SmsAction = 'queryReports',
): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw validationError(
      'max',
      `max must be a positive whole number, got ${typeof value === 'number' ? String(value) : describeType(value)}`,
      action,
    );
  }
}

/** `callApi.aspx`. Always UTF-8 XML. */
export function buildRepliesRequest(
  credentials: Credentials,
  wireOptions?: WireOptions,
): WireRequest {
  const wire = resolveWire({ ...pullWire(wireOptions) });
  return formRequest(pullPath(Paths.replies, wire), 'query', 'queryReplies', credentials, [], wire);
}

/** The pull endpoints have one charset and one format: only the auth style carries over. */
function pullWire(options: WireOptions | undefined): WireOptions {
  return {
    charset: 'utf-8',
    format: 'xml',
    auth: options?.auth ?? 'password',
    ...(options?.now ? { now: options.now } : {}),
  };
}

// ---------------------------------------------------------------------------
// Responses

const SPACES = /\s*/y;
const WORD = /\S*/y;

/** Where the run that `run` (sticky, matching the empty string too) finds at `from` ends. */
function runEnd(run: RegExp, text: string, from: number): number {
  run.lastIndex = from;
  run.test(text);
  return run.lastIndex;
}

/**
 * A short, single-line excerpt of a body for error messages: whitespace runs read as one
 * space, trimmed, cut at 200 characters. It stops reading once it has them, so a hostile
 * megabyte costs no more than a normal answer.
 */
export function excerptOf(text: string): string {
  let flat = '';
  let at = runEnd(SPACES, text, 0);
  while (at < text.length) {
    const wordEnd = runEnd(WORD, text, at);
    flat += text.slice(at, Math.min(wordEnd, at + EXCERPT_LENGTH + 1 - flat.length));
    if (flat.length > EXCERPT_LENGTH) return `${flat.slice(0, EXCERPT_LENGTH)}…`;
    at = runEnd(SPACES, text, wordEnd);
    if (at < text.length) flat += ' ';
  }
  return flat;
}

function protocolError(action: SmsAction, why: string, text: string, cause?: unknown): SmsError {
  return new SmsError(`${action}: ${why}`, {
    code: 'PROTOCOL',
    action,
    excerpt: excerptOf(text),
    cause,
  });
}

/**
 * The flat answer of a send-family action: `<returnsms>`'s leaf elements, or the keys of a
 * `smsJson.aspx` JSON object, lower-cased, every value a string.
 */
export function readFields(text: string, action: SmsAction): Record<string, string> {
  if (JSON_START.test(text)) return readJsonFields(text, action);
  // `leafFields(readReturnSms(text, action))`, in one pass and without the tree.
  checkBody(text, action);
  const read = readLeafFields(text);
  if (read.root === undefined || !read.rootClosed) {
    const error = new XmlReadError(
      read.root === undefined
        ? 'no XML root element'
        : `<${read.root}> is never closed (truncated body?)`,
    );
    throw protocolError(action, `malformed response: ${error.message}`, text, error);
  }
  checkRoot(read.root, action, text);
  return read.fields;
}

/** An empty body or an HTML page is no answer at all. */
function checkBody(text: string, action: SmsAction): void {
  if (BLANK.test(text)) throw protocolError(action, 'empty response body', text);
  if (HTML_START.test(text)) {
    throw protocolError(action, 'the server answered with an HTML page', text);
  }
}

function checkRoot(root: string, action: SmsAction, text: string): void {
  if (root !== 'returnsms') throw protocolError(action, `unexpected root element <${root}>`, text);
}

function readJsonFields(text: string, action: SmsAction): Record<string, string> {
  let parsed: unknown;
  try {
    // Numbers are read from the raw text so a 16+ digit taskID stays exact.
    parsed = JSON.parse(text.replace(/:\s*(-?\d{16,})\s*([,}])/g, ':"$1"$2'));
  } catch (error) {
    throw protocolError(action, 'malformed JSON response', text, error);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw protocolError(action, 'the JSON answer is not an object', text);
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value === null || typeof value !== 'object')
      fields[key.toLowerCase()] = String(value ?? '').trim();
  }
  return fields;
}

/** Parses a body into its `<returnsms>` root, or throws a `PROTOCOL` error. */
export function readReturnSms(text: string, action: SmsAction): XmlElement {
  checkBody(text, action);
  let root: XmlElement;
  try {
    root = readXml(text);
  } catch (error) {
    const why = error instanceof XmlReadError ? error.message : 'unreadable XML';
    throw protocolError(action, `malformed response: ${why}`, text, error);
  }
  checkRoot(root.name, action, text);
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
  const fields = readFields(text, 'send');
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
  const fields = readFields(text, 'overage');
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
  const fields = readFields(text, 'checkkeyword');
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
  const fields = readFields(text, 'changespwd');
  const message = fields['message'] ?? '';
  if (isSuccessStatus(fields['returnstatus']) || message === PlatformMessage.passwordChanged)
    return { message };
  if (fields['returnstatus'] === undefined && message === '') {
    throw protocolError('changespwd', 'no returnstatus or message', text);
  }
  throw platformError('changespwd', message);
}

/** What a pull answer's error forms need: `<errorstatus>` and the send-style `Faild`. */
const PULL_CAPTURES = [
  'errorstatus',
  'errorstatus/error',
  'errorstatus/remark',
  'returnstatus',
  'message',
] as const;

/** Both error forms of the pull endpoints, from the texts of `PULL_CAPTURES`. */
function pullError(
  captured: ReadonlyArray<string | undefined>,
  action: SmsAction,
): SmsError | undefined {
  const [errorStatus, error, remark = '', status, message] = captured;
  if (errorStatus !== undefined) {
    const number = Number(error);
    const known = pullErrorByNumber(number);
    const code = known?.code ?? codeForMessage(remark).code;
    return new SmsError(
      `${action} refused by the platform: ${remark || `error ${number}`} [${code}]`,
      {
        code,
        action,
        platformMessage: remark,
      },
    );
  }
  if (status !== undefined && !isSuccessStatus(status)) {
    return platformError(action, message ?? '');
  }
  return undefined;
}

/**
 * `receivetime` as an instant, or `fetchedAt` when it is not one. Reports of one answer
 * share their minutes: `shanghaiReader` parses each minute once.
 */
function receiveTimes(fetchedAt: Date): (raw: string) => Date {
  const read = shanghaiReader();
  return (raw) => {
    const ms = read(raw);
    return ms === undefined ? fetchedAt : new Date(ms);
  };
}

/**
 * Reads a pull answer record by record. Pull-once: a record the platform handed out exists
 * nowhere else, so an answer cut off mid-body, or carrying an error next to its records,
 * still yields every complete record, on the thrown error's `records`.
 */
function readPullAnswer<T>(
  text: string,
  action: SmsAction,
  shape: Omit<RecordShape<T>, 'captures'>,
): T[] {
  checkBody(text, action);
  const read = readRecords(text, { ...shape, captures: PULL_CAPTURES });
  if (read.root === undefined) {
    throw protocolError(action, 'malformed response: no XML root element', text);
  }
  checkRoot(read.root, action, text);
  const { records, incomplete } = read;
  let failure = pullError(read.captured, action);
  if (!read.rootClosed || incomplete > 0) {
    const why = read.rootClosed
      ? `${incomplete} <${shape.box}> never closed`
      : '<returnsms> is never closed (truncated body?)';
    failure = protocolError(
      action,
      `malformed response: ${why}; ${records.length} complete record(s) kept`,
      text,
    );
  }
  if (failure) {
    failure.records = records as unknown as ReadonlyArray<StatusReport | Reply>;
    throw failure;
  }
  return records;
}

const REPORT_FIELDS = ['mobile', 'taskid', 'status', 'receivetime', 'errorcode', 'extno'] as const;

/**
 * Reads a `statusApi.aspx` answer. A failure that still carried complete records (truncated
 * body, error element beside records) throws with those records on `error.records`.
 */
export function parseReportsResponse(text: string, fetchedAt: Date = new Date()): StatusReport[] {
  const receivedAt = receiveTimes(fetchedAt);
  return readPullAnswer(text, 'queryReports', {
    box: 'statusbox',
    fields: REPORT_FIELDS,
    build: (values) => {
      const receiveTime = values[3] ?? '';
      const statusCode = Number.parseInt(values[2] ?? '', 10);
      return {
        mobile: values[0] ?? '',
        taskId: values[1] ?? '',
        status: statusCode === 10 ? 'delivered' : 'failed',
        statusCode: Number.isNaN(statusCode) ? 0 : statusCode,
        receivedAt: receivedAt(receiveTime),
        receiveTime,
        errorCode: values[4] ?? '',
        extNo: values[5] ?? '',
      } satisfies StatusReport;
    },
  });
}

const REPLY_FIELDS = ['mobile', 'taskid', 'content', 'receivetime', 'extno'] as const;

/** Reads a `callApi.aspx` answer; failures keep complete records as `parseReportsResponse` does. */
export function parseRepliesResponse(text: string, fetchedAt: Date = new Date()): Reply[] {
  const receivedAt = receiveTimes(fetchedAt);
  return readPullAnswer(text, 'queryReplies', {
    box: 'callbox',
    fields: REPLY_FIELDS,
    build: (values) => {
      const receiveTime = values[3] ?? '';
      return {
        mobile: values[0] ?? '',
        taskId: values[1] ?? '',
        content: values[2] ?? '',
        receivedAt: receivedAt(receiveTime),
        receiveTime,
        extNo: values[4] ?? '',
      } satisfies Reply;
    },
  });
}
