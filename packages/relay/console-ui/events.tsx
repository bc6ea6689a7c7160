import type {
  ConsoleAttempt,
  ConsoleEvent,
  ConsoleEventDetail,
  ConsoleEvents,
  ConsoleOverview,
} from '../src/console/api-types.js';
import { ms, time } from './format.js';
import { type Column, FilterSelect, ListTable } from './list-table.js';

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

export interface Filters {
  type: string;
  target: string;
  state: string;
  account: string;
}

const COLUMNS: ReadonlyArray<Column<ConsoleEvent>> = [
  { head: 'Time', cell: (e) => time(e.createdAt), attrs: (e) => ({ title: e.id }) },
  { head: 'Type', cell: (e) => e.type },
  { head: 'Number', cell: (e) => e.mobile ?? '–' },
  { head: 'Account', cell: (e) => e.account },
  { head: 'Summary', cell: (e) => e.summary ?? '', attrs: () => ({ class: 'dim' }) },
  {
    head: 'Deliveries',
    cell: (e) =>
      e.deliveries.map((d) => (
        <span
          key={d.target}
          class={`badge state-${d.state}`}
          title={d.lastError ?? (d.lastStatus === null ? '' : `HTTP ${d.lastStatus}`)}
        >
          {d.target}: {d.state === 'pending' && d.failedAttempts > 0 ? 'retrying' : d.state}
        </span>
      )),
  },
];

export function Events(props: {
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
  const { overview, filters, setFilters, setCursors, detail, act } = props;
  const select = (key: keyof Filters, label: string, options: readonly string[]) => (
    <FilterSelect
      name={key}
      label={label}
      value={filters[key]}
      options={options}
      onChange={(value) => {
        setFilters({ ...filters, [key]: value });
        setCursors([]);
      }}
    />
  );
  return (
    <ListTable
      title="Events"
      filters={
        <>
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
        </>
      }
      columns={COLUMNS}
      rows={props.list?.events}
      rowClass="event"
      idOf={(e) => e.id}
      empty="No event matches."
      detailLabel="Attempts"
      open={props.open}
      setOpen={props.setOpen}
      detail={(e) => (detail && detail.id === e.id ? <Detail detail={detail} /> : null)}
      actions={(e) =>
        e.deliveries.some((d) => d.state === 'dead') && (
          <button
            type="button"
            onClick={() => act(`Replay ${e.id}`, `events/${encodeURIComponent(e.id)}/replay`)}
          >
            Replay
          </button>
        )
      }
      cursors={props.cursors}
      setCursors={setCursors}
      next={props.list?.next}
    />
  );
}
