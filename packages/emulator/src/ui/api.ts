/** What the page reads from the emulator (JSON: dates arrive as ISO strings) and how it writes. */

export type ReportStatus = 'pending' | 'delivered' | 'failed';

export interface MessageReport {
  mobile: string;
  status: ReportStatus;
  errorCode: string;
  receiveTime: string;
}

export interface Message {
  taskId: string;
  account: string;
  mobiles: string[];
  invalidMobiles: string[];
  content: string;
  segments: number;
  cost: number;
  extNo: string;
  sendTime: string;
  deliverAt: string;
  delivered: boolean;
  charset: string;
  path: string;
  submittedAt: string;
  reports: MessageReport[];
}

export interface Reply {
  account: string;
  mobile: string;
  taskId: string;
  content: string;
  receiveTime: string;
  extNo: string;
  queuedAt: string;
  pulled: boolean;
}

export interface Account {
  userId: string;
  account: string;
  /** Always masked by the server. */
  password: string;
  payType: 'prepaid' | 'postpaid';
  balance: number;
  recharged: number;
  sentPoints: number;
  reportsAllowed: boolean;
  pendingReports: number;
  pendingReplies: number;
}

export const FAULT_TYPES = ['latency', 'html500', 'malformed', 'reset', 'truncate'] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

export interface Fault {
  type: FaultType;
  ms?: number;
  path?: string;
  action?: string;
  times?: number;
  body?: string;
}

export const QUIRKS = {
  whitespace: 'CRLF and indentation',
  singleQuotes: 'Single-quoted <?xml … ?>',
  spacedTags: '< checkCounts >, </name >',
  extraChildren: 'Extra <userid> in boxes',
  selfClosingEmpty: '<returnsms/> when empty',
  sendStylePullErrors: 'Faild + message on pulls',
  shortPayInfo: '预付 / 后付',
  bom: 'UTF-8 byte order mark',
} as const;
export type Quirks = Partial<Record<keyof typeof QUIRKS, boolean>>;

/** One event of `GET /__emulator/events`: the latest messages and replies, oldest first. */
export interface Snapshot {
  messages: Message[];
  replies: Reply[];
  accounts: Account[];
  fault: Fault | null;
  quirks: Quirks;
}

export const CONTROL = '/__emulator/';

/** POSTs JSON to the control API (the only type it takes) and throws its `error` on failure. */
export async function post(route: string, body: unknown): Promise<unknown> {
  const res = await fetch(CONTROL + route, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await res.json().catch(() => null)) as { error?: string } | null;
  if (!res.ok) throw new Error(answer?.error ?? `HTTP ${res.status}`);
  return answer;
}

const shanghai = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** `YYYY-MM-DD HH:mm:ss` in the platform's time (Asia/Shanghai), as its reports write it. */
export function platformTime(iso: string): string {
  return shanghai.format(new Date(iso));
}
