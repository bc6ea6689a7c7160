import { type ComponentChildren, Fragment } from 'preact';
import { Pager } from './pager.js';

/** One column of a list: its heading, and each row's cell (with the cell's own attributes). */
export interface Column<T> {
  head: string;
  cell: (row: T) => ComponentChildren;
  attrs?: (row: T) => { class?: string; title?: string };
}

export interface ListTableProps<T> {
  title: string;
  /** The list's filters (see `FilterSelect`). */
  filters: ComponentChildren;
  columns: ReadonlyArray<Column<T>>;
  /** null while the first page loads. */
  rows: readonly T[] | null | undefined;
  /** `tr` class of a row, and the `data-id` it carries. */
  rowClass: string;
  idOf: (row: T) => string;
  empty: string;
  /** The button that opens a row's detail, and the detail itself once loaded. */
  detailLabel: string;
  open: string | null;
  setOpen: (id: string | null) => void;
  detail: (row: T) => ComponentChildren | null;
  /** More buttons of a row, after the detail button. */
  actions?: (row: T) => ComponentChildren;
  /** Keyset paging: the cursors walked through, and the next page's. */
  cursors: string[];
  setCursors: (cursors: string[]) => void;
  next: string | null | undefined;
}

/**
 * The console's lists (events, messages): filters, a table whose rows open a detail row,
 * and older/newer paging by cursor.
 */
export function ListTable<T>(props: ListTableProps<T>) {
  const { columns, rows, open, idOf } = props;
  const span = columns.length + 1;
  return (
    <section>
      <h2>{props.title}</h2>
      <div class="filters">{props.filters}</div>
      <table class="events">
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.head}>{c.head}</th>
            ))}
            <th />
          </tr>
        </thead>
        <tbody>
          {rows?.length === 0 && (
            <tr>
              <td colSpan={span} class="hint">
                {props.empty}
              </td>
            </tr>
          )}
          {rows?.map((row) => {
            const id = idOf(row);
            return (
              <Fragment key={id}>
                <tr class={props.rowClass} data-id={id}>
                  {columns.map((c) => (
                    <td key={c.head} {...(c.attrs?.(row) ?? {})}>
                      {c.cell(row)}
                    </td>
                  ))}
                  <td class="actions">
                    <button
                      type="button"
                      aria-expanded={open === id}
                      onClick={() => props.setOpen(open === id ? null : id)}
                    >
                      {props.detailLabel}
                    </button>
                    {props.actions?.(row)}
                  </td>
                </tr>
                {open === id && (
                  <tr class="detail-row">
                    <td colSpan={span}>{props.detail(row) ?? 'Loading…'}</td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
      <Pager cursors={props.cursors} setCursors={props.setCursors} next={props.next} />
    </section>
  );
}

/** A list filter: a select with "all" first; choosing starts again at the newest page. */
export function FilterSelect(props: {
  name: string;
  label: string;
  value: string;
  options: readonly string[];
  onChange: (value: string) => void;
}) {
  return (
    <label>
      {props.label}
      <select
        name={props.name}
        value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
      >
        <option value="">all</option>
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}
