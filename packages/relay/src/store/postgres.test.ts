import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../test-utils/setup.js';
import { testStore } from '../test-utils/store-suite.js';
import { postgresStore } from './postgres.js';

testStore('postgres', async () => {
  const schema = `relay_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  const first = await postgresStore({ connectionString: TEST_DATABASE_URL, schema, max: 4 });
  await first.init();
  await first.close();
  return {
    open: async () => {
      const store = await postgresStore({ connectionString: TEST_DATABASE_URL, schema, max: 4 });
      await store.init();
      return store;
    },
    raw: async (sql) => (await client.query(sql)).rows,
    t: (table) => `"${schema}".${table}`,
    reset: async () => {
      await client.query(
        `TRUNCATE "${schema}".deliveries, "${schema}".events, "${schema}".targets, "${schema}".quarantine`,
      );
    },
    dispose: async () => {
      await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      await client.end();
    },
  };
});
