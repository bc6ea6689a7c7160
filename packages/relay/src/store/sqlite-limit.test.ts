import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { LIMIT, byLimit } from './sqlite-limit.js';

describe('byLimit', () => {
  let db: Database.Database | undefined;
  afterEach(() => db?.close());

  const open = () => {
    db = new Database(':memory:');
    db.exec('CREATE TABLE t (n INTEGER)');
    const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
    for (let n = 1; n <= 10; n++) insert.run(n);
    return db;
  };

  it('writes the limit into the statement, one statement per limit', () => {
    const select = byLimit(open(), `SELECT n FROM t WHERE n > ? ORDER BY n LIMIT ${LIMIT}`);
    expect(select(3).all(2)).toEqual([{ n: 3 }, { n: 4 }, { n: 5 }]);
    expect(select(3).source).toContain('LIMIT 3');
    // Nothing is bound for the limit: a bound LIMIT expires its statement at every bind.
    expect(select(3).source).not.toContain('?,');
    expect(select(3)).toBe(select(3));
    expect(select(5)).not.toBe(select(3));
    expect(select(5).all(8)).toEqual([{ n: 9 }, { n: 10 }]);
    expect(select(0).all(0)).toEqual([]);
  });

  it('takes only a whole number of at least 0 (it is written into SQL)', () => {
    const select = byLimit(open(), `SELECT n FROM t LIMIT ${LIMIT}`);
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1; DROP TABLE t' as never]) {
      expect(() => select(bad)).toThrow(RangeError);
    }
    expect(select(2).all()).toHaveLength(2);
  });

  it('refuses a statement with no place for the limit', () => {
    expect(() => byLimit(open(), 'SELECT n FROM t LIMIT ?')).toThrow(/no \{limit\}/);
  });
});
