// One run of bench/store-instructions.mjs (under callgrind): the gateway's SQLite store from
// `bundle`, ROUNDS queues of `total` messages filled, and each but the last (`drainLast` 0)
// or every one claimed `claim` at a time with the outcomes recorded `record` at a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimAndRecordSent, enqueueAll } from './queue.mjs';

const [bundle, total, claim, record, rounds, drainLast] = process.argv
  .slice(2)
  .map((a, i) => (i === 0 ? a : Number(a)));
const { sqliteStore } = await import(bundle);

for (let round = 0; round < rounds; round++) {
  const dir = mkdtempSync(join(tmpdir(), 'sms-bench-store-instructions-'));
  const store = await sqliteStore({ path: join(dir, 'relay.db') });
  try {
    await store.init();
    await enqueueAll(store.messages, total, 32);
    if (round < rounds - 1 || drainLast) await claimAndRecordSent(store.messages, claim, record);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
