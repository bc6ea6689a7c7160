import type { ConsoleAccount, ConsoleTarget } from '../src/console/api-types.js';
import { ago, ms, time } from './format.js';

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

export function Accounts({ accounts, now }: { accounts: ConsoleAccount[]; now: number }) {
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

export function Targets(props: {
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
