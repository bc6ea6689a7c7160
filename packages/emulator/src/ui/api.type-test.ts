/**
 * Type-level test, run by `tsc -p tsconfig.ui.json` (the package's typecheck): the page's
 * types are the JSON form of the server's, field for field. A field added to, renamed in or
 * dropped from the server's types (or the page's) fails the typecheck here.
 */
import type {
  AccountState,
  Fault as ServerFault,
  FaultType,
  InboxSnapshot,
  LoggedReply,
  MessageReport as ServerMessageReport,
  Quirks as ServerQuirks,
  SentMessage,
} from '../types.js';
import type {
  Account,
  FAULT_TYPES,
  Fault,
  Jsonify,
  Message,
  MessageReport,
  QUIRKS,
  Quirks,
  Reply,
  Snapshot,
} from './api.js';

/** True when A and B are the same type (not merely assignable either way). */
type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

export type Checks = [
  // The same fields on both sides.
  Expect<Equal<keyof Snapshot, keyof InboxSnapshot>>,
  Expect<Equal<keyof Message, keyof SentMessage>>,
  Expect<Equal<keyof MessageReport, keyof ServerMessageReport>>,
  Expect<Equal<keyof Reply, keyof LoggedReply>>,
  Expect<Equal<keyof Account, keyof AccountState>>,
  Expect<Equal<keyof Fault, keyof ServerFault>>,
  Expect<Equal<keyof Quirks, keyof ServerQuirks>>,
  // Dates arrive as ISO strings; everything else as it was.
  Expect<Equal<Message['submittedAt'], string>>,
  Expect<Equal<Message['deliverAt'], string>>,
  Expect<Equal<Reply['queuedAt'], string>>,
  Expect<Equal<Message['charset'], SentMessage['charset']>>,
  Expect<Equal<MessageReport['status'], ServerMessageReport['status']>>,
  Expect<Equal<Account['payType'], AccountState['payType']>>,
  Expect<Equal<Snapshot['fault'], Fault | null>>,
  // Optional stays optional.
  Expect<Equal<Fault['ms'], number | undefined>>,
  Expect<Equal<Pick<Fault, 'ms'>, { ms?: number }>>,
  Expect<Equal<Quirks['bom'], boolean | undefined>>,
  Expect<Equal<Jsonify<{ at: Date; f: () => void; n?: number }>, { at: string; n?: number }>>,
  // The page's menus cover the server's fault types and quirks, no more, no fewer.
  Expect<Equal<(typeof FAULT_TYPES)[number], FaultType>>,
  Expect<Equal<keyof typeof QUIRKS, keyof ServerQuirks>>,
];
