import type BetterSqlite3 from 'better-sqlite3';

/** Where a statement built by `byLimit` takes its LIMIT (a number, written into its text). */
export const LIMIT = '{limit}';

/** Statements of one SQL text, one per LIMIT it has been run with. */
export type ByLimit = (limit: number) => BetterSqlite3.Statement;

/** Past this many different limits the prepared statements start again (a bound on memory). */
const MOST_STATEMENTS = 64;

/**
 * Prepares `sql` once per LIMIT it is run with, the number written where `sql` says `{limit}`.
 *
 * SQLite's planner reads the value bound to `LIMIT ?` as it plans, and such a statement is
 * expired by the next bind of that parameter: every run was parsed and planned again. The
 * gateway's claim spent about 20 µs of its 30 that way (perf: `sqlite3Reprepare` under it;
 * 11 against 6.4 µs a run of the same SELECT bound or written). The hot paths ask for few
 * limits (a claim's is at most a sender's window): so few statements.
 */
export function byLimit(db: BetterSqlite3.Database, sql: string): ByLimit {
  if (!sql.includes(LIMIT)) throw new Error(`no ${LIMIT} in the statement`);
  const statements = new Map<number, BetterSqlite3.Statement>();
  return (limit) => {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new RangeError(`a LIMIT is a whole number of at least 0, not ${limit}`);
    }
    let statement = statements.get(limit);
    if (!statement) {
      if (statements.size >= MOST_STATEMENTS) statements.clear();
      statement = db.prepare(sql.replace(LIMIT, String(limit)));
      statements.set(limit, statement);
    }
    return statement;
  };
}
