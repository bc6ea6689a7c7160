import { useEffect, useState } from 'preact/hooks';
import type { BreakerState, ConsoleAccounts } from '../src/console/api-types.js';
import './accounts.css';

const LABELS: Record<BreakerState, string> = {
  closed: 'closed',
  open: 'open',
  'half-open': 'half-open',
};
const MEANING: Record<BreakerState, string> = {
  closed: 'sending normally',
  open: 'skipped: its messages go to the next account of their route',
  'half-open': 'the next message tries it (probe)',
};

function seconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/**
 * The sending accounts: each one's circuit breaker in this relay process and the failovers of
 * the stored messages. Loads `GET /api/console/accounts` at every `tick` of the page.
 */
export function SendingAccounts(props: {
  load: () => Promise<ConsoleAccounts>;
  tick: number;
  fail: (thrown: unknown) => void;
  formatTime: (ms: number | null) => string;
}) {
  const { load, tick, fail, formatTime } = props;
  const [answer, setAnswer] = useState<ConsoleAccounts | null>(null);
  useEffect(() => {
    let live = true;
    load().then((a) => live && setAnswer(a), fail);
    return () => {
      live = false;
    };
  }, [load, tick, fail]);
  if (!answer) return null;
  const { now, breaker: settings } = answer;
  return (
    <section class="sending-accounts">
      <h2>Sending accounts</h2>
      <table>
        <thead>
          <tr>
            <th>Account</th>
            <th>Breaker</th>
            <th>Since</th>
            <th>Failures in window</th>
            <th>Next probe</th>
            <th>Failed over away</th>
            <th>Failed over to</th>
          </tr>
        </thead>
        <tbody>
          {answer.accounts.map((a) => (
            <tr
              key={a.name}
              class="sending-account"
              data-account={a.name}
              data-breaker={a.breaker?.state ?? 'none'}
            >
              <td>{a.name}</td>
              <td>
                {a.breaker ? (
                  <span
                    class={`breaker breaker-${a.breaker.state}`}
                    title={MEANING[a.breaker.state]}
                  >
                    {LABELS[a.breaker.state]}
                  </span>
                ) : (
                  <span class="dim">off</span>
                )}
              </td>
              <td title={a.breaker ? formatTime(a.breaker.since) : ''}>
                {a.breaker ? `${seconds(now - a.breaker.since)} ago` : '–'}
              </td>
              <td class="failures">
                {a.breaker ? `${a.breaker.failures} / ${settings?.failures ?? '–'}` : '–'}
              </td>
              <td class="probe" title={formatTime(a.breaker?.probeAt ?? null)}>
                {a.breaker?.state === 'open' && a.breaker.probeAt !== null
                  ? `in ${seconds(a.breaker.probeAt - now)}`
                  : a.breaker?.state === 'half-open'
                    ? 'next message'
                    : '–'}
              </td>
              <td class="away">
                <strong>{a.failovers.away}</strong>{' '}
                {Object.entries(a.failovers.awayByCode).map(([code, n]) => (
                  <span key={code} class="badge bad">
                    {code} × {n}
                  </span>
                ))}
              </td>
              <td class="to">{a.failovers.to}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint">
        {settings
          ? `A breaker opens after ${settings.failures} failures of the account within ${seconds(settings.windowMs)} and lets one probe send try it ${seconds(settings.coolDownMs)} later. `
          : 'Circuit breakers are off (gateway.breaker: false). '}
        Breakers are this relay process's; failovers are counted from the stored messages.
      </p>
    </section>
  );
}
