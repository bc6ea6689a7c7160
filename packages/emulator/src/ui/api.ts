/** What the page reads from the emulator (JSON: dates arrive as ISO strings) and how it writes. */
import type {
  FaultType,
  InboxSnapshot,
  MessageReport as ServerMessageReport,
  Quirks as ServerQuirks,
} from '../types.js';

/**
 * The JSON form of a server type, as `JSON.parse(JSON.stringify(value))` gives it back:
 * a `Date` becomes its ISO string, functions and `undefined` fields vanish, the rest keeps
 * its shape. The page's types are derived with it, so a field the server adds or drops shows
 * (or breaks) here too.
 */
export type Jsonify<T> = T extends Date
  ? string
  : T extends string | number | boolean | null | undefined
    ? T
    : T extends (...args: never[]) => unknown
      ? never
      : T extends readonly (infer Item)[]
        ? Jsonify<Item>[]
        : T extends object
          ? {
              [K in keyof T as T[K] extends (...args: never[]) => unknown ? never : K]: Jsonify<
                T[K]
              >;
            }
          : never;

/** One event of `GET /__emulator/events`: the latest messages and replies, oldest first. */
export type Snapshot = Jsonify<InboxSnapshot>;
export type Message = Snapshot['messages'][number];
export type MessageReport = Message['reports'][number];
export type ReportStatus = ServerMessageReport['status'];
export type Reply = Snapshot['replies'][number];
/** An account; its `password` is always masked by the server. */
export type Account = Snapshot['accounts'][number];
export type Fault = NonNullable<Snapshot['fault']>;
export type { FaultType };
export type Quirks = Snapshot['quirks'];

/** The fault menu, in its order: every `FaultType` of the server (checked in api.type-test.ts). */
export const FAULT_TYPES = [
  'latency',
  'html500',
  'malformed',
  'reset',
  'truncate',
] as const satisfies readonly FaultType[];

/** The quirk switches' labels: one per quirk of the server, no more (`satisfies`). */
export const QUIRKS = {
  whitespace: 'CRLF and indentation',
  singleQuotes: 'Single-quoted <?xml … ?>',
  spacedTags: '< checkCounts >, </name >',
  extraChildren: 'Extra <userid> in boxes',
  selfClosingEmpty: '<returnsms/> when empty',
  sendStylePullErrors: 'Faild + message on pulls',
  shortPayInfo: '预付 / 后付',
  bom: 'UTF-8 byte order mark',
} as const satisfies Record<keyof ServerQuirks, string>;

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
