import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const { sqliteStore } = await import(process.env.DIST ?? '../dist/index.js');
const dir = mkdtempSync(join(tmpdir(), 'micro-'));
const store = await sqliteStore({ path: join(dir, 'r.db') });
const N = 20000;
let t = performance.now();
for (let b = 0; b < 5; b++) {
  const events = Array.from({ length: 4000 }, (_, i) => ({
    id: `evt_${b}_${i}`,
    type: 'sms.report',
    body: JSON.stringify({
      type: 'sms.report',
      data: { mobile: '13800000000', taskId: String(i), status: 'delivered', x: 'y'.repeat(150) },
    }),
  }));
  await store.insertBatch({ account: 'main', events, targets: ['app'], now: Date.now() });
}
console.log('insert', (performance.now() - t).toFixed(0), 'ms');
let claimMs = 0,
  completeMs = 0,
  n = 0;
for (;;) {
  t = performance.now();
  const claimed = await store.claim({ limit: 128, now: Date.now(), leaseMs: 30000 });
  claimMs += performance.now() - t;
  if (claimed.length === 0) break;
  n += claimed.length;
  t = performance.now();
  await store.complete(
    claimed.map((c) => ({
      eventId: c.eventId,
      target: c.target,
      lease: c.lease,
      outcome: { kind: 'delivered' },
      status: 204,
      latencyMs: 3,
    })),
    Date.now(),
  );
  completeMs += performance.now() - t;
}
console.log({ n, claimMs: claimMs.toFixed(0), completeMs: completeMs.toFixed(0) });
await store.close();
