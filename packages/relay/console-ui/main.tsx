import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type {
  ConsoleAccounts,
  ConsoleEventDetail,
  ConsoleEvents,
  ConsoleMessageDetail,
  ConsoleMessages,
  ConsoleOverview,
} from '../src/console/api-types.js';
import { SendingAccounts } from './accounts.js';
import { Unauthorized, api } from './api.js';
import './app.css';
import { Events, type Filters } from './events.js';
import { time } from './format.js';
import { Login } from './login.js';
import { Messages } from './messages.js';
import { Accounts, Targets } from './overview.js';
import { beforeOf } from './pager.js';

/** The token lives in this tab only: gone when the tab closes, never in a cookie. */
const TOKEN_KEY = 'sms-relay-console-token';
const REFRESH_MS = 2000;

function Console({ token, signOut }: { token: string; signOut: (why?: string) => void }) {
  const [overview, setOverview] = useState<ConsoleOverview | null>(null);
  const [list, setList] = useState<ConsoleEvents | null>(null);
  const [filters, setFilters] = useState<Filters>({ type: '', target: '', state: '', account: '' });
  const [cursors, setCursors] = useState<string[]>([]);
  const [open, setOpen] = useState<string | null>(null);
  const [detail, setDetail] = useState<ConsoleEventDetail | null>(null);
  const [messages, setMessages] = useState<ConsoleMessages | null>(null);
  const [messageStatus, setMessageStatus] = useState('');
  const [messageCursors, setMessageCursors] = useState<string[]>([]);
  const [openMessage, setOpenMessage] = useState<string | null>(null);
  const [messageDetail, setMessageDetail] = useState<ConsoleMessageDetail | null>(null);
  const [notice, setNotice] = useState<{ text: string; bad: boolean } | null>(null);
  const [windowName, setWindowName] = useState('15m');
  const [tick, setTick] = useState(0);
  /** Why the last refresh failed (the relay or its store down): cleared by the next that works. */
  const [loadError, setLoadError] = useState<string | null>(null);

  const fail = useCallback(
    (thrown: unknown) => {
      if (thrown instanceof Unauthorized) signOut('The token was refused: sign in again.');
      else
        setNotice({ text: String(thrown instanceof Error ? thrown.message : thrown), bad: true });
    },
    [signOut],
  );

  const loadAccounts = useCallback(() => api<ConsoleAccounts>(token, 'accounts'), [token]);

  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  // `tick` (every REFRESH_MS, and after each action) asks for a refresh.
  useEffect(() => {
    let live = true;
    const query = new URLSearchParams({ limit: '50', ...beforeOf(cursors) });
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    const messageQuery = new URLSearchParams({ limit: '50', ...beforeOf(messageCursors) });
    if (messageStatus) messageQuery.set('status', messageStatus);
    Promise.all([
      api<ConsoleOverview>(token, `overview?window=${windowName}`),
      api<ConsoleEvents>(token, `events?${query}`),
      open ? api<ConsoleEventDetail>(token, `events/${encodeURIComponent(open)}`) : null,
      api<ConsoleMessages>(token, `messages?${messageQuery}`),
      openMessage
        ? api<ConsoleMessageDetail>(token, `messages/${encodeURIComponent(openMessage)}`)
        : null,
    ]).then(
      ([o, l, d, m, md]) => {
        if (!live) return;
        setOverview(o);
        setList(l);
        setDetail(d);
        setMessages(m);
        setMessageDetail(md);
        setLoadError(null);
      },
      (thrown: unknown) => {
        if (!live) return;
        if (thrown instanceof Unauthorized) signOut('The token was refused: sign in again.');
        else setLoadError(thrown instanceof Error ? thrown.message : String(thrown));
      },
    );
    return () => {
      live = false;
    };
  }, [
    token,
    filters,
    cursors,
    open,
    messageStatus,
    messageCursors,
    openMessage,
    windowName,
    tick,
    signOut,
  ]);

  const act = (label: string, path: string) => {
    api<{ replayed?: number; enabled?: string; status?: string }>(token, path, 'POST').then(
      (answer) => {
        setNotice({
          text:
            answer.replayed !== undefined
              ? `${label}: ${answer.replayed} ${answer.replayed === 1 ? 'delivery' : 'deliveries'} queued again.`
              : answer.status !== undefined
                ? `${label}: now ${answer.status}.`
                : `${label}: done.`,
          bad: false,
        });
        setTick((t) => t + 1);
      },
      fail,
    );
  };

  const loadProblem = loadError && (
    <p class="notice error" role="alert">
      Could not refresh: {loadError} (trying again every {REFRESH_MS / 1000} s)
    </p>
  );
  // A first load that fails (the store down, a proxy's 502) says why instead of "Loading…".
  if (!overview) return loadProblem || <p class="hint">Loading…</p>;
  const now = overview.relay.now;
  return (
    <>
      <header class="top">
        <h1>sms-relay console</h1>
        <span class="dim">
          v{overview.relay.version} · {overview.relay.store} · {overview.totals.events} events ·{' '}
          {overview.totals.pending} pending · {overview.totals.dead} dead ·{' '}
          {overview.totals.quarantined} quarantined
        </span>
        <label>
          Window
          <select
            value={windowName}
            onChange={(e) => setWindowName((e.target as HTMLSelectElement).value)}
          >
            {['15m', '1h', '6h', '24h'].map((w) => (
              <option key={w} value={w}>
                {w}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      {loadProblem}
      {notice && (
        <p class={notice.bad ? 'notice error' : 'notice'} role="status">
          {notice.text}
        </p>
      )}
      <Accounts accounts={overview.accounts} now={now} />
      <SendingAccounts load={loadAccounts} tick={tick} fail={fail} formatTime={time} />
      <Targets targets={overview.targets} now={now} act={act} />
      <Events
        overview={overview}
        list={list}
        filters={filters}
        setFilters={setFilters}
        cursors={cursors}
        setCursors={setCursors}
        open={open}
        setOpen={setOpen}
        detail={detail}
        act={act}
      />
      <Messages
        list={messages}
        status={messageStatus}
        setStatus={setMessageStatus}
        cursors={messageCursors}
        setCursors={setMessageCursors}
        open={openMessage}
        setOpen={setOpenMessage}
        detail={messageDetail}
        act={act}
      />
    </>
  );
}

function App() {
  const [token, setToken] = useState<string | null>(() => sessionStorage.getItem(TOKEN_KEY));
  const [why, setWhy] = useState<string | null>(null);
  const signOut = useCallback((reason?: string) => {
    sessionStorage.removeItem(TOKEN_KEY);
    setWhy(reason ?? null);
    setToken(null);
  }, []);
  if (!token) {
    return (
      <Login
        error={why}
        onToken={(t) => {
          sessionStorage.setItem(TOKEN_KEY, t);
          setToken(t);
        }}
      />
    );
  }
  return <Console token={token} signOut={signOut} />;
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
