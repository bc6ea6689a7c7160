/** Public types of `@sms/emulator`. */

/** The two wire charsets: `sms.aspx` speaks UTF-8, `smsGBK.aspx` speaks GBK. */
export type EmulatorCharset = 'utf-8' | 'gbk';

export type PayType = 'prepaid' | 'postpaid';

/** One platform account. */
export interface AccountConfig {
  /** Enterprise id (`userid`). Requests with an empty `userid` still authenticate by account + password. */
  userId: string;
  /** Login name (`account`). */
  account: string;
  /** Password (`password`); opaque, compared exactly. */
  password: string;
  /** `prepaid` (default) refuses sends larger than the balance; `postpaid` never refuses. */
  payType?: PayType;
  /** Starting balance in points (one point = one segment to one number). Default 1000. */
  balance?: number;
  /** `false` bars the account from `statusApi.aspx` (errorstatus 3). Default `true`. */
  reportsAllowed?: boolean;
}

/** How delivery reports are produced for accepted messages. */
export interface ReportOptions {
  /** Milliseconds between delivery (submission, or the scheduled sendTime) and the report. Default 0 (queued at once). */
  delayMs?: number;
  /** Probability (0..1) that a number fails (status 20). Default 0. */
  failRate?: number;
  /** Gateway code of `failRate` failures. Default `UNDELIV`. */
  errorCode?: string;
  /** Numbers that always fail (status 20). */
  failMobiles?: string[];
  /** Gateway code of `failMobiles` failures. Default: `errorCode`. */
  failErrorCode?: string;
  /** Gateway code of delivered reports. Default `DELIVRD`. */
  deliveredCode?: string;
}

/** Replies (uplink messages) produced automatically when a matching message is delivered. */
export interface AutoReply {
  /** Only for messages whose content contains this text. */
  contains?: string;
  /** Only for this recipient number. */
  mobile?: string;
  /** The reply text. */
  reply: string;
  /** Milliseconds after delivery. Default 0. */
  delayMs?: number;
}

export type FaultType = 'latency' | 'html500' | 'malformed' | 'reset' | 'truncate';

/**
 * A misbehaviour of the platform's HTTP layer. `latency` delays the normal answer;
 * `html500` answers an ASP.NET error page without handling the request; `malformed`,
 * `reset` and `truncate` handle the request (a send IS recorded and billed) and then
 * answer broken XML, destroy the connection without an answer, or send fewer bytes than
 * the `Content-Length` header promises.
 */
export interface Fault {
  type: FaultType;
  /** Delay in ms before the answer (or the broken answer). `latency` defaults to 1000, others to 0. */
  ms?: number;
  /** Only requests to this path (case-insensitive), e.g. `/sms.aspx`. */
  path?: string;
  /** Only requests with this `action` (case-insensitive), e.g. `send`. */
  action?: string;
  /** Only the next N matching requests; then the fault clears itself. Default: until cleared. */
  times?: number;
  /** Body to answer instead of the built-in one (`html500` and `malformed`). */
  body?: string;
}

/**
 * What real servers send besides the clean shape of the interface text, to test end to
 * end that a client tolerates it. `true` turns every quirk on.
 */
export interface Quirks {
  /** CRLF and indentation between elements and before the root. */
  whitespace?: boolean;
  /** A single-quoted declaration: `<?xml version='1.0' encoding='utf-8'?>`. */
  singleQuotes?: boolean;
  /** `< checkCounts > </ checkCounts >` as in the interface text, and `</name >` closing tags. */
  spacedTags?: boolean;
  /** An extra `<userid>` child in each statusbox and callbox. */
  extraChildren?: boolean;
  /** `<returnsms/>` for an answer with nothing in it (no reports, no replies). */
  selfClosingEmpty?: boolean;
  /** Pull-endpoint failures in the send style (`Faild` + `message`) instead of `<errorstatus>`. */
  sendStylePullErrors?: boolean;
  /** `预付` / `后付` instead of `预付费` / `后付费`. */
  shortPayInfo?: boolean;
  /** A UTF-8 byte order mark before the declaration (UTF-8 endpoints only). */
  bom?: boolean;
}

export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** The platform's accounts. Default: `[DEFAULT_ACCOUNT]` (userId `12`, account `demo`, password `secret`, 1000 points). */
  accounts?: AccountConfig[];
  /** Blocked words (case-insensitive substrings). Default `['赌博', '六合彩', '代开发票']`. */
  keywords?: string[];
  /**
   * Content patterns refused with `发送内容包含sql注入字符`. A string is a case-insensitive
   * substring, or a regular expression when written `/source/flags`. Default: see README.
   */
  sqlInjectionPatterns?: Array<RegExp | string>;
  /** Refuse content without a `【签名】` at its start or end with `需要签名`. Default `false`. */
  requireSignature?: boolean;
  /** Delivery report behaviour. */
  report?: ReportOptions;
  /** Automatic replies on delivery. */
  autoReplies?: AutoReply[];
  /** Seed of the pseudo-random generator behind `report.failRate`. Default 1. */
  seed?: number;
  /** The platform clock (for `receivetime`, `sendTime` and `sent()`). Default `() => new Date()`. */
  now?: () => Date;
  /** First task ID handed out (a numeric string). Default `9007199254740993` (2^53 + 1: not exact as a JS number). */
  firstTaskId?: string;
  /** The `message` of a successful send. Default `ok` (some platforms say `操作成功`). */
  successMessage?: string;
  /** Wild-server XML (see `Quirks`); `true` = all of them. Default: none (the interface text's shape). */
  quirks?: Quirks | boolean;
  /** How many requests `requests()` keeps (the most recent). Default 10000. */
  maxRecordedRequests?: number;
  /**
   * Host names (besides IP addresses and `localhost`) under which the inbox page and the
   * control API answer, e.g. `['sms-emulator']` in a Compose network. A request naming any
   * other host is refused (a page elsewhere whose name was pointed here: DNS rebinding).
   * The `host` option is allowed when it is a name. Default none.
   */
  allowedHosts?: string[];
  /**
   * Limits of the inbox page's event stream (`GET /__emulator/events`): `maxClients` open at
   * once (default 16; one more is answered `503`), and `stallMs` (default 30000), how long a
   * client that stopped reading is kept before it is closed. A slow client is never sent more
   * than the latest snapshot: older ones are skipped, not buffered.
   */
  events?: { maxClients?: number; stallMs?: number };
  /** Name the blocked words on `checkkeyword` as real servers do (`包含非法字符：词`). Default `true`; `false` answers the bare `包含非法字符`. */
  checkKeywordWords?: boolean;
}

/** A message the platform accepted (one successful `send` request). */
export interface SentMessage {
  taskId: string;
  userId: string;
  account: string;
  /** Valid recipients in request order (duplicates kept: each one is billed). */
  mobiles: string[];
  /** Entries of the `mobile` list that are not valid numbers (not sent, not billed). */
  invalidMobiles: string[];
  content: string;
  /** Segments of one copy of the content. */
  segments: number;
  /** Points billed: segments x recipients. */
  cost: number;
  extNo: string;
  /** `sendTime` as received (empty = now). */
  sendTime: string;
  /** When it is (or was) delivered: the parsed sendTime, or the submission time. */
  deliverAt: Date;
  /** True once delivered (scheduled messages wait for their time). */
  delivered: boolean;
  charset: EmulatorCharset;
  path: string;
  submittedAt: Date;
  /** Each recipient's delivery report as it stands (in `mobiles` order): pending until it is queued. */
  reports: MessageReport[];
}

/** Where one recipient's delivery report stands. */
export interface MessageReport {
  mobile: string;
  /** `pending` until the report is queued for `statusApi.aspx` (10 = `delivered`, 20 = `failed`). */
  status: 'pending' | 'delivered' | 'failed';
  /** The gateway code of the report; empty while pending. */
  errorCode: string;
  /** The report's `receivetime`; empty while pending. */
  receiveTime: string;
}

/** Which recipient(s) of a message `deliverNow` and `failNow` settle, and how. */
export interface SettleOptions {
  /** Only this recipient. Default: every recipient whose report is still pending. */
  mobile?: string;
  /** `failNow` only: the gateway code. Default the `report.errorCode` option (`UNDELIV`). */
  errorCode?: string;
}

/** A delivery report waiting in (or injected into) an account's pull-once queue. */
export interface StatusReportRecord {
  account: string;
  mobile: string;
  taskId: string;
  /** 10 delivered, 20 failed. */
  status: 10 | 20;
  /** `YYYY-MM-DD HH:mm:ss`, Asia/Shanghai. */
  receiveTime: string;
  errorCode: string;
  extNo: string;
}

/** A reply (uplink message) waiting in an account's pull-once queue. */
export interface ReplyRecord {
  account: string;
  mobile: string;
  taskId: string;
  content: string;
  /** `YYYY-MM-DD HH:mm:ss`, Asia/Shanghai. */
  receiveTime: string;
  extNo: string;
}

/** A reply as the inbox shows it: queued when, and whether `callApi.aspx` has handed it out. */
export interface LoggedReply extends ReplyRecord {
  queuedAt: Date;
  pulled: boolean;
}

/**
 * What `GET /__emulator/events` sends, as JSON, on connect and after every change: the inbox
 * page's whole state. The page's types (`ui/api.ts`) are this type's JSON form.
 */
export interface InboxSnapshot {
  /** The latest messages, oldest first. */
  messages: SentMessage[];
  /** The latest replies, oldest first, pulled or not. */
  replies: LoggedReply[];
  /** Every account, its password masked. */
  accounts: AccountState[];
  fault: Fault | null;
  quirks: Quirks;
}

/** Selects an account by `account` name or, failing that, by `userId`. */
export interface AccountRef {
  account?: string;
  userId?: string;
}

export interface InjectReplyInput extends AccountRef {
  mobile: string;
  content: string;
  /** Default: the extno of the last message sent to this mobile by this account, else empty. */
  extNo?: string;
  /** Default: the task ID of the last message sent to this mobile by this account, else empty. */
  taskId?: string;
  /** Default: now. A `Date` or a `YYYY-MM-DD HH:mm:ss` string. */
  receiveTime?: Date | string;
}

export interface InjectReportInput extends AccountRef {
  mobile: string;
  taskId: string;
  status: 10 | 20;
  /** Default `DELIVRD` for 10, `UNDELIV` for 20. */
  errorCode?: string;
  extNo?: string;
  /** Default: now. A `Date` or a `YYYY-MM-DD HH:mm:ss` string. */
  receiveTime?: Date | string;
}

/** An account as it stands now. */
export interface AccountState {
  userId: string;
  account: string;
  password: string;
  payType: PayType;
  /** Points left (postpaid accounts may go negative). */
  balance: number;
  /** Points ever charged (the starting balance plus top-ups): prepaid `sendTotal`. */
  recharged: number;
  /** Points ever billed: postpaid `sendTotal`. */
  sentPoints: number;
  reportsAllowed: boolean;
  /** Reports waiting to be pulled. */
  pendingReports: number;
  /** Replies waiting to be pulled. */
  pendingReplies: number;
}

/** Upsert of an account: the fields given replace the current ones. */
export interface AccountUpdate extends Partial<AccountConfig> {
  account: string;
  /** Adds points to the balance (and to `recharged`). */
  topUp?: number;
}

/** One request to a platform endpoint, as received (secrets redacted from `params`). */
export interface RecordedRequest {
  at: Date;
  method: string;
  /** The request target as received (path and query), secret query values (password, newpwd, renewpwd, sign) as `***`. */
  url: string;
  path: string;
  charset: EmulatorCharset;
  /** Lower-cased `action`. */
  action: string;
  contentType: string;
  /** Decoded parameters with lower-cased names; `password`, `newpwd`, `renewpwd` and `sign` show as `***`. */
  params: Record<string, string>;
  /** The fault applied to it, if any. */
  fault: FaultType | undefined;
}

/** A running emulator. */
export interface Emulator {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** Messages accepted so far (optionally for one account), oldest first. */
  sent(filter?: AccountRef): SentMessage[];
  /** Requests to the platform endpoints, oldest first (the last `maxRecordedRequests`). */
  requests(): RecordedRequest[];
  /** One account's state; throws for an unknown account. */
  account(name: string): AccountState;
  /** All accounts' state. */
  accounts(): AccountState[];
  /** Creates or updates an account (password, balance, payType, reportsAllowed, topUp). */
  setAccount(update: AccountUpdate): AccountState;
  /** Queues a reply for `callApi.aspx`. */
  injectReply(input: InjectReplyInput): ReplyRecord;
  /** Queues a delivery report for `statusApi.aspx`. */
  injectReport(input: InjectReportInput): StatusReportRecord;
  /** Reports waiting in an account's queue (not removed). */
  pendingReports(name: string): StatusReportRecord[];
  /** Replies waiting in an account's queue (not removed). */
  pendingReplies(name: string): ReplyRecord[];
  /**
   * Queues a delivered report (status 10) now for the message's pending recipients (or
   * `mobile`), instead of waiting for its time or `report.delayMs`; what the inbox page's
   * "Deliver now" does. Returns the reports queued; throws for an unknown task ID.
   */
  deliverNow(taskId: string, options?: SettleOptions): StatusReportRecord[];
  /** Like `deliverNow`, with a failed report (status 20) carrying `errorCode`: the page's "Fail". */
  failNow(taskId: string, options?: SettleOptions): StatusReportRecord[];
  /** Runs every pending timer now: scheduled sends, delayed reports and auto-replies. */
  flush(): void;
  /** Switches the XML quirks at run time (`null`: back to the `quirks` option). */
  setQuirks(quirks: Quirks | boolean | null): void;
  /** Sets (or with `null` clears) the fault applied to matching requests. */
  setFault(fault: Fault | null): void;
  /** Back to the starting state: accounts, queues, messages, requests, timers, fault, quirks, task IDs. */
  reset(): void;
  /** Stops listening, drops open connections and clears every timer. */
  close(): Promise<void>;
}
