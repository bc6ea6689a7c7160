/**
 * The emulator's inbox: every message sent, grouped by number like a phone's conversations,
 * kept live by the server-sent events of `/__emulator/events`; actions go through the
 * JSON control API of the same origin.
 */
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import './app.css';
import {
  type Account,
  FAULT_TYPES,
  type Fault,
  type Message,
  type MessageReport,
  QUIRKS,
  type Quirks,
  type Reply,
  type Snapshot,
  platformTime,
  post,
} from './api.js';

type Connection = 'connecting' | 'live' | 'reconnecting';

/** Shows what went wrong with the last action (the control API's own message). */
type Run = (action: () => Promise<unknown>) => Promise<void>;

type Item =
  | { kind: 'sent'; key: string; at: number; message: Message; report: MessageReport }
  | { kind: 'reply'; key: string; at: number; reply: Reply };

interface Conversation {
  mobile: string;
  /** The account that wrote last: the one a reply from the page goes to. */
  account: string;
  items: Item[];
  last: number;
  /** Order of the latest item in the snapshot: breaks ties between items of the same millisecond. */
  lastSeq: number;
}

/** One conversation per number: a message to three numbers shows in three of them. */
function conversations(snapshot: Snapshot): Conversation[] {
  const byMobile = new Map<string, Conversation>();
  let seq = 0;
  const add = (mobile: string, item: Item, account: string) => {
    let conversation = byMobile.get(mobile);
    if (!conversation) {
      conversation = { mobile, account, items: [], last: 0, lastSeq: 0 };
      byMobile.set(mobile, conversation);
    }
    conversation.items.push(item);
    seq += 1;
    if (item.at >= conversation.last) {
      conversation.last = item.at;
      conversation.lastSeq = seq;
      if (item.kind === 'sent') conversation.account = account;
    }
  };
  for (const message of snapshot.messages) {
    const at = Date.parse(message.submittedAt);
    message.reports.forEach((report, index) => {
      const key = `${message.taskId}:${index}`;
      add(report.mobile, { kind: 'sent', key, at, message, report }, message.account);
    });
  }
  snapshot.replies.forEach((reply, index) => {
    const at = Date.parse(reply.queuedAt);
    add(reply.mobile, { kind: 'reply', key: `reply:${index}`, at, reply }, reply.account);
  });
  const list = [...byMobile.values()];
  for (const conversation of list) conversation.items.sort((a, b) => a.at - b.at);
  // Newest conversation first; inside one, oldest at the top as on a phone.
  return list.sort((a, b) => b.last - a.last || b.lastSeq - a.lastSeq);
}

function App() {
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let source: EventSource | undefined;
    let retry: number | undefined;
    const connect = () => {
      const current = new EventSource('/__emulator/events');
      source = current;
      current.addEventListener('snapshot', (event) => {
        setSnapshot(JSON.parse((event as MessageEvent<string>).data) as Snapshot);
        setConnection('live');
      });
      current.onerror = () => {
        setConnection('reconnecting');
        // The browser retries a dropped stream by itself but gives up for good after an
        // HTTP error (a proxy's 502 while the emulator restarts): start a new one then.
        if (current.readyState === EventSource.CLOSED) retry = window.setTimeout(connect, 2000);
      };
    };
    connect();
    return () => {
      window.clearTimeout(retry);
      source?.close();
    };
  }, []);

  const run: Run = async (action) => {
    try {
      await action();
      setError(null);
    } catch (cause) {
      setError(cause instanceof Error ? cause.message : String(cause));
    }
  };

  const threads = useMemo(() => (snapshot ? conversations(snapshot) : []), [snapshot]);

  return (
    <>
      <header class="top">
        <h1>
          SMS emulator <span class="muted">inbox</span>
        </h1>
        <span class={`connection ${connection}`} role="status">
          {connection === 'live'
            ? 'live'
            : connection === 'connecting'
              ? 'connecting…'
              : 'reconnecting…'}
        </span>
        <div class="top-actions">
          <button type="button" onClick={() => run(() => post('flush', {}))}>
            Run timers now
          </button>
          <button
            type="button"
            class="danger"
            onClick={() => {
              if (window.confirm('Reset the emulator: accounts, messages, queues, fault, quirks?'))
                void run(() => post('reset', {}));
            }}
          >
            Reset
          </button>
        </div>
      </header>
      {error && (
        <p class="error" role="alert">
          {error}
          <button type="button" class="link" onClick={() => setError(null)}>
            Dismiss
          </button>
        </p>
      )}
      <div class="layout">
        <main>
          {!snapshot ? (
            <p class="empty">Connecting to the emulator…</p>
          ) : threads.length === 0 ? (
            <p class="empty">
              No messages yet. Send one to <code>{location.origin}/sms.aspx</code> with any client:
              it shows up here at once.
            </p>
          ) : (
            threads.map((thread) => (
              <ConversationView key={thread.mobile} thread={thread} run={run} />
            ))
          )}
        </main>
        {snapshot && (
          <aside>
            <Accounts accounts={snapshot.accounts} run={run} />
            <FaultPanel fault={snapshot.fault} run={run} />
            <QuirksPanel quirks={snapshot.quirks} run={run} />
          </aside>
        )}
      </div>
    </>
  );
}

function ConversationView({ thread, run }: { thread: Conversation; run: Run }) {
  const [text, setText] = useState('');
  const send = (event: Event) => {
    event.preventDefault();
    const content = text.trim();
    if (!content) return;
    void run(async () => {
      await post('replies', { account: thread.account, mobile: thread.mobile, content });
      setText('');
    });
  };
  return (
    <section class="conversation" aria-label={`Conversation with ${thread.mobile}`}>
      <header>
        <h2 class="number">{thread.mobile}</h2>
        <span class="muted">account {thread.account}</span>
      </header>
      <ol class="thread">
        {thread.items.map((item) => (
          <li key={item.key} class={item.kind === 'sent' ? 'out' : 'in'}>
            {item.kind === 'sent' ? (
              <SentBubble message={item.message} report={item.report} run={run} />
            ) : (
              <ReplyBubble reply={item.reply} />
            )}
          </li>
        ))}
      </ol>
      <form class="reply" onSubmit={send}>
        <input
          type="text"
          aria-label={`Reply to ${thread.mobile}`}
          placeholder={`Reply as ${thread.mobile}…`}
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
        />
        <button type="submit" disabled={text.trim() === ''}>
          Send reply
        </button>
      </form>
    </section>
  );
}

const FAIL_CODES = ['UNDELIV', 'REJECTD', 'EXPIRED', 'MK:0011', 'MB:1042', 'DB:0141'];

function SentBubble({
  message,
  report,
  run,
}: {
  message: Message;
  report: MessageReport;
  run: Run;
}) {
  const [code, setCode] = useState('UNDELIV');
  const settle = (verb: 'deliver' | 'fail') =>
    run(() =>
      post(`messages/${encodeURIComponent(message.taskId)}/${verb}`, {
        mobile: report.mobile,
        ...(verb === 'fail' ? { errorCode: code } : {}),
      }),
    );
  const scheduled = message.sendTime !== '';
  return (
    <article class="bubble" aria-label={`Message ${message.taskId} to ${report.mobile}`}>
      <p class="content">{message.content}</p>
      <dl class="meta">
        <div>
          <dt>task</dt>
          <dd>{message.taskId}</dd>
        </div>
        <div>
          <dt>segments</dt>
          <dd>{message.segments}</dd>
        </div>
        <div>
          <dt>cost</dt>
          <dd>{message.cost}</dd>
        </div>
        {message.extNo !== '' && (
          <div>
            <dt>extNo</dt>
            <dd>{message.extNo}</dd>
          </div>
        )}
        <div>
          <dt>charset</dt>
          <dd>{message.charset}</dd>
        </div>
        <div>
          <dt>{scheduled ? 'scheduled' : 'sent'}</dt>
          <dd>{scheduled ? message.sendTime : platformTime(message.submittedAt)}</dd>
        </div>
        {message.mobiles.length > 1 && (
          <div>
            <dt>to</dt>
            <dd>{message.mobiles.length} numbers</dd>
          </div>
        )}
        {message.invalidMobiles.length > 0 && (
          <div>
            <dt>dropped</dt>
            <dd>{message.invalidMobiles.join(', ')}</dd>
          </div>
        )}
      </dl>
      <p class={`report ${report.status}`}>
        <span class="badge">{report.status}</span>
        {report.status === 'pending' ? (
          <span class="muted">
            {scheduled && !message.delivered ? 'waits for its time' : 'report not queued yet'}
          </span>
        ) : (
          <span>
            <code>{report.errorCode}</code> <span class="muted">{report.receiveTime}</span>
          </span>
        )}
      </p>
      {report.status === 'pending' && (
        <div class="actions">
          <button type="button" onClick={() => settle('deliver')}>
            Deliver now
          </button>
          <input
            type="text"
            class="code"
            aria-label="Failure code"
            list="fail-codes"
            value={code}
            onInput={(event) => setCode(event.currentTarget.value)}
          />
          <button
            type="button"
            class="danger"
            onClick={() => settle('fail')}
            disabled={code.trim() === ''}
          >
            Fail
          </button>
        </div>
      )}
    </article>
  );
}

function ReplyBubble({ reply }: { reply: Reply }) {
  return (
    <article class="bubble" aria-label={`Reply from ${reply.mobile}`}>
      <p class="content">{reply.content}</p>
      <p class="meta-line muted">
        {reply.receiveTime}
        {reply.extNo !== '' && ` · extNo ${reply.extNo}`} ·{' '}
        {reply.pulled ? 'pulled by callApi.aspx' : 'waiting in callApi.aspx'}
      </p>
    </article>
  );
}

function Accounts({ accounts, run }: { accounts: Account[]; run: Run }) {
  return (
    <section class="panel" aria-labelledby="accounts-title">
      <h2 id="accounts-title">Accounts</h2>
      {accounts.map((account) => (
        <AccountCard key={account.account} account={account} run={run} />
      ))}
    </section>
  );
}

function AccountCard({ account, run }: { account: Account; run: Run }) {
  const [topUp, setTopUp] = useState('100');
  const name = account.account;
  return (
    <div class="account">
      <div class="account-head">
        <strong>{name}</strong>
        <span class="muted">userid {account.userId || '(none)'}</span>
      </div>
      <dl class="figures">
        <div>
          <dt>balance</dt>
          <dd class={account.balance < 0 ? 'negative' : ''}>{account.balance}</dd>
        </div>
        <div>
          <dt>pay type</dt>
          <dd>
            <select
              aria-label={`Pay type of ${name}`}
              value={account.payType}
              onChange={(event) =>
                run(() => post('accounts', { account: name, payType: event.currentTarget.value }))
              }
            >
              <option value="prepaid">prepaid</option>
              <option value="postpaid">postpaid</option>
            </select>
          </dd>
        </div>
        <div>
          <dt>password</dt>
          <dd>{account.password}</dd>
        </div>
        <div>
          <dt>waiting</dt>
          <dd>
            {account.pendingReports} reports, {account.pendingReplies} replies
          </dd>
        </div>
      </dl>
      <form
        class="inline"
        onSubmit={(event) => {
          event.preventDefault();
          void run(() => post('accounts', { account: name, topUp: Number(topUp) }));
        }}
      >
        <input
          type="number"
          aria-label={`Points to add to ${name}`}
          value={topUp}
          onInput={(event) => setTopUp(event.currentTarget.value)}
        />
        <button type="submit">Top up</button>
      </form>
    </div>
  );
}

function FaultPanel({ fault, run }: { fault: Fault | null; run: Run }) {
  const [type, setType] = useState<Fault['type']>('latency');
  const [ms, setMs] = useState('');
  const [path, setPath] = useState('');
  const [action, setAction] = useState('');
  const [times, setTimes] = useState('');
  const apply = (event: Event) => {
    event.preventDefault();
    const next: Fault = { type };
    if (ms !== '') next.ms = Number(ms);
    if (path !== '') next.path = path;
    if (action !== '') next.action = action;
    if (times !== '') next.times = Number(times);
    void run(() => post('fault', next));
  };
  return (
    <section class="panel" aria-labelledby="fault-title">
      <h2 id="fault-title">Fault</h2>
      <p class={fault ? 'fault-on' : 'muted'} role="status">
        {fault ? describeFault(fault) : 'None: every request is answered normally.'}
      </p>
      <form class="grid" onSubmit={apply}>
        <label>
          Type
          <select
            value={type}
            onChange={(event) => setType(event.currentTarget.value as Fault['type'])}
          >
            {FAULT_TYPES.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Delay (ms)
          <input type="number" min="0" value={ms} onInput={(e) => setMs(e.currentTarget.value)} />
        </label>
        <label>
          Path
          <input
            placeholder="/sms.aspx"
            value={path}
            onInput={(e) => setPath(e.currentTarget.value)}
          />
        </label>
        <label>
          Action
          <input
            placeholder="send"
            value={action}
            onInput={(e) => setAction(e.currentTarget.value)}
          />
        </label>
        <label>
          Times
          <input
            type="number"
            min="1"
            placeholder="until cleared"
            value={times}
            onInput={(e) => setTimes(e.currentTarget.value)}
          />
        </label>
        <div class="buttons">
          <button type="submit">Apply fault</button>
          <button type="button" disabled={!fault} onClick={() => run(() => post('fault', null))}>
            Clear fault
          </button>
        </div>
      </form>
    </section>
  );
}

function describeFault(fault: Fault): string {
  const parts: string[] = [fault.type];
  if (fault.ms !== undefined) parts.push(`${fault.ms} ms`);
  if (fault.path) parts.push(`on ${fault.path}`);
  if (fault.action) parts.push(`action=${fault.action}`);
  parts.push(fault.times === undefined ? 'until cleared' : `${fault.times} more`);
  return parts.join(' · ');
}

function QuirksPanel({ quirks, run }: { quirks: Quirks; run: Run }) {
  return (
    <section class="panel" aria-labelledby="quirks-title">
      <h2 id="quirks-title">Quirks</h2>
      <ul class="checks">
        {(Object.keys(QUIRKS) as Array<keyof typeof QUIRKS>).map((key) => (
          <li key={key}>
            <label>
              <input
                type="checkbox"
                checked={quirks[key] === true}
                onChange={(event) =>
                  run(() => post('quirks', { ...quirks, [key]: event.currentTarget.checked }))
                }
              />
              <code>{key}</code> <span class="muted">{QUIRKS[key]}</span>
            </label>
          </li>
        ))}
      </ul>
    </section>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(
    <>
      <App />
      <datalist id="fail-codes">
        {FAIL_CODES.map((code) => (
          <option key={code} value={code} />
        ))}
      </datalist>
    </>,
    root,
  );
}
