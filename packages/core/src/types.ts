/** The two wire charsets: `sms.aspx` speaks UTF-8, `smsGBK.aspx` speaks GBK (GB2312). */
export type Charset = 'utf-8' | 'gbk';

/** Who is calling. `userId` may be empty: many accounts work with account + password alone. */
export interface Credentials {
  userId: string;
  account: string;
  /** Sent in the form body only; passwords are often 32-char uppercase MD5 strings (opaque here). */
  password: string;
}

export interface SendInput {
  /** An array, or one string with half- or full-width commas. `+86`, spaces and dashes are removed. */
  mobiles: string | readonly string[];
  /** The text, signature included (`【签名】…`). */
  content: string;
  /** Schedule for later: a `Date`, or `YYYY-MM-DD HH:mm:ss` in Asia/Shanghai time. */
  sendTime?: Date | string | undefined;
  /** Extension sub-number: 1 to 10 digits, if the channel supports it. */
  extNo?: string | undefined;
}

export interface SendResult {
  /** The platform's task ID, kept as a string (it may have 16+ digits). */
  taskId: string;
  /** How many messages the platform accepted. */
  successCounts: number;
  /** Balance left after this send. */
  remainPoint: number;
  /** The platform's message (`ok`, `操作成功`, …). */
  message: string;
}

export interface BalanceResult {
  payType: 'prepaid' | 'postpaid';
  /** Points left. */
  overage: number;
  /** Prepaid: points ever charged. Postpaid: messages sent. */
  sendTotal: number;
  /** `payinfo` as the platform wrote it. */
  payInfo: string;
}

export interface CheckKeywordResult {
  blocked: boolean;
  /** The blocked words, when the platform names them. */
  words: string[];
  message: string;
}

export interface StatusReport {
  mobile: string;
  taskId: string;
  /** From `status` alone: 10 is delivered, anything else failed. */
  status: 'delivered' | 'failed';
  statusCode: number;
  /** `receivetime` read as Asia/Shanghai time (the fetch time if the platform sent garbage). */
  receivedAt: Date;
  /** `receivetime` as the platform wrote it. */
  receiveTime: string;
  /** The upstream gateway's raw code (`DELIVRD`, `UNDELIV`, `MK:0011`, …): informative only. */
  errorCode: string;
  extNo: string;
}

export interface Reply {
  mobile: string;
  taskId: string;
  content: string;
  receivedAt: Date;
  receiveTime: string;
  extNo: string;
}

export interface ChangePasswordResult {
  message: string;
}

/** A request ready for the wire: always a POST form, credentials in the body. */
export interface WireRequest {
  path: string;
  body: Buffer;
  contentType: string;
  /** The charset the endpoint answers in when nothing says otherwise. */
  charset: Charset;
}
