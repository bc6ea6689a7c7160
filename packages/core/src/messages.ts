/**
 * The platform's own messages, copied exactly from the interface text
 * (`shared/spec/sms-http-api.zh.txt`). Client and emulator both read this one table.
 */

/** Stable codes for what the platform says when it refuses a request. */
export type PlatformErrorCode =
  | 'AUTH_MISSING'
  | 'AUTH_FAILED'
  | 'SQL_INJECTION'
  | 'MOBILE_EMPTY'
  | 'CONTENT_EMPTY'
  | 'ILLEGAL_KEYWORD'
  | 'INSUFFICIENT_BALANCE'
  | 'SIGNATURE_REQUIRED'
  | 'REPORTS_NOT_PERMITTED'
  | 'BAD_PARAMS'
  | 'PLATFORM_ERROR';

export const PlatformMessage = {
  ok: 'ok',
  /** Seen in the wild as a success message instead of `ok`. */
  operationOk: '操作成功',
  authMissing: '用户名或密码不能为空',
  authFailed: '用户名或密码错误',
  sqlInjection: '发送内容包含sql注入字符',
  mobileEmpty: '短信号码不能为空',
  contentEmpty: '短信内容不能为空',
  /** Followed by the offending words on a send: `包含非法字符：词1,词2`. */
  illegalKeyword: '包含非法字符',
  insufficientBalance: '对不起，您当前要发送的量大于您当前余额',
  signatureRequired: '需要签名',
  otherError: '其他错误',
  keywordClean: '没有包含屏蔽词',
  passwordChanged: '密码修改成功',
  reportsNotPermitted: '该用户不允许查看状态报告',
  badParams: '参数不正确',
  /** Not in the spec: what a platform answers when the two new passwords differ. */
  passwordMismatch: '两次输入的密码不一致',
} as const;

/** The full-width colon that separates `包含非法字符` from the words. */
export const KEYWORD_SEPARATOR = '：';

export const ReturnStatus = {
  success: 'Success',
  /** The balance query's success spelling (sic). */
  balanceSuccess: 'Sucess',
  /** The failure spelling (sic). */
  failed: 'Faild',
} as const;

export const PayInfo = { prepaid: '预付费', postpaid: '后付费' } as const;

/** `<errorstatus><error>N</error>` numbers of the two pull endpoints. */
export const PULL_ERRORS: ReadonlyArray<{
  number: number;
  code: PlatformErrorCode;
  remark: string;
}> = [
  { number: 1, code: 'AUTH_MISSING', remark: PlatformMessage.authMissing },
  { number: 2, code: 'AUTH_FAILED', remark: PlatformMessage.authFailed },
  { number: 3, code: 'REPORTS_NOT_PERMITTED', remark: PlatformMessage.reportsNotPermitted },
  { number: 4, code: 'BAD_PARAMS', remark: PlatformMessage.badParams },
];

const EXACT_MESSAGES: ReadonlyArray<[string, PlatformErrorCode]> = [
  [PlatformMessage.authMissing, 'AUTH_MISSING'],
  [PlatformMessage.authFailed, 'AUTH_FAILED'],
  [PlatformMessage.sqlInjection, 'SQL_INJECTION'],
  [PlatformMessage.mobileEmpty, 'MOBILE_EMPTY'],
  [PlatformMessage.contentEmpty, 'CONTENT_EMPTY'],
  [PlatformMessage.insufficientBalance, 'INSUFFICIENT_BALANCE'],
  [PlatformMessage.reportsNotPermitted, 'REPORTS_NOT_PERMITTED'],
  [PlatformMessage.badParams, 'BAD_PARAMS'],
];

/** Maps a platform failure message to its stable code (and the blocked words, if any). */
export function codeForMessage(message: string): { code: PlatformErrorCode; words: string[] } {
  const text = message.trim();
  for (const [known, code] of EXACT_MESSAGES) {
    if (text === known) return { code, words: [] };
  }
  if (text.startsWith(PlatformMessage.illegalKeyword)) {
    return { code: 'ILLEGAL_KEYWORD', words: parseKeywordList(text) };
  }
  if (text.includes(PlatformMessage.signatureRequired)) {
    return { code: 'SIGNATURE_REQUIRED', words: [] };
  }
  return { code: 'PLATFORM_ERROR', words: [] };
}

/** The words after `包含非法字符：` (or `:`), split on half- or full-width commas. */
export function parseKeywordList(message: string): string[] {
  const rest = message.slice(PlatformMessage.illegalKeyword.length).replace(/^[：:\s]+/, '');
  return rest
    .split(/[,，、\s]+/)
    .map((word) => word.trim())
    .filter((word) => word.length > 0);
}

/** The message a send failure carries for blocked words: `包含非法字符：a,b`. */
export function illegalKeywordMessage(words: readonly string[]): string {
  return `${PlatformMessage.illegalKeyword}${KEYWORD_SEPARATOR}${words.join(',')}`;
}

export function pullErrorByNumber(number: number) {
  return PULL_ERRORS.find((entry) => entry.number === number);
}

export function pullErrorByCode(code: PlatformErrorCode) {
  return PULL_ERRORS.find((entry) => entry.code === code);
}
