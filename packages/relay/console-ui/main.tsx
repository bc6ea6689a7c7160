import { Fragment, render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type {
  ConsoleAccount,
  ConsoleAccounts,
  ConsoleAttempt,
  ConsoleEvent,
  ConsoleEventDetail,
  ConsoleEvents,
  ConsoleMessage,
  ConsoleMessageDetail,
  ConsoleMessages,
  ConsoleOverview,
  ConsoleTarget,
} from '../src/console/api-types.js';
import { SendingAccounts } from './accounts.js';
import './app.css';
import { Pager, beforeOf } from './pager.js';

/** The token lives in this tab only: gone when the tab closes, never in a cookie. */
const TOKEN_KEY = 'sms-relay-console-token';
const REFRESH_MS = 2000;

class Unauthorized extends Error {}

/** Calls the console API with the bearer token (relative URLs: works behind a path prefix). */
async function api<T>(token: string, path: string, method: 'GET' | 'POST' = 'GET'): Promise<T> {
  const response = await fetch(`api/console/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    cache: 'no-store',
  });
  if (response.status === 401) throw new Unauthorized('the token was refused');
  const body = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`);
  return body;
}

const pad = (n: number) => String(n).padStart(2, '0');
function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
function ago(ms: number | null | undefined, now: number): string {
  if (ms === null || ms === undefined) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}
const ms = (value: number | null | undefined) =>
  value === null || value === undefined ? '–' : `${Math.round(value)} ms`;

function Login({ onToken, error }: { onToken: (token: string) => void; error: string | null }) {
  const [value, setValue] = useState('');
  const [checking, setChecking] = useState(false);
  const [problem, setProblem] = useState<string | null>(error);
  const submit = async (e: Event) => {
    e.preventDefault();
    setChecking(true);
    try {
      await api(value.trim(), 'overview');
      onToken(value.trim());
    } catch (thrown) {
      setProblem(
        thrown instanceof Unauthorized
          ? 'Wrong token.'
          : thrown instanceof Error
            ? thrown.message
            : String(thrown),
      );
    } finally {
      setChecking(false);
    }
  };
  return (
    <section class="login">
      <h1>sms-relay console</h1>
      <form onSubmit={submit}>
        <label>
          Token
          <input
            type="password"
            name="token"
            autocomplete="current-password"
            value={value}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <button type="submit" disabled={checking}>
          Sign in
        </button>
        <p class="hint">
          The relay's <code>http.token</code>. Kept in this tab only (sessionStorage).
        </p>
        {problem && (
          <p class="error" role="alert">
            {problem}
          </p>
        )}
      </form>
    </section>
  );
}

function Chart({ target }: { target: ConsoleTarget }) {
  const width = 300;
  const height = 64;
  const slots = target.activity;
  const max = Math.max(1, ...slots.map((s) => s.delivered + s.failed));
  const bar = width / Math.max(1, slots.length);
  const total = slots.reduce((sum, s) => sum + s.delivered + s.failed, 0);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-label={`${target.name}: ${total} attempts in the window`}
      >
        <line x1="0" y1={height - 0.5} x2={width} y2={height - 0.5} class="axis" />
        {slots.map((s, i) => {
          const ok = (s.delivered / max) * (height - 4);
          const bad = (s.failed / max) * (height - 4);
          return (
            <g key={s.at}>
              <title>{`${time(s.at)}: ${s.delivered} delivered, ${s.failed} failed`}</title>
              {ok > 0 && (
                <rect
                  class="ok"
                  x={i * bar + 0.5}
                  y={height - ok}
                  width={Math.max(1, bar - 1)}
                  height={ok}
                />
              )}
              {bad > 0 && (
                <rect
                  class="bad"
                  x={i * bar + 0.5}
                  y={height - ok - bad}
                  width={Math.max(1, bar - 1)}
                  height={bad}
                />
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        attempts per {Math.round((slots[1]?.at ?? 0) - (slots[0]?.at ?? 0)) / 1000} s (peak{' '}
        {total === 0 ? 0 : max}): <span class="ok-key">delivered</span>{' '}
        <span class="bad-key">failed</span>
      </figcaption>
    </figure>
  );
}

function Accounts({ accounts, now }: { accounts: ConsoleAccount[]; now: number }) {
  return (
    <section>
      <h2>Accounts</h2>
      <table>
        <thead>
          <tr>
            <th>Account</th>
            <th>Platform</th>
            <th>Polling</th>
            <th>Last poll</th>
            <th>Errors by code</th>
            <th>Fetched (reports / replies)</th>
            <th>Events stored</th>
          </tr>
        </thead>
        <tbody>
          {accounts.map((a) => (
            <tr key={a.name}>
              <td>{a.name}</td>
              <td class="dim">{a.platform}</td>
              <td>
                <span class={a.polling ? 'badge ok' : 'badge'}>
                  {a.polling ? 'polling' : 'idle'}
                </span>
              </td>
              <td title={time(a.lastPoll?.at)}>
                {ago(a.lastPoll?.at, now)}
                {a.lastPoll?.error && <span class="badge bad">{a.lastPoll.error}</span>}
              </td>
              <td>
                {Object.keys(a.errors).length === 0
                  ? 'none'
                  : Object.entries(a.errors).map(([code, n]) => (
                      <span key={code} class="badge bad">
                        {code} × {n}
                      </span>
                    ))}
              </td>
              <td>
                {a.fetched.reports} / {a.fetched.replies}
              </td>
              <td title={`newest ${time(a.lastEventAt)}`}>{a.stored}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint">Polling, errors and fetched counts are this process's, since it started.</p>
    </section>
  );
}

function Targets(props: {
  targets: ConsoleTarget[];
  now: number;
  act: (label: string, path: string) => void;
}) {
  const { targets, now, act } = props;
  return (
    <section>
      <h2>Targets</h2>
      <div class="cards">
        {targets.map((t) => (
          <article class="card" key={t.name} aria-label={`target ${t.name}`}>
            <header>
              <h3>{t.name}</h3>
              <span class="dim">{t.origin}</span>
              {t.disabled && (
                <span class="badge bad" title={t.disabled.reason ?? ''}>
                  disabled {ago(t.disabled.at, now)}
                </span>
              )}
            </header>
            <dl class="counts">
              <div>
                <dt>delivered</dt>
                <dd>{t.delivered}</dd>
              </div>
              <div>
                <dt>retrying</dt>
                <dd>{t.retrying}</dd>
              </div>
              <div>
                <dt>pending</dt>
                <dd>{t.pending}</dd>
              </div>
              <div>
                <dt>dead</dt>
                <dd class={t.dead > 0 ? 'bad' : ''}>{t.dead}</dd>
              </div>
              <div>
                <dt>last status</dt>
                <dd>{t.lastAttempt ? (t.lastAttempt.status ?? 'no answer') : '–'}</dd>
              </div>
              <div>
                <dt>latency (last / mean)</dt>
                <dd>
                  {ms(t.lastAttempt?.latencyMs)} / {ms(t.meanLatencyMs)}
                </dd>
              </div>
            </dl>
            <Chart target={t} />
            <div class="actions">
              {t.dead > 0 && (
                <button
                  type="button"
                  onClick={() =>
                    act(
                      `Replay all dead of ${t.name}`,
                      `targets/${encodeURIComponent(t.name)}/replay`,
                    )
                  }
                >
                  Replay all dead
                </button>
              )}
              {t.disabled && (
                <button
                  type="button"
                  onClick={() =>
                    act(`Enable ${t.name}`, `targets/${encodeURIComponent(t.name)}/enable`)
                  }
                >
                  Enable
                </button>
              )}
            </div>
          </article>
        ))}
      </div>
    </section>
  );
}

function Attempts({ attempts }: { attempts: ConsoleAttempt[] }) {
  if (attempts.length === 0) return <p class="hint">No attempt yet.</p>;
  return (
    <table class="attempts">
      <thead>
        <tr>
          <th>Target</th>
          <th>Time</th>
          <th>Outcome</th>
          <th>Status</th>
          <th>Latency</th>
          <th>Response or error</th>
        </tr>
      </thead>
      <tbody>
        {attempts.map((a, i) => (
          <tr key={`${a.target}:${a.at}:${i}`} class="attempt">
            <td>{a.target}</td>
            <td>{time(a.at)}</td>
            <td>
              <span class={`badge ${a.outcome === 'delivered' ? 'ok' : 'bad'}`}>{a.outcome}</span>
            </td>
            <td>{a.status ?? 'no answer'}</td>
            <td>{ms(a.latencyMs)}</td>
            <td class="excerpt">
              {[a.error, a.response].filter((x): x is string => Boolean(x)).join(' — ') || '–'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Detail({ detail }: { detail: ConsoleEventDetail }) {
  return (
    <div class="detail">
      <h4>Attempts</h4>
      <Attempts attempts={detail.attempts} />
      <h4>Data</h4>
      <dl class="data">
        {Object.entries(detail.data).map(([key, value]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

interface Filters {
  type: string;
  target: string;
  state: string;
  account: string;
}

function Events(props: {
  overview: ConsoleOverview;
  list: ConsoleEvents | null;
  filters: Filters;
  setFilters: (f: Filters) => void;
  cursors: string[];
  setCursors: (cursors: string[]) => void;
  open: string | null;
  setOpen: (id: string | null) => void;
  detail: ConsoleEventDetail | null;
  act: (label: string, path: string) => void;
}) {
  const { overview, list, filters, setFilters, cursors, setCursors, open, setOpen, detail, act } =
    props;
  const select = (key: keyof Filters, label: string, options: string[]) => (
    <label>
      {label}
      <select
        name={key}
        value={filters[key]}
        onChange={(e) => {
          setFilters({ ...filters, [key]: (e.target as HTMLSelectElement).value });
          setCursors([]);
        }}
      >
        <option value="">all</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <section>
      <h2>Events</h2>
      <div class="filters">
        {select('type', 'Type', ['sms.report', 'sms.reply'])}
        {select(
          'target',
          'Target',
          overview.targets.map((t) => t.name),
        )}
        {select('state', 'State', ['pending', 'delivered', 'dead'])}
        {select(
          'account',
          'Account',
          overview.accounts.map((a) => a.name),
        )}
      </div>
      <table class="events">
        <thead>
          <tr>
            <th>Time</th>
            <th>Type</th>
            <th>Number</th>
            <th>Account</th>
            <th>Summary</th>
            <th>Deliveries</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list?.events.length === 0 && (
            <tr>
              <td colSpan={7} class="hint">
                No event matches.
              </td>
            </tr>
          )}
          {list?.events.map((e: ConsoleEvent) => (
            <Fragment key={e.id}>
              <tr class="event" data-id={e.id}>
                <td title={e.id}>{time(e.createdAt)}</td>
                <td>{e.type}</td>
                <td>{e.mobile ?? '–'}</td>
                <td>{e.account}</td>
                <td class="dim">{e.summary ?? ''}</td>
                <td>
                  {e.deliveries.map((d) => (
                    <span
                      key={d.target}
                      class={`badge state-${d.state}`}
                      title={d.lastError ?? (d.lastStatus === null ? '' : `HTTP ${d.lastStatus}`)}
                    >
                      {d.target}:{' '}
                      {d.state === 'pending' && d.failedAttempts > 0 ? 'retrying' : d.state}
                    </span>
                  ))}
                </td>
                <td class="actions">
                  <button
                    type="button"
                    aria-expanded={open === e.id}
                    onClick={() => setOpen(open === e.id ? null : e.id)}
                  >
                    Attempts
                  </button>
                  {e.deliveries.some((d) => d.state === 'dead') && (
                    <button
                      type="button"
                      onClick={() =>
                        act(`Replay ${e.id}`, `events/${encodeURIComponent(e.id)}/replay`)
                      }
                    >
                      Replay
                    </button>
                  )}
                </td>
              </tr>
              {open === e.id && (
                <tr class="detail-row">
                  <td colSpan={7}>
                    {detail && detail.id === e.id ? <Detail detail={detail} /> : 'Loading…'}
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      <Pager cursors={cursors} setCursors={setCursors} next={list?.next} />
    </section>
  );
}

const MESSAGE_STATUSES = ['queued', 'sending', 'sent', 'failed', 'unknown', 'expired'];

/** The first numbers of a message, and how many more. */
function numbers(to: string[]): string {
  const shown = to.slice(0, 3).join(', ');
  return to.length > 3 ? `${shown} +${to.length - 3}` : shown;
}

function MessageDetail({ message }: { message: ConsoleMessageDetail }) {
  const fields: Array<[string, string]> = [
    ['content', message.content],
    ['metadata', message.metadata === null ? '–' : JSON.stringify(message.metadata)],
    ['callback', message.callbackOrigin ?? '–'],
    ['attempts', String(message.attempts)],
    ['error', message.error ? `${message.error.code}: ${message.error.message ?? ''}` : '–'],
    ['send at', time(message.sendAt)],
    ['sent', time(message.sentAt)],
    ['expires', time(message.expiresAt)],
    ['updated', time(message.updatedAt)],
  ];
  return (
    <div class="detail">
      <h4>Numbers</h4>
      <table class="recipients">
        <thead>
          <tr>
            <th>Number</th>
            <th>Status</th>
            <th>Code</th>
            <th>Reported</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {message.recipients.map((r) => (
            <tr key={r.mobile} class="recipient">
              <td>{r.mobile}</td>
              <td>
                <span class={`badge status-${r.status}`}>{r.status}</span>
              </td>
              <td>{r.code ?? '–'}</td>
              <td>{time(r.reportedAt)}</td>
              <td>{time(r.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h4>Message</h4>
      <dl class="data">
        {fields.map(([key, value]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function Messages(props: {
  list: ConsoleMessages | null;
  status: string;
  setStatus: (s: string) => void;
  cursors: string[];
  setCursors: (cursors: string[]) => void;
  open: string | null;
  setOpen: (id: string | null) => void;
  detail: ConsoleMessageDetail | null;
  act: (label: string, path: string) => void;
}) {
  const { list, status, setStatus, cursors, setCursors, open, setOpen, detail, act } = props;
  const path = (m: ConsoleMessage, action: string) =>
    `messages/${encodeURIComponent(m.id)}/${action}`;
  return (
    <section>
      <h2>Messages</h2>
      <div class="filters">
        <label>
          Status
          <select
            name="status"
            value={status}
            onChange={(e) => {
              setStatus((e.target as HTMLSelectElement).value);
              setCursors([]);
            }}
          >
            <option value="">all</option>
            {MESSAGE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <table class="events">
        <thead>
          <tr>
            <th>Id</th>
            <th>Time</th>
            <th>Account</th>
            <th>Numbers</th>
            <th>Status</th>
            <th>Task id</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {list?.messages.length === 0 && (
            <tr>
              <td colSpan={7} class="hint">
                No messages.
              </td>
            </tr>
          )}
          {list?.messages.map((m) => (
            <Fragment key={m.id}>
              <tr class="message" data-id={m.id}>
                <td class="excerpt">{m.id}</td>
                <td>{time(m.createdAt)}</td>
                <td>{m.account}</td>
                <td title={m.to.join(', ')}>{numbers(m.to)}</td>
                <td>
                  <span
                    class={`badge status-${m.status}`}
                    title={m.error ? `${m.error.code}: ${m.error.message ?? ''}` : ''}
                  >
                    {m.status}
                  </span>
                </td>
                <td>{m.taskId ?? '–'}</td>
                <td class="actions">
                  <button
                    type="button"
                    aria-expanded={open === m.id}
                    onClick={() => setOpen(open === m.id ? null : m.id)}
                  >
                    Numbers
                  </button>
                  {m.status === 'unknown' && (
                    <>
                      <button
                        type="button"
                        title="It did not arrive: send it again (if it did, the number gets it twice)"
                        onClick={() => act(`Resend ${m.id}`, path(m, 'resend'))}
                      >
                        Resend
                      </button>
                      <button
                        type="button"
                        title="It arrived, or give up: the relay will not send it"
                        onClick={() => act(`Mark ${m.id} failed`, path(m, 'fail'))}
                      >
                        Mark failed
                      </button>
                    </>
                  )}
                </td>
              </tr>
              {open === m.id && (
                <tr class="detail-row">
                  <td colSpan={7}>
                    {detail && detail.id === m.id ? <MessageDetail message={detail} /> : 'Loading…'}
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      <Pager cursors={cursors} setCursors={setCursors} next={list?.next} />
    </section>
  );
}

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
