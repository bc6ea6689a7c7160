import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { testStore } from '../test-utils/store-suite.js';
import { sqliteStore } from './sqlite.js';

testStore('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sms-relay-store-'));
  const path = join(dir, 'relay.db');
  const store = await sqliteStore({ path });
  await store.close();
  const raw = new Database(path);
  return {
    open: () => sqliteStore({ path }),
    raw: async (sql) => raw.prepare(sql).all() as Array<Record<string, unknown>>,
    t: (table) => table,
    reset: async () => {
      raw.exec(
        'DELETE FROM deliveries; DELETE FROM events; DELETE FROM targets; DELETE FROM quarantine;',
      );
    },
    dispose: async () => {
      // WAL is a property of the file, so an independent connection sees it.
      const mode = raw.pragma('journal_mode', { simple: true });
      raw.close();
      rmSync(dir, { recursive: true, force: true });
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, expected wal`);
    },
  };
});
