import type {
  ConsoleMessage,
  ConsoleMessageDetail,
  ConsoleMessages,
} from '../src/console/api-types.js';
import { numbers, time } from './format.js';
import { type Column, FilterSelect, ListTable } from './list-table.js';

const MESSAGE_STATUSES = ['queued', 'sending', 'sent', 'failed', 'unknown', 'expired'];

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

const COLUMNS: ReadonlyArray<Column<ConsoleMessage>> = [
  { head: 'Id', cell: (m) => m.id, attrs: () => ({ class: 'excerpt' }) },
  { head: 'Time', cell: (m) => time(m.createdAt) },
  { head: 'Account', cell: (m) => m.account },
  { head: 'Numbers', cell: (m) => numbers(m.to), attrs: (m) => ({ title: m.to.join(', ') }) },
  {
    head: 'Status',
    cell: (m) => (
      <span
        class={`badge status-${m.status}`}
        title={m.error ? `${m.error.code}: ${m.error.message ?? ''}` : ''}
      >
        {m.status}
      </span>
    ),
  },
  { head: 'Task id', cell: (m) => m.taskId ?? '–' },
];

export function Messages(props: {
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
  const { setStatus, setCursors, detail, act } = props;
  const path = (m: ConsoleMessage, action: string) =>
    `messages/${encodeURIComponent(m.id)}/${action}`;
  return (
    <ListTable
      title="Messages"
      filters={
        <FilterSelect
          name="status"
          label="Status"
          value={props.status}
          options={MESSAGE_STATUSES}
          onChange={(value) => {
            setStatus(value);
            setCursors([]);
          }}
        />
      }
      columns={COLUMNS}
      rows={props.list?.messages}
      rowClass="message"
      idOf={(m) => m.id}
      empty="No messages."
      detailLabel="Numbers"
      open={props.open}
      setOpen={props.setOpen}
      detail={(m) => (detail && detail.id === m.id ? <MessageDetail message={detail} /> : null)}
      actions={(m) =>
        m.status === 'unknown' && (
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
        )
      }
      cursors={props.cursors}
      setCursors={setCursors}
      next={props.list?.next}
    />
  );
}
