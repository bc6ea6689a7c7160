/**
 * The platform's state and the semantics of every action, without HTTP: accounts and
 * balances, the messages accepted, the pull-once queues and the timers that fill them.
 */
import { createHash } from 'node:crypto';
import {
  PlatformMessage,
  countSegments,
  formatShanghai,
  hasSignature,
  illegalKeywordMessage,
  isValidMobile,
  normalizeMobile,
  parseShanghai,
} from '@sms/core';
import type {
  AccountConfig,
  AccountRef,
  AccountState,
  AccountUpdate,
  AutoReply,
  EmulatorCharset,
  EmulatorOptions,
  InjectReplyInput,
  InjectReportInput,
  LoggedReply,
  PayType,
  ReplyRecord,
  SentMessage,
  SettleOptions,
  StatusReportRecord,
} from './types.js';
import * as answer from './answers.js';
import type { Answer } from './answers.js';

export const DEFAULT_KEYWORDS: readonly string[] = ['赌博', '六合彩', '代开发票'];

/**
 * Default SQL injection patterns: SQL syntax, not words, so ordinary Chinese text (and
 * its full-width punctuation) passes. An ASCII `'` is refused as real platforms do.
 */
export const DEFAULT_SQL_INJECTION_PATTERNS: readonly RegExp[] = [
  /'/,
  /--/,
  /\/\*/,
  /;\s*(select|insert|update|delete|drop|truncate|alter|create|exec)\b/i,
  /\bexec(ute)?\s+\w/i,
  /\binsert\s+into\b/i,
  /\bdelete\s+from\b/i,
  /\bdrop\s+(table|database)\b/i,
  /\bupdate\s+\w+\s+set\b/i,
  /\btruncate\s+table\b/i,
  /\bunion\s+(all\s+)?select\b/i,
  /\bxp_\w+/i,
];

export const DEFAULT_STATUS_NUM = 4000;

/** The account a platform has when none is given: the one every guide uses. */
export const DEFAULT_ACCOUNT: Readonly<AccountConfig> = Object.freeze({
  userId: '12',
  account: 'demo',
  password: 'secret',
  balance: 1000,
});
const DEFAULT_BALANCE = 1000;
const DEFAULT_FIRST_TASK_ID = '9007199254740993';
const MAX_TIMER_MS = 2_147_483_647;
const EXT_NO = /^\d{0,10}$/;

/** Turns `/source/flags` strings into RegExps and other strings into substring matchers. */
export function compilePatterns(patterns: ReadonlyArray<RegExp | string>): RegExp[] {
  return patterns.map((pattern) => {
    if (pattern instanceof RegExp)
      return new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
    const literal = /^\/(.+)\/([a-z]*)$/s.exec(pattern);
    if (literal) return new RegExp(literal[1]!, literal[2]!.replace(/[gy]/g, ''));
    return new RegExp(pattern.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'), 'i');
  });
}

/** mulberry32: small, seeded, good enough for failure rates. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Account {
  userId: string;
  account: string;
  password: string;
  payType: PayType;
  balance: number;
  recharged: number;
  sentPoints: number;
  reportsAllowed: boolean;
  reports: StatusReportRecord[];
  replies: ReplyRecord[];
}

interface Job {
  due: number;
  run: () => void;
  timer: NodeJS.Timeout | undefined;
}

/** What an endpoint receives: decoded parameters with lower-cased names. */
export type Params = ReadonlyMap<string, string>;

export type EndpointKind = 'sms' | 'status' | 'call';

/** Where a request arrived: its charset and path, and whether it uses the signed v2 auth. */
export interface RequestContext {
  charset: EmulatorCharset;
  path: string;
  signed: boolean;
}

/** Numbers and pay types from JSON (config files, the control API) are checked, not trusted. */
function points(value: unknown, field: string): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) {
    throw new TypeError(`[sms] [emulator] ${field} must be a number`);
  }
  return number;
}

function payTypeOf(value: unknown): PayType {
  if (value !== 'prepaid' && value !== 'postpaid') {
    throw new TypeError("[sms] [emulator] payType must be 'prepaid' or 'postpaid'");
  }
  return value;
}

function toAccount(config: AccountConfig): Account {
  if (!config || typeof config !== 'object' || !config.account || config.password === undefined) {
    throw new TypeError('[sms] [emulator] an account needs { userId, account, password }');
  }
  const balance =
    config.balance === undefined ? DEFAULT_BALANCE : points(config.balance, 'balance');
  return {
    userId: String(config.userId ?? ''),
    account: String(config.account),
    password: String(config.password),
    payType: config.payType === undefined ? 'prepaid' : payTypeOf(config.payType),
    balance,
    recharged: balance,
    sentPoints: 0,
    reportsAllowed: config.reportsAllowed ?? true,
    reports: [],
    replies: [],
  };
}

function accountState(account: Account): AccountState {
  return {
    userId: account.userId,
    account: account.account,
    password: account.password,
    payType: account.payType,
    balance: account.balance,
    recharged: account.recharged,
    sentPoints: account.sentPoints,
    reportsAllowed: account.reportsAllowed,
    pendingReports: account.reports.length,
    pendingReplies: account.replies.length,
  };
}

type Auth = { ok: true; account: Account } | { ok: false; missing: boolean };

/** A message as kept: which recipients the message has reached (their auto-replies are set). */
interface StoredMessage extends SentMessage {
  reached: boolean[];
}

const MAX_LOGGED_REPLIES = 10_000;

export class Platform {
  private readonly options: EmulatorOptions;
  private readonly now: () => Date;
  private readonly keywords: readonly string[];
  private readonly sqlPatterns: readonly RegExp[];
  private readonly autoReplies: readonly AutoReply[];
  private accountsByName = new Map<string, Account>();
  private messages: StoredMessage[] = [];
  private replyLog: Array<{ record: ReplyRecord; queuedAt: Date; pulled: boolean }> = [];
  private readonly replyEntries = new WeakMap<ReplyRecord, { pulled: boolean }>();
  private jobs = new Set<Job>();
  private nextTaskId = 0n;
  private random: () => number = Math.random;
  private closed = false;
  /** Called after anything the inbox shows changed (sends, reports, replies, accounts). */
  onChange: () => void = () => {};

  constructor(options: EmulatorOptions) {
    this.options = options;
    this.now = options.now ?? (() => new Date());
    this.keywords = options.keywords ?? DEFAULT_KEYWORDS;
    this.sqlPatterns = compilePatterns(
      options.sqlInjectionPatterns ?? DEFAULT_SQL_INJECTION_PATTERNS,
    );
    this.autoReplies = options.autoReplies ?? [];
    this.reset();
  }

  reset(): void {
    this.clearJobs();
    this.accountsByName = new Map();
    for (const config of this.options.accounts ?? [DEFAULT_ACCOUNT]) {
      this.accountsByName.set(String(config.account), toAccount(config));
    }
    this.messages = [];
    this.replyLog = [];
    const first = this.options.firstTaskId ?? DEFAULT_FIRST_TASK_ID;
    if (!/^\d+$/.test(String(first)))
      throw new TypeError('[sms] [emulator] firstTaskId must be digits');
    this.nextTaskId = BigInt(first);
    this.random = seededRandom(this.options.seed ?? 1);
    this.onChange();
  }

  close(): void {
    this.closed = true;
    this.clearJobs();
  }

  // ---- accounts -------------------------------------------------------------------

  private find(ref: AccountRef): Account | undefined {
    if (ref.account !== undefined && ref.account !== '')
      return this.accountsByName.get(ref.account);
    if (ref.userId !== undefined && ref.userId !== '') {
      for (const account of this.accountsByName.values()) {
        if (account.userId === String(ref.userId)) return account;
      }
    }
    return undefined;
  }

  private require(ref: AccountRef): Account {
    const account = this.find(ref);
    if (!account) {
      throw new Error(
        `[sms] [emulator] unknown account ${JSON.stringify(ref.account ?? ref.userId ?? '')}`,
      );
    }
    return account;
  }

  accountState(name: string): AccountState {
    return accountState(this.require({ account: name }));
  }

  allAccounts(): AccountState[] {
    return [...this.accountsByName.values()].map(accountState);
  }

  setAccount(update: AccountUpdate): AccountState {
    if (!update || typeof update.account !== 'string' || update.account === '') {
      throw new TypeError('[sms] [emulator] setAccount needs an account name');
    }
    // Check everything before changing anything.
    const payType = update.payType === undefined ? undefined : payTypeOf(update.payType);
    const balance = update.balance === undefined ? undefined : points(update.balance, 'balance');
    const topUp = update.topUp === undefined ? undefined : points(update.topUp, 'topUp');
    let account = this.accountsByName.get(update.account);
    if (!account) {
      if (update.password === undefined) {
        throw new TypeError('[sms] [emulator] a new account needs a password');
      }
      const start = balance ?? (topUp === undefined ? DEFAULT_BALANCE : 0);
      account = toAccount({
        userId: update.userId ?? '',
        account: update.account,
        password: update.password,
        balance: start,
      });
      this.accountsByName.set(update.account, account);
    } else if (balance !== undefined) {
      account.recharged += Math.max(0, balance - account.balance);
      account.balance = balance;
    }
    if (update.userId !== undefined) account.userId = String(update.userId);
    if (update.password !== undefined) account.password = String(update.password);
    if (payType !== undefined) account.payType = payType;
    if (update.reportsAllowed !== undefined)
      account.reportsAllowed = Boolean(update.reportsAllowed);
    if (topUp !== undefined) {
      account.balance += topUp;
      account.recharged += topUp;
    }
    this.onChange();
    return accountState(account);
  }

  /**
   * The latest messages accepted, oldest first, for the inbox: at most `max` messages, and
   * no more once `maxRecipients` recipients are in (a batch of 1000 numbers is one message).
   */
  recent(max: number, maxRecipients: number): SentMessage[] {
    let count = 0;
    let recipients = 0;
    for (let i = this.messages.length - 1; i >= 0 && count < max; i--) {
      if (count > 0 && recipients + this.messages[i]!.mobiles.length > maxRecipients) break;
      recipients += this.messages[i]!.mobiles.length;
      count += 1;
    }
    return this.sent(undefined, count);
  }

  sent(filter?: AccountRef, max = Number.POSITIVE_INFINITY): SentMessage[] {
    const copy = ({ reached: _, ...m }: StoredMessage): SentMessage => ({
      ...m,
      mobiles: [...m.mobiles],
      invalidMobiles: [...m.invalidMobiles],
      deliverAt: new Date(m.deliverAt),
      submittedAt: new Date(m.submittedAt),
      reports: m.reports.map((report) => ({ ...report })),
    });
    if (!filter || (!filter.account && !filter.userId))
      return (
        max < this.messages.length ? this.messages.slice(this.messages.length - max) : this.messages
      ).map(copy);
    const account = this.find(filter);
    return this.messages
      .filter((message) => account !== undefined && message.account === account.account)
      .map(copy);
  }

  pendingReports(name: string): StatusReportRecord[] {
    return this.require({ account: name }).reports.map((r) => ({ ...r }));
  }

  pendingReplies(name: string): ReplyRecord[] {
    return this.require({ account: name }).replies.map((r) => ({ ...r }));
  }

  /** The last `max` replies ever queued, oldest first, pulled or not (for the inbox). */
  loggedReplies(max: number): LoggedReply[] {
    return this.replyLog
      .slice(-max)
      .map(({ record, queuedAt, pulled }) => ({ ...record, queuedAt: new Date(queuedAt), pulled }));
  }

  private queueReply(account: Account, reply: ReplyRecord): void {
    account.replies.push(reply);
    const entry = { record: reply, queuedAt: this.now(), pulled: false };
    this.replyEntries.set(reply, entry);
    if (this.replyLog.length >= MAX_LOGGED_REPLIES * 2)
      this.replyLog = this.replyLog.slice(-MAX_LOGGED_REPLIES);
    this.replyLog.push(entry);
    this.onChange();
  }

  // ---- injection ------------------------------------------------------------------

  private receiveTime(value: Date | string | undefined): string {
    if (value === undefined || value === '') return formatShanghai(this.now());
    if (value instanceof Date) return formatShanghai(value);
    return String(value);
  }

  injectReply(input: InjectReplyInput): ReplyRecord {
    const account = this.require(input);
    const last = this.lastMessageTo(account.account, input.mobile);
    const reply: ReplyRecord = {
      account: account.account,
      mobile: String(input.mobile),
      taskId: input.taskId ?? last?.taskId ?? '',
      content: String(input.content),
      receiveTime: this.receiveTime(input.receiveTime),
      extNo: input.extNo ?? last?.extNo ?? '',
    };
    this.queueReply(account, reply);
    return { ...reply };
  }

  injectReport(input: InjectReportInput): StatusReportRecord {
    const account = this.require(input);
    const status = Number(input.status) === 20 ? 20 : 10;
    const report: StatusReportRecord = {
      account: account.account,
      mobile: String(input.mobile),
      taskId: String(input.taskId),
      status,
      receiveTime: this.receiveTime(input.receiveTime),
      errorCode: input.errorCode ?? (status === 10 ? this.deliveredCode() : this.failCode()),
      extNo: input.extNo ?? '',
    };
    account.reports.push(report);
    this.onChange();
    return { ...report };
  }

  private lastMessageTo(account: string, mobile: string): SentMessage | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const message = this.messages[i]!;
      if (message.account === account && message.mobiles.includes(mobile)) return message;
    }
    return undefined;
  }

  // ---- timers ---------------------------------------------------------------------

  /** Runs `run` after `delayMs` of real time (at once when 0); timers never hold the process. */
  private later(delayMs: number, run: () => void): void {
    if (this.closed) return;
    if (!(delayMs > 0)) {
      run();
      return;
    }
    const job: Job = { due: Date.now() + delayMs, run, timer: undefined };
    this.jobs.add(job);
    this.arm(job);
  }

  private arm(job: Job): void {
    const remaining = job.due - Date.now();
    job.timer = setTimeout(
      () => {
        if (job.due - Date.now() > 0) {
          this.arm(job);
          return;
        }
        this.jobs.delete(job);
        job.run();
      },
      Math.min(Math.max(remaining, 0), MAX_TIMER_MS),
    );
    job.timer.unref();
  }

  private clearJobs(): void {
    for (const job of this.jobs) clearTimeout(job.timer);
    this.jobs.clear();
  }

  flush(): void {
    // Jobs may schedule more jobs (a scheduled send schedules its reports): run until none are left.
    for (let rounds = 0; this.jobs.size > 0 && rounds < 1_000_000; rounds++) {
      let next: Job | undefined;
      for (const job of this.jobs) if (!next || job.due < next.due) next = job;
      if (!next) break;
      clearTimeout(next.timer);
      this.jobs.delete(next);
      next.run();
    }
  }

  // ---- delivery -------------------------------------------------------------------

  private deliveredCode(): string {
    return this.options.report?.deliveredCode ?? 'DELIVRD';
  }

  private failCode(): string {
    return this.options.report?.errorCode ?? 'UNDELIV';
  }

  /** Queues recipient `index`'s report now, unless it was settled already. */
  private settle(
    message: StoredMessage,
    account: Account,
    index: number,
    status: 10 | 20,
    errorCode: string,
  ): StatusReportRecord | undefined {
    const state = message.reports[index]!;
    if (state.status !== 'pending') return undefined;
    const report: StatusReportRecord = {
      account: account.account,
      mobile: state.mobile,
      taskId: message.taskId,
      status,
      receiveTime: formatShanghai(this.now()),
      errorCode,
      extNo: message.extNo,
    };
    state.status = status === 10 ? 'delivered' : 'failed';
    state.errorCode = errorCode;
    state.receiveTime = report.receiveTime;
    account.reports.push(report);
    this.onChange();
    return { ...report };
  }

  /** The message reaches recipient `index`: its auto-replies are set going. */
  private reach(message: StoredMessage, account: Account, index: number): void {
    message.reached[index] = true;
    if (message.reached.every(Boolean)) message.delivered = true;
    const mobile = message.mobiles[index]!;
    for (const rule of this.autoReplies) {
      if (rule.mobile !== undefined && normalizeMobile(rule.mobile) !== mobile) continue;
      if (rule.contains !== undefined && !message.content.includes(rule.contains)) continue;
      this.later(rule.delayMs ?? 0, () => {
        this.queueReply(account, {
          account: account.account,
          mobile,
          taskId: message.taskId,
          content: rule.reply,
          receiveTime: formatShanghai(this.now()),
          extNo: message.extNo,
        });
      });
    }
  }

  private deliver(message: StoredMessage, account: Account): void {
    message.delivered = true;
    const report = this.options.report ?? {};
    const failMobiles = new Set(report.failMobiles ?? []);
    message.mobiles.forEach((mobile, index) => {
      // Settled from the inbox (or `deliverNow`/`failNow`) before its time: nothing more to do.
      if (message.reached[index]) return;
      let status: 10 | 20 = 10;
      let errorCode = this.deliveredCode();
      if (failMobiles.has(mobile)) {
        status = 20;
        errorCode = report.failErrorCode ?? this.failCode();
      } else if ((report.failRate ?? 0) > 0 && this.random() < (report.failRate ?? 0)) {
        status = 20;
        errorCode = this.failCode();
      }
      this.later(report.delayMs ?? 0, () => {
        this.settle(message, account, index, status, errorCode);
      });
      this.reach(message, account, index);
    });
  }

  /** `deliverNow` / `failNow`: settles the pending recipients of a message at once. */
  settleNow(taskId: string, status: 10 | 20, options: SettleOptions = {}): StatusReportRecord[] {
    const message = this.messages.find((m) => m.taskId === String(taskId));
    if (!message) throw new Error(`[sms] [emulator] unknown task ${JSON.stringify(taskId)}`);
    const account = this.require({ account: message.account });
    const mobile = options.mobile === undefined ? undefined : normalizeMobile(options.mobile);
    if (mobile !== undefined && !message.mobiles.includes(mobile)) {
      throw new TypeError(`[sms] [emulator] task ${taskId} was not sent to ${options.mobile}`);
    }
    const errorCode =
      options.errorCode === undefined || String(options.errorCode).trim() === ''
        ? status === 10
          ? this.deliveredCode()
          : this.failCode()
        : String(options.errorCode).trim();
    const queued: StatusReportRecord[] = [];
    message.mobiles.forEach((to, index) => {
      if (mobile !== undefined && to !== mobile) return;
      // A message failed before it went out never reaches the phone: no auto-reply.
      if (!message.reached[index]) {
        if (status === 10) this.reach(message, account, index);
        else {
          message.reached[index] = true;
          if (message.reached.every(Boolean)) message.delivered = true;
        }
      }
      const report = this.settle(message, account, index, status, errorCode);
      if (report) queued.push(report);
    });
    return queued;
  }

  // ---- the endpoints --------------------------------------------------------------

  /**
   * account + password, or for the signed v2 endpoints userid (or account) + timestamp +
   * sign = md5(account + password + timestamp), no password on the wire.
   */
  private authenticate(params: Params, signed: boolean): Auth {
    if (signed) return this.authenticateSigned(params);
    const name = (params.get('account') ?? '').trim();
    const password = params.get('password') ?? '';
    if (name === '' || password === '') return { ok: false, missing: true };
    const account = this.accountsByName.get(name);
    if (!account || account.password !== password) return { ok: false, missing: false };
    const userId = (params.get('userid') ?? '').trim();
    // An empty userid is fine (account + password suffice); a wrong one is not.
    if (userId !== '' && userId !== account.userId) return { ok: false, missing: false };
    return { ok: true, account };
  }

  private authenticateSigned(params: Params): Auth {
    const name = (params.get('account') ?? '').trim();
    const userId = (params.get('userid') ?? '').trim();
    const timestamp = (params.get('timestamp') ?? '').trim();
    const sign = (params.get('sign') ?? '').trim().toLowerCase();
    if ((name === '' && userId === '') || timestamp === '' || sign === '') {
      return { ok: false, missing: true };
    }
    const account = name !== '' ? this.accountsByName.get(name) : this.find({ userId });
    if (!account || (userId !== '' && userId !== account.userId))
      return { ok: false, missing: false };
    const expected = createHash('md5')
      .update(account.account + account.password + timestamp, 'utf8')
      .digest('hex');
    if (sign !== expected) return { ok: false, missing: false };
    return { ok: true, account };
  }

  /** The XML answer of one request to sms.aspx / smsGBK.aspx / statusApi.aspx / callApi.aspx. */
  handle(kind: EndpointKind, params: Params, context: RequestContext): Answer {
    const action = (params.get('action') ?? '').trim().toLowerCase();
    const { signed } = context;
    if (kind === 'status') return this.queryReports(action, params, signed);
    if (kind === 'call') return this.queryReplies(action, params, signed);
    switch (action) {
      case 'send':
        return this.send(params, context);
      case 'overage':
        return this.overage(params, signed);
      case 'checkkeyword':
        return this.checkKeyword(params, signed);
      case 'changespwd':
        return this.changePassword(params, signed);
      default:
        return answer.genericFailure(PlatformMessage.otherError);
    }
  }

  private blockedWords(content: string): string[] {
    const lower = content.toLowerCase();
    return this.keywords.filter((word) => word !== '' && lower.includes(word.toLowerCase()));
  }

  private send(params: Params, context: RequestContext): Answer {
    const auth = this.authenticate(params, context.signed);
    if (!auth.ok) {
      return answer.sendFailure(
        auth.missing ? PlatformMessage.authMissing : PlatformMessage.authFailed,
      );
    }
    const account = auth.account;
    const content = params.get('content') ?? '';
    const mobileParam = (params.get('mobile') ?? '').trim();
    if (this.sqlPatterns.some((pattern) => pattern.test(content))) {
      return answer.sendFailure(PlatformMessage.sqlInjection);
    }
    if (mobileParam === '') return answer.sendFailure(PlatformMessage.mobileEmpty);
    if (content.trim() === '') return answer.sendFailure(PlatformMessage.contentEmpty);
    const words = this.blockedWords(content);
    if (words.length > 0) return answer.sendFailure(illegalKeywordMessage(words));
    if (this.options.requireSignature && !hasSignature(content)) {
      return answer.sendFailure(PlatformMessage.signatureRequired);
    }
    const extNo = (params.get('extno') ?? '').trim();
    if (!EXT_NO.test(extNo)) return answer.sendFailure(PlatformMessage.otherError);
    const sendTime = (params.get('sendtime') ?? '').trim();
    const now = this.now();
    let deliverAt = now;
    if (sendTime !== '') {
      const parsed = parseShanghai(sendTime);
      if (!parsed) return answer.sendFailure(PlatformMessage.otherError);
      if (parsed.getTime() > now.getTime()) deliverAt = parsed;
    }
    // The list separator is a half-width comma; entries that are not numbers are dropped.
    const mobiles: string[] = [];
    const invalidMobiles: string[] = [];
    for (const entry of mobileParam.split(',')) {
      const trimmed = entry.trim();
      if (trimmed === '') continue;
      const mobile = normalizeMobile(trimmed);
      if (isValidMobile(mobile)) mobiles.push(mobile);
      else invalidMobiles.push(trimmed);
    }
    if (mobiles.length === 0) return answer.sendFailure(PlatformMessage.mobileEmpty);
    const segments = countSegments(content);
    const cost = segments * mobiles.length;
    if (account.payType === 'prepaid' && cost > account.balance) {
      return answer.sendFailure(PlatformMessage.insufficientBalance);
    }
    account.balance -= cost;
    account.sentPoints += cost;
    const taskId = String(this.nextTaskId++);
    const message: StoredMessage = {
      taskId,
      userId: account.userId,
      account: account.account,
      mobiles,
      invalidMobiles,
      content,
      segments,
      cost,
      extNo,
      sendTime,
      deliverAt,
      delivered: false,
      charset: context.charset,
      path: context.path,
      submittedAt: now,
      reports: mobiles.map((mobile) => ({
        mobile,
        status: 'pending',
        errorCode: '',
        receiveTime: '',
      })),
      reached: mobiles.map(() => false),
    };
    this.messages.push(message);
    this.onChange();
    this.later(deliverAt.getTime() - now.getTime(), () => this.deliver(message, account));
    return answer.sendSuccess({
      message: this.options.successMessage ?? PlatformMessage.ok,
      remainPoint: account.balance,
      taskId,
      successCounts: mobiles.length,
    });
  }

  private overage(params: Params, signed: boolean): Answer {
    const auth = this.authenticate(params, signed);
    if (!auth.ok) {
      return answer.overageFailure(
        auth.missing ? PlatformMessage.authMissing : PlatformMessage.authFailed,
      );
    }
    const { account } = auth;
    const sendTotal = account.payType === 'prepaid' ? account.recharged : account.sentPoints;
    return answer.overageSuccess(account.payType, account.balance, sendTotal);
  }

  private checkKeyword(params: Params, signed: boolean): Answer {
    const auth = this.authenticate(params, signed);
    if (!auth.ok) {
      return answer.messageOnly(
        auth.missing ? PlatformMessage.authMissing : PlatformMessage.authFailed,
      );
    }
    const words = this.blockedWords(params.get('content') ?? '');
    if (words.length === 0) return answer.messageOnly(PlatformMessage.keywordClean);
    // Real servers name the words here as on a send; `checkKeywordWords: false` keeps the
    // bare message some deployments answer.
    return answer.messageOnly(
      this.options.checkKeywordWords === false
        ? PlatformMessage.illegalKeyword
        : illegalKeywordMessage(words),
    );
  }

  private changePassword(params: Params, signed: boolean): Answer {
    const auth = this.authenticate(params, signed);
    if (!auth.ok) {
      return answer.passwordFailure(
        auth.missing ? PlatformMessage.authMissing : PlatformMessage.authFailed,
      );
    }
    const newPassword = params.get('newpwd') ?? '';
    const again = params.get('renewpwd') ?? '';
    if (newPassword === '') return answer.passwordFailure(PlatformMessage.authMissing);
    if (newPassword !== again) return answer.passwordFailure(PlatformMessage.passwordMismatch);
    auth.account.password = newPassword;
    return answer.passwordChanged();
  }

  private pullAuth(action: string, params: Params, signed: boolean): Account | Answer {
    const auth = this.authenticate(params, signed);
    if (!auth.ok) return answer.pullError(auth.missing ? 1 : 2);
    if (action !== 'query') return answer.pullError(4);
    return auth.account;
  }

  private queryReports(action: string, params: Params, signed: boolean): Answer {
    const account = this.pullAuth(action, params, signed);
    if ('kind' in account) return account;
    if (!account.reportsAllowed) return answer.pullError(3);
    const raw = (params.get('statusnum') ?? '').trim();
    if (raw !== '' && !/^\d+$/.test(raw)) return answer.pullError(4);
    const asked = raw === '' ? DEFAULT_STATUS_NUM : Number(raw);
    const count = asked > 0 ? asked : DEFAULT_STATUS_NUM;
    // Pull-once: whatever is in this answer leaves the queue for good.
    const reports = account.reports.splice(0, count);
    if (reports.length > 0) this.onChange();
    return answer.statusBoxes(reports, account.userId);
  }

  private queryReplies(action: string, params: Params, signed: boolean): Answer {
    const account = this.pullAuth(action, params, signed);
    if ('kind' in account) return account;
    const replies = account.replies.splice(0);
    for (const reply of replies) {
      const entry = this.replyEntries.get(reply);
      if (entry) entry.pulled = true;
    }
    if (replies.length > 0) this.onChange();
    return answer.callBoxes(replies, account.userId);
  }
}
