/**
 * Keyset paging for a list of the console: `cursors` are the `next` cursors of the pages
 * walked through, oldest last (none: the newest page). "Older" asks with the list's `next`,
 * "Newer" goes back one; new rows arriving meanwhile never shift the pages.
 */
export function Pager(props: {
  cursors: readonly string[];
  setCursors: (cursors: string[]) => void;
  next: string | null | undefined;
}) {
  const { cursors, setCursors, next } = props;
  return (
    <div class="pager">
      <button
        type="button"
        disabled={cursors.length === 0}
        onClick={() => setCursors(cursors.slice(0, -1))}
      >
        Newer
      </button>
      <button type="button" disabled={!next} onClick={() => next && setCursors([...cursors, next])}>
        Older
      </button>
    </div>
  );
}

/** The `before` parameter of the page shown (the newest page has none). */
export const beforeOf = (cursors: readonly string[]): Record<string, string> => {
  const last = cursors.at(-1);
  return last ? { before: last } : {};
};
