import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { eventIdFor, newEventId, newJournalEntryId } from '../shared/ids.js';
import type { NewMessage } from '../store/messages.js';
import type { ClaimedDelivery, DeliveryResult, NewEvent, Store } from '../store/types.js';

/** A message for the gateway's queue: one number, sent at once, no key, metadata or callback. */
export function newMessage(
  fields: Pick<NewMessage, 'id' | 'account' | 'content' | 'now'> & Partial<NewMessage>,
): NewMessage {
  return {
    idempotencyKey: null,
    requestHash: 'h',
    mobiles: ['13800138000'],
    sendAt: null,
    extNo: '',
    metadata: null,
    callbackUrl: null,
    expiresAt: null,
    ...fields,
  };
}

/** What each store implementation gives the conformance suite. */
export interface StoreHarness {
  /** A fresh, initialised store on the same database as every other call. */
  open(): Promise<Store>;
  /** Reads rows with raw SQL, bypassing the store. `t('events')` names a table. */
  raw(sql: string): Promise<Array<Record<string, unknown>>>;
  t(table: string): string;
  /** Empties every table. */
  reset(): Promise<void>;
  /** Drops everything (temp files, schema). */
  dispose(): Promise<void>;
}

const event = (
  n: number,
  type: NewEvent['type'] = 'sms.report',
  id: string = newEventId(),
): NewEvent => ({
  id,
  type,
  body: JSON.stringify({ type, timestamp: new Date(0).toISOString(), data: { n } }),
});

/** The lease each delivery was claimed under, by `eventId:target`. */
const leasesOf = (claimed: readonly ClaimedDelivery[]) =>
  new Map(claimed.map((d) => [`${d.eventId}:${d.target}`, d.lease]));

/** One suite, every store: checks results through raw SQL rather than the store's own reads. */
export function testStore(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`store conformance: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;
    const opened: Store[] = [];
    const open = async () => {
      const s = await h.open();
      opened.push(s);
      return s;
    };

    beforeEach(async () => {
      h ??= await makeHarness();
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await h.reset();
      store = await open();
    });
    afterAll(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await h?.dispose();
    });

    it('stores a batch: one event per record with its msg_ id, one delivery per target', async () => {
      const batch = [event(1), event(2, 'sms.reply'), event(3)];
      const ids = await store.insertBatch({
        account: 'main',
        events: batch,
        targets: ['a', 'b'],
        now: 1000,
      });
      expect(ids).toEqual(batch.map((e) => e.id));
      expect(new Set(ids).size).toBe(3);
      for (const id of ids) expect(id).toMatch(/^msg_[0-9A-HJKMNP-TV-Z]{26}$/);
      const events = await h.raw(
        `SELECT id, type, account, body FROM ${h.t('events')} ORDER BY id`,
      );
      expect(events.map((e) => e['id'])).toEqual([...ids].sort());
      expect(events.find((e) => e['id'] === ids[1])).toMatchObject({
        type: 'sms.reply',
        account: 'main',
        body: event(2, 'sms.reply').body,
      });
      const deliveries = await h.raw(
        `SELECT event_id, target, status, attempts FROM ${h.t('deliveries')} ORDER BY event_id, target`,
      );
      expect(deliveries).toHaveLength(6);
      for (const d of deliveries) expect(d).toMatchObject({ status: 'pending', attempts: 0 });
    });

    it('stores a batch all or nothing', async () => {
      // The third event breaks a NOT NULL constraint (only clashing ids are skipped): nothing
      // of the batch may remain.
      const broken = { ...event(3), body: null as unknown as string };
      await expect(
        store.insertBatch({
          account: 'main',
          events: [event(1), event(2), broken],
          targets: ['a', 'b'],
          now: 1,
        }),
      ).rejects.toThrow(/insertBatch/);
      expect(await h.raw(`SELECT id FROM ${h.t('events')}`)).toHaveLength(0);
      expect(await h.raw(`SELECT event_id FROM ${h.t('deliveries')}`)).toHaveLength(0);
    });

    it('refuses a batch whose events lack their id', async () => {
      const { id: _, ...noId } = event(1);
      await expect(
        store.insertBatch({
          account: 'main',
          events: [event(2), noId as NewEvent],
          targets: ['a'],
          now: 1,
        }),
      ).rejects.toThrow(/id/);
      expect(await h.raw(`SELECT id FROM ${h.t('events')}`)).toHaveLength(0);
    });

    it('stores a batch stored again (its commit acknowledgement lost) exactly once', async () => {
      const entry = newJournalEntryId(5000);
      const events = [0, 1, 2].map((i) => event(i, 'sms.report', eventIdFor(entry, i)));
      const batch = { account: 'main', events, targets: ['a', 'b'], now: 5000 };
      expect(await store.insertBatch(batch)).toEqual(events.map((e) => e.id));
      // The retry, from this store or another one on the same database, finds it all there.
      expect(await store.insertBatch({ ...batch, now: 6000 })).toEqual([]);
      const other = await open();
      expect(await other.insertBatch(batch)).toEqual([]);
      const rows = await h.raw(`SELECT id, body, created_at FROM ${h.t('events')} ORDER BY id`);
      expect(rows.map((r) => r['id'])).toEqual(events.map((e) => e.id).sort());
      expect(rows.map((r) => Number(r['created_at']))).toEqual([5000, 5000, 5000]);
      const deliveries = await h.raw(
        `SELECT event_id, target FROM ${h.t('deliveries')} ORDER BY event_id, target`,
      );
      expect(deliveries).toEqual(
        events
          .map((e) => e.id)
          .sort()
          .flatMap((id) => [
            { event_id: id, target: 'a' },
            { event_id: id, target: 'b' },
          ]),
      );
      const claimed = await store.claim({ limit: 100, now: 6000, leaseMs: 1000 });
      expect(claimed).toHaveLength(6);
    });

    it('stores only the new events of a batch overlapping an earlier one', async () => {
      const [a, b, c, d] = [1, 2, 3, 4].map((n) => event(n));
      expect(
        await store.insertBatch({ account: 'main', events: [a!, b!], targets: ['t'], now: 10 }),
      ).toEqual([a!.id, b!.id]);
      // b was delivered meanwhile: storing it again must not bring its delivery back.
      const [claimedB] = (await store.claim({ limit: 10, now: 10, leaseMs: 100 })).filter(
        (x) => x.eventId === b!.id,
      );
      await store.complete(
        [{ eventId: b!.id, target: 't', lease: claimedB!.lease, outcome: { kind: 'delivered' } }],
        11,
      );
      expect(
        await store.insertBatch({
          account: 'main',
          events: [b!, c!, a!, d!, c!],
          targets: ['t', 'u'],
          now: 20,
        }),
      ).toEqual([c!.id, d!.id]);
      const events = await h.raw(`SELECT id FROM ${h.t('events')}`);
      expect(events.map((r) => r['id']).sort()).toEqual([a!.id, b!.id, c!.id, d!.id].sort());
      const deliveries = await h.raw(
        `SELECT event_id, target, status FROM ${h.t('deliveries')} ORDER BY event_id, target`,
      );
      // Events already stored keep exactly the deliveries they had.
      expect(deliveries).toEqual(
        [
          { event_id: a!.id, target: 't', status: 'pending' },
          { event_id: b!.id, target: 't', status: 'delivered' },
          { event_id: c!.id, target: 't', status: 'pending' },
          { event_id: c!.id, target: 'u', status: 'pending' },
          { event_id: d!.id, target: 't', status: 'pending' },
          { event_id: d!.id, target: 'u', status: 'pending' },
        ].sort((x, y) =>
          x.event_id === y.event_id
            ? x.target.localeCompare(y.target)
            : x.event_id < y.event_id
              ? -1
              : 1,
        ),
      );
    });

    it('claims due deliveries once, under a lease that expires', async () => {
      const ids = await store.insertBatch({
        account: 'main',
        events: [event(1), event(2)],
        targets: ['a'],
        now: 1000,
      });
      expect(await store.claim({ limit: 10, now: 999, leaseMs: 500 })).toHaveLength(0);
      const first = await store.claim({ limit: 10, now: 1000, leaseMs: 500 });
      expect(first.map((d) => d.eventId).sort()).toEqual([...ids].sort());
      expect(first[0]).toMatchObject({
        target: 'a',
        account: 'main',
        attempts: 0,
        createdAt: 1000,
      });
      expect(first.find((d) => d.eventId === ids[0])?.body).toBe(event(1).body);
      for (const d of first) expect(d.lease).toMatch(/^\S{16,}$/);
      expect(await store.claim({ limit: 10, now: 1400, leaseMs: 500 })).toHaveLength(0);
      const again = await store.claim({ limit: 1, now: 1500, leaseMs: 500 });
      expect(again).toHaveLength(1);
      expect(
        await store.claim({ limit: 10, now: 1500, leaseMs: 500, targets: ['x'] }),
      ).toHaveLength(0);
      expect(
        await store.claim({ limit: 10, now: 1500, leaseMs: 500, targets: ['x', 'a'] }),
      ).toHaveLength(1);
    });

    // In one process a SQLite store runs each claim to completion before the next, so for
    // SQLite this only checks two connections take turns; sqlite.test.ts races a second
    // process on the file. For PostgreSQL the claims overlap on the server.
    it('never hands the same delivery to two concurrent claimers', async () => {
      const other = await open();
      for (let round = 0; round < 10; round++) {
        await store.insertBatch({
          account: 'main',
          events: Array.from({ length: 60 }, (_, i) => event(round * 100 + i)),
          targets: ['a'],
          now: 1,
        });
        const claims = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 ? other : store).claim({ limit: 10, now: 2, leaseMs: 60_000 }),
          ),
        );
        const all = claims.flat().map((d) => d.eventId);
        expect(all).toHaveLength(60);
        expect(new Set(all).size).toBe(60);
        await h.reset();
      }
    });

    it('records a result only under its lease: an expired, re-claimed lease changes nothing', async () => {
      const [id, late] = await store.insertBatch({
        account: 'main',
        events: [event(1), event(2)],
        targets: ['t'],
        now: 0,
      });
      const row = async (eventId = id) =>
        (
          await h.raw(
            `SELECT status, attempts, next_attempt_at, lease, delivered_at FROM ${h.t('deliveries')} WHERE event_id = '${eventId}'`,
          )
        )[0];
      const first = await store.claim({ limit: 10, now: 0, leaseMs: 100 });
      const oldLease = first.find((d) => d.eventId === id)!.lease;
      expect(await store.claim({ limit: 10, now: 99, leaseMs: 100 })).toHaveLength(0);
      // The first holder stalls past its lease; another one claims the delivery.
      const other = await open();
      const second = await other.claim({ limit: 10, now: 100, leaseMs: 100 });
      expect(second.map((d) => d.eventId).sort()).toEqual([id, late].sort());
      const newLease = second.find((d) => d.eventId === id)!.lease;
      expect(newLease).not.toBe(oldLease);
      expect(second.find((d) => d.eventId === late)!.lease).not.toBe(
        first.find((d) => d.eventId === late)!.lease,
      );
      // The old holder finally answers: no effect, whatever its outcome.
      for (const outcome of [
        { kind: 'delivered' as const },
        { kind: 'retry' as const, nextAttemptAt: 10_000 },
        { kind: 'dead' as const },
        { kind: 'release' as const },
      ]) {
        await store.complete([{ eventId: id!, target: 't', lease: oldLease, outcome }], 150);
      }
      expect(await row()).toMatchObject({
        status: 'pending',
        attempts: 0,
        lease: newLease,
        delivered_at: null,
      });
      expect(Number((await row())?.['next_attempt_at'])).toBe(200);
      // The new holder's result counts.
      await other.complete(
        [
          {
            eventId: id!,
            target: 't',
            lease: newLease,
            outcome: { kind: 'retry', nextAttemptAt: 500 },
            error: 'HTTP 503',
          },
        ],
        160,
      );
      expect(await row()).toMatchObject({ status: 'pending', attempts: 1, lease: null });
      expect(Number((await row())?.['next_attempt_at'])).toBe(500);
      // A lease that expired but was not taken over still holds.
      const lateLease = second.find((d) => d.eventId === late)!.lease;
      await other.complete(
        [{ eventId: late!, target: 't', lease: lateLease, outcome: { kind: 'delivered' } }],
        1000,
      );
      expect(await row(late)).toMatchObject({ status: 'delivered', lease: null });
      expect(Number((await row(late))?.['delivered_at'])).toBe(1000);
      // And a third claim, then both earlier leases answer late: only the third one counts.
      const [third] = await store.claim({ limit: 10, now: 500, leaseMs: 100 });
      expect(third).toMatchObject({ eventId: id, attempts: 1 });
      await store.complete(
        [
          { eventId: id!, target: 't', lease: oldLease, outcome: { kind: 'dead' } },
          { eventId: id!, target: 't', lease: newLease, outcome: { kind: 'dead' } },
        ],
        510,
      );
      expect(await row()).toMatchObject({ status: 'pending', attempts: 1, lease: third!.lease });
      await store.complete(
        [{ eventId: id!, target: 't', lease: third!.lease, outcome: { kind: 'delivered' } }],
        520,
      );
      expect(await row()).toMatchObject({ status: 'delivered', attempts: 1, lease: null });
    });

    it('records a batch of results: delivered, retry, dead, release', async () => {
      const [a, b, c, d] = await store.insertBatch({
        account: 'main',
        events: [event(1), event(2), event(3), event(4)],
        targets: ['t'],
        now: 10,
      });
      const lease = leasesOf(await store.claim({ limit: 10, now: 10, leaseMs: 1000 }));
      const results = [
        { eventId: a!, target: 't', outcome: { kind: 'delivered' as const }, status: 200 },
        {
          eventId: b!,
          target: 't',
          outcome: { kind: 'retry' as const, nextAttemptAt: 5000 },
          status: 500,
          error: 'HTTP 500',
        },
        { eventId: c!, target: 't', outcome: { kind: 'dead' as const }, error: 'timeout' },
        { eventId: d!, target: 't', outcome: { kind: 'release' as const } },
      ].map((r) => ({ ...r, lease: lease.get(`${r.eventId}:t`)! }));
      await store.complete(results, 20);
      // Recorded again (a retry of a commit whose acknowledgement was lost): counted once.
      await store.complete(results, 30);
      const rows = await h.raw(
        `SELECT event_id, status, attempts, next_attempt_at, last_status, last_error, delivered_at FROM ${h.t('deliveries')}`,
      );
      const byId = new Map(rows.map((r) => [r['event_id'], r]));
      expect(byId.get(a)).toMatchObject({ status: 'delivered', attempts: 0, last_status: 200 });
      expect(Number(byId.get(a)?.['delivered_at'])).toBe(20);
      expect(byId.get(b)).toMatchObject({
        status: 'pending',
        attempts: 1,
        last_status: 500,
        last_error: 'HTTP 500',
      });
      expect(Number(byId.get(b)?.['next_attempt_at'])).toBe(5000);
      expect(byId.get(c)).toMatchObject({ status: 'dead', attempts: 1, last_error: 'timeout' });
      expect(byId.get(d)).toMatchObject({ status: 'pending', attempts: 0 });
      expect(Number(byId.get(d)?.['next_attempt_at'])).toBe(20);
      const claimed = await store.claim({ limit: 10, now: 5000, leaseMs: 1000 });
      expect(claimed.map((x) => [x.eventId, x.attempts]).sort()).toEqual(
        [
          [b, 1],
          [d, 0],
        ].sort(),
      );
    });

    it('a gone target is disabled, its deliveries wait, and enabling resumes them', async () => {
      const [a, b] = await store.insertBatch({
        account: 'main',
        events: [event(1), event(2)],
        targets: ['gone', 'ok'],
        now: 1,
      });
      const lease = leasesOf(await store.claim({ limit: 10, now: 1, leaseMs: 10 }));
      await store.complete(
        [
          {
            eventId: a!,
            target: 'gone',
            lease: lease.get(`${a}:gone`)!,
            outcome: { kind: 'gone' },
            status: 410,
          },
        ],
        2,
      );
      const targets = await h.raw(`SELECT name, disabled_at FROM ${h.t('targets')}`);
      expect(targets).toHaveLength(1);
      expect(targets[0]).toMatchObject({ name: 'gone' });
      expect(targets[0]?.['disabled_at']).not.toBeNull();
      expect((await store.stats()).disabledTargets).toEqual(['gone']);
      const claimed = await store.claim({ limit: 10, now: 100, leaseMs: 10 });
      expect(claimed.every((d) => d.target === 'ok')).toBe(true);
      expect(claimed).toHaveLength(2);
      await store.setTargetDisabled('gone', false, 200);
      const resumed = await store.claim({ limit: 10, now: 200, leaseMs: 10 });
      expect(
        resumed
          .filter((d) => d.target === 'gone')
          .map((d) => d.eventId)
          .sort(),
      ).toEqual([a, b].sort());
    });

    it('lists dead deliveries and replays them with their original ids', async () => {
      const [a, b] = await store.insertBatch({
        account: 'acc',
        events: [event(1), event(2, 'sms.reply')],
        targets: ['t'],
        now: 1,
      });
      const lease = leasesOf(await store.claim({ limit: 10, now: 1, leaseMs: 10 }));
      await store.complete(
        [
          {
            eventId: a!,
            target: 't',
            lease: lease.get(`${a}:t`)!,
            outcome: { kind: 'dead' },
            status: 500,
            error: 'HTTP 500',
          },
          {
            eventId: b!,
            target: 't',
            lease: lease.get(`${b}:t`)!,
            outcome: { kind: 'dead' },
            error: 'timeout',
          },
        ],
        5,
      );
      const dead = await store.listDead({ limit: 10 });
      expect(dead.map((d) => d.eventId).sort()).toEqual([a, b].sort());
      expect(dead.find((d) => d.eventId === a)).toMatchObject({
        target: 't',
        account: 'acc',
        type: 'sms.report',
        attempts: 1,
        lastStatus: 500,
        lastError: 'HTTP 500',
      });
      expect(await store.replay({ eventId: b!, now: 10 })).toBe(1);
      expect(await store.claim({ limit: 10, now: 10, leaseMs: 10 })).toMatchObject([
        { eventId: b, attempts: 0 },
      ]);
      expect(await store.replay({ now: 20 })).toBe(1);
      const rows = await h.raw(
        `SELECT event_id, status, attempts FROM ${h.t('deliveries')} WHERE event_id = '${a}'`,
      );
      expect(rows).toEqual([{ event_id: a, status: 'pending', attempts: 0 }]);
      expect(await h.raw(`SELECT id FROM ${h.t('events')}`)).toHaveLength(2);
    });

    it('counts what it holds', async () => {
      const [a, b] = await store.insertBatch({
        account: 'm',
        events: [event(1), event(2)],
        targets: ['t'],
        now: 1,
      });
      const [claimed] = await store.claim({ limit: 1, now: 1, leaseMs: 10 });
      const lease = claimed!.lease;
      await store.complete(
        [{ eventId: claimed!.eventId, target: 't', lease, outcome: { kind: 'delivered' } }],
        2,
      );
      expect([a, b]).toContain(claimed!.eventId);
      expect(await store.stats()).toMatchObject({
        pending: 1,
        delivered: 1,
        dead: 0,
        events: 2,
        quarantined: 0,
      });
    });

    it('prunes old events once every delivery of theirs is delivered', async () => {
      const [done, pending, other] = await store.insertBatch({
        account: 'm',
        events: [event(1), event(2), event(3)],
        targets: ['t', 'u'],
        now: 100,
      });
      await store.insertBatch({ account: 'm', events: [event(4)], targets: [], now: 100 });
      const lease = leasesOf(await store.claim({ limit: 10, now: 100, leaseMs: 10 }));
      const results = [done!, pending!, other!].flatMap((id) =>
        ['t', 'u'].map((target) => ({
          eventId: id,
          target,
          lease: lease.get(`${id}:${target}`)!,
          outcome: { kind: 'delivered' as const },
        })),
      );
      await store.complete(
        results.filter((r) => !(r.eventId === pending && r.target === 'u')),
        150,
      );
      expect(await store.prune({ before: 101, limit: 1 })).toBe(1);
      expect(await store.prune({ before: 101, limit: 100 })).toBe(2);
      const left = await h.raw(`SELECT id FROM ${h.t('events')}`);
      expect(left.map((r) => r['id'])).toEqual([pending]);
      expect(
        await h.raw(`SELECT target FROM ${h.t('deliveries')} WHERE event_id = '${done}'`),
      ).toEqual([]);
      expect(
        await h.raw(`SELECT target, status FROM ${h.t('deliveries')} ORDER BY target`),
      ).toEqual([
        { target: 't', status: 'delivered' },
        { target: 'u', status: 'pending' },
      ]);
    });

    it('keeps each counted attempt (status, latency, excerpt) with its result, and only those', async () => {
      const [a, b] = await store.insertBatch({
        account: 'main',
        events: [event(1), event(2)],
        targets: ['t', 'u'],
        now: 10,
      });
      const lease = leasesOf(await store.claim({ limit: 10, now: 10, leaseMs: 1000 }));
      const long = `${'é'.repeat(150)}${'x'.repeat(150)}`;
      const results = [
        {
          eventId: a!,
          target: 't',
          outcome: { kind: 'retry' as const, nextAttemptAt: 15 },
          status: 503,
          error: 'HTTP 503',
          latencyMs: 12.6,
          response: long,
        },
        {
          eventId: a!,
          target: 'u',
          outcome: { kind: 'delivered' as const },
          status: 204,
          latencyMs: 3,
        },
        {
          eventId: b!,
          target: 't',
          outcome: { kind: 'dead' as const },
          error: 'ECONNREFUSED: connect',
          latencyMs: 1,
        },
        { eventId: b!, target: 'u', outcome: { kind: 'release' as const } },
      ].map((r) => ({ ...r, lease: lease.get(`${r.eventId}:${r.target}`)! }));
      await store.complete(results, 20);
      // Recorded again (a lost acknowledgement) and a stale lease: no attempt added.
      await store.complete(results, 30);
      await store.complete(
        [{ eventId: b!, target: 'u', lease: 'stale', outcome: { kind: 'delivered' }, status: 200 }],
        31,
      );
      const rows = await h.raw(
        `SELECT event_id, target, at, outcome, status, latency_ms, error, response FROM ${h.t('attempts')} ORDER BY id`,
      );
      expect(rows.map((r) => ({ ...r, at: Number(r['at']) }))).toEqual([
        {
          event_id: a,
          target: 't',
          at: 20,
          outcome: 'retry',
          status: 503,
          latency_ms: 13,
          error: 'HTTP 503',
          response: long.slice(0, 200),
        },
        {
          event_id: a,
          target: 'u',
          at: 20,
          outcome: 'delivered',
          status: 204,
          latency_ms: 3,
          error: null,
          response: null,
        },
        {
          event_id: b,
          target: 't',
          at: 20,
          outcome: 'dead',
          status: null,
          latency_ms: 1,
          error: 'ECONNREFUSED: connect',
          response: null,
        },
      ]);
      // The retry's second attempt lands after the first.
      const [again] = await store.claim({ limit: 10, now: 15, leaseMs: 1000 });
      expect(again).toMatchObject({ eventId: a, target: 't' });
      await store.complete(
        [
          {
            eventId: a!,
            target: 't',
            lease: again!.lease,
            outcome: { kind: 'delivered' },
            status: 200,
            latencyMs: 5,
            response: 'ok',
          },
        ],
        40,
      );
      expect(await store.listAttempts(a!)).toEqual([
        {
          eventId: a,
          target: 't',
          at: 20,
          outcome: 'retry',
          status: 503,
          latencyMs: 13,
          error: 'HTTP 503',
          response: long.slice(0, 200),
        },
        {
          eventId: a,
          target: 'u',
          at: 20,
          outcome: 'delivered',
          status: 204,
          latencyMs: 3,
          error: null,
          response: null,
        },
        {
          eventId: a,
          target: 't',
          at: 40,
          outcome: 'delivered',
          status: 200,
          latencyMs: 5,
          error: null,
          response: 'ok',
        },
      ]);
      expect(await store.listAttempts('msg_none')).toEqual([]);
    });

    it('prunes the attempts of pruned events with them', async () => {
      const [old, kept] = await store.insertBatch({
        account: 'm',
        events: [event(1), event(2)],
        targets: ['t'],
        now: 100,
      });
      const lease = leasesOf(await store.claim({ limit: 10, now: 100, leaseMs: 10 }));
      await store.complete(
        [
          {
            eventId: old!,
            target: 't',
            lease: lease.get(`${old}:t`)!,
            outcome: { kind: 'delivered' },
          },
          {
            eventId: kept!,
            target: 't',
            lease: lease.get(`${kept}:t`)!,
            outcome: { kind: 'dead' },
          },
        ],
        150,
      );
      expect(await h.raw(`SELECT event_id FROM ${h.t('attempts')}`)).toHaveLength(2);
      expect(await store.prune({ before: 101, limit: 100 })).toBe(1);
      expect(await h.raw(`SELECT event_id FROM ${h.t('attempts')}`)).toEqual([{ event_id: kept }]);
    });

    it('lists events newest first, filtered by type, account, target and state', async () => {
      const [r1, r2] = await store.insertBatch({
        account: 'main',
        events: [event(1), event(2)],
        targets: ['t', 'u'],
        now: 100,
      });
      const [q1] = await store.insertBatch({
        account: 'other',
        events: [event(3, 'sms.reply')],
        targets: ['u'],
        now: 200,
      });
      const lease = leasesOf(await store.claim({ limit: 10, now: 200, leaseMs: 10 }));
      const done = (eventId: string, target: string, kind: 'delivered' | 'dead') => ({
        eventId,
        target,
        lease: lease.get(`${eventId}:${target}`)!,
        outcome: { kind },
        status: kind === 'dead' ? 500 : 200,
      });
      await store.complete(
        [done(r1!, 't', 'dead'), done(r1!, 'u', 'delivered'), done(q1!, 'u', 'delivered')],
        300,
      );
      const ids = async (query: Omit<Parameters<Store['listEvents']>[0], 'limit'>) =>
        (await store.listEvents({ limit: 50, ...query })).map((e) => e.id);
      expect(await ids({})).toEqual([q1, ...[r1, r2].sort().reverse()]);
      expect(await ids({ type: 'sms.reply' })).toEqual([q1]);
      expect(await ids({ account: 'main' })).toEqual([r1, r2].sort().reverse());
      expect(await ids({ target: 't' })).toEqual([r1, r2].sort().reverse());
      expect(await ids({ state: 'dead' })).toEqual([r1]);
      expect(await ids({ target: 'u', state: 'dead' })).toEqual([]);
      expect(await ids({ target: 'u', state: 'delivered' })).toEqual([q1, r1]);
      expect(await ids({ state: 'pending' })).toEqual([r2]);
      expect(await ids({ type: 'sms.report', state: 'delivered' })).toEqual([r1]);
      expect(await store.listEvents({ limit: 1, offset: 1 })).toHaveLength(1);
      expect((await store.listEvents({ limit: 1, offset: 1 }))[0]!.id).toBe(
        [r1, r2].sort().reverse()[0],
      );
      const one = await store.getEvent(r1!);
      expect(one).toMatchObject({
        id: r1,
        type: 'sms.report',
        account: 'main',
        body: event(1).body,
        createdAt: 100,
      });
      expect(one!.deliveries).toEqual([
        {
          target: 't',
          state: 'dead',
          attempts: 1,
          tries: 1,
          lastStatus: 500,
          lastError: null,
          nextAttemptAt: 210,
          updatedAt: 300,
          deliveredAt: null,
        },
        {
          target: 'u',
          state: 'delivered',
          // No failure counts towards the schedule, but one attempt was made (and recorded).
          attempts: 0,
          tries: 1,
          lastStatus: 200,
          lastError: null,
          nextAttemptAt: 210,
          updatedAt: 300,
          deliveredAt: 300,
        },
      ]);
      expect(await store.getEvent('msg_none')).toBeNull();
    });

    it('sums up targets, accounts and attempts over time', async () => {
      const ids = await store.insertBatch({
        account: 'main',
        events: [event(1), event(2), event(3)],
        targets: ['t'],
        now: 1000,
      });
      await store.insertBatch({ account: 'other', events: [event(4)], targets: ['u'], now: 1500 });
      const lease = leasesOf(await store.claim({ limit: 10, now: 1000, leaseMs: 10 }));
      const result = (i: number, kind: 'delivered' | 'dead' | 'retry', latencyMs: number) => ({
        eventId: ids[i]!,
        target: 't',
        lease: lease.get(`${ids[i]}:t`)!,
        outcome: kind === 'retry' ? { kind, nextAttemptAt: 99_999 } : { kind },
        status: kind === 'delivered' ? 200 : 502,
        latencyMs,
      });
      await store.complete([result(0, 'delivered', 10)], 60_500);
      await store.complete([result(1, 'dead', 30), result(2, 'retry', 50)], 125_000);
      await store.setTargetDisabled('u', true, 7, 'HTTP 410 Gone');
      const overview = await store.overview({ since: 60_000, bucketMs: 60_000 });
      expect(overview.targets).toEqual([
        {
          target: 't',
          pending: 1,
          retrying: 1,
          delivered: 1,
          dead: 1,
          disabled: null,
          lastAttempt: { at: 125_000, status: 502, latencyMs: expect.any(Number) },
          meanLatencyMs: 30,
        },
        {
          target: 'u',
          pending: 1,
          retrying: 0,
          delivered: 0,
          dead: 0,
          disabled: { at: 7, reason: 'HTTP 410 Gone' },
          lastAttempt: null,
          meanLatencyMs: null,
        },
      ]);
      expect([30, 50]).toContain(overview.targets[0]!.lastAttempt!.latencyMs);
      expect(overview.accounts).toEqual([
        { account: 'main', events: 3, lastEventAt: 1000 },
        { account: 'other', events: 1, lastEventAt: 1500 },
      ]);
      expect(overview.activity).toEqual([
        { target: 't', bucket: 60_000, delivered: 1, failed: 0 },
        { target: 't', bucket: 120_000, delivered: 0, failed: 2 },
      ]);
      // Attempts before `since` are left out of the chart and the mean.
      const later = await store.overview({ since: 120_000, bucketMs: 1000 });
      expect(later.activity).toEqual([{ target: 't', bucket: 125_000, delivered: 0, failed: 2 }]);
      expect(later.targets[0]!.meanLatencyMs).toBe(40);
    });

    it('pages events by cursor: every event once, in order, while newer ones arrive', async () => {
      // Batches that share a `now`: the cursor has to break ties on the id.
      for (let batch = 0; batch < 6; batch++) {
        await store.insertBatch({
          account: batch % 2 === 0 ? 'main' : 'other',
          events: [event(batch, 'sms.report'), event(batch, 'sms.reply'), event(batch)],
          targets: ['t'],
          now: 1000 + Math.floor(batch / 2),
        });
      }
      const expected = (
        await h.raw(`SELECT id FROM ${h.t('events')} ORDER BY created_at DESC, id DESC`)
      ).map((r) => r['id']);
      const seen: string[] = [];
      let before: { createdAt: number; id: string } | undefined;
      for (let page = 0; page < 10; page++) {
        const found = await store.listEvents({ limit: 4, before });
        seen.push(...found.map((e) => e.id));
        const last = found.at(-1);
        if (found.length < 4 || !last) break;
        before = { createdAt: last.createdAt, id: last.id };
        // Newer events (and one at the same time as the cursor) do not shift the pages.
        await store.insertBatch({
          account: 'main',
          events: [event(99)],
          targets: ['t'],
          now: 5000,
        });
      }
      expect(seen).toEqual(expected);
    });

    it('pages events by cursor with every filter, the same events as a raw query', async () => {
      const ids: string[] = [];
      for (let batch = 0; batch < 8; batch++) {
        ids.push(
          ...(await store.insertBatch({
            account: batch % 2 === 0 ? 'main' : 'other',
            events: [event(batch, 'sms.report'), event(batch, 'sms.reply')],
            targets: batch % 3 === 0 ? ['t', 'u'] : ['t'],
            now: 1000 + batch,
          })),
        );
      }
      const lease = leasesOf(await store.claim({ limit: 100, now: 2000, leaseMs: 10 }));
      await store.complete(
        ids
          .filter((_, i) => i % 3 === 0)
          .map((id) => ({
            eventId: id,
            target: 't',
            lease: lease.get(`${id}:t`)!,
            outcome: { kind: 'dead' as const },
          })),
        2001,
      );
      const walk = async (query: Omit<Parameters<Store['listEvents']>[0], 'limit'>) => {
        const seen: string[] = [];
        let before: { createdAt: number; id: string } | undefined;
        for (;;) {
          const found = await store.listEvents({ ...query, limit: 2, before });
          seen.push(...found.map((e) => e.id));
          const last = found.at(-1);
          if (found.length < 2 || !last) return seen;
          before = { createdAt: last.createdAt, id: last.id };
        }
      };
      const raw = async (where: string) =>
        (
          await h.raw(
            `SELECT e.id FROM ${h.t('events')} e WHERE ${where} ORDER BY e.created_at DESC, e.id DESC`,
          )
        ).map((r) => r['id']);
      const delivery = (cond: string) =>
        `EXISTS (SELECT 1 FROM ${h.t('deliveries')} d WHERE d.event_id = e.id AND ${cond})`;
      expect(await walk({ account: 'main', type: 'sms.reply' })).toEqual(
        await raw(`e.account = 'main' AND e.type = 'sms.reply'`),
      );
      expect(await walk({ target: 't', state: 'dead' })).toEqual(
        await raw(delivery(`d.target = 't' AND d.status = 'dead'`)),
      );
      expect(await walk({ target: 'u', account: 'other' })).toEqual(
        await raw(`e.account = 'other' AND ${delivery(`d.target = 'u'`)}`),
      );
      expect(await walk({ state: 'pending', type: 'sms.report' })).toEqual(
        await raw(`e.type = 'sms.report' AND ${delivery(`d.status = 'pending'`)}`),
      );
      expect((await walk({ state: 'dead' })).length).toBeGreaterThan(0);
    });

    it('keeps its counts equal to a full count through inserts, results, replays and pruning', async () => {
      const expectCounted = async () => {
        const rows = await h.raw(
          `SELECT target, status, COUNT(*) AS n,
             SUM(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END) AS retrying
           FROM ${h.t('deliveries')} GROUP BY target, status`,
        );
        const counted = (target: string, status: string) =>
          Number(rows.find((r) => r['target'] === target && r['status'] === status)?.['n'] ?? 0);
        const retrying = (target: string) =>
          Number(
            rows.find((r) => r['target'] === target && r['status'] === 'pending')?.['retrying'] ??
              0,
          );
        const events = await h.raw(
          `SELECT account, COUNT(*) AS n FROM ${h.t('events')} GROUP BY account ORDER BY account`,
        );
        const overview = await store.overview({ since: 0, bucketMs: 1000 });
        for (const target of ['t', 'u']) {
          const shown = overview.targets.find((x) => x.target === target);
          expect({
            pending: shown?.pending ?? 0,
            retrying: shown?.retrying ?? 0,
            delivered: shown?.delivered ?? 0,
            dead: shown?.dead ?? 0,
          }).toEqual({
            pending: counted(target, 'pending'),
            retrying: retrying(target),
            delivered: counted(target, 'delivered'),
            dead: counted(target, 'dead'),
          });
        }
        expect(overview.accounts.map((a) => [a.account, a.events])).toEqual(
          events.map((e) => [e['account'], Number(e['n'])]),
        );
        const stats = await store.stats();
        const total = (status: string) => counted('t', status) + counted('u', status);
        expect(stats).toMatchObject({
          pending: total('pending'),
          delivered: total('delivered'),
          dead: total('dead'),
          events: events.reduce((sum, e) => sum + Number(e['n']), 0),
        });
      };
      const ids = await store.insertBatch({
        account: 'main',
        events: Array.from({ length: 8 }, (_, i) => event(i)),
        targets: ['t', 'u'],
        now: 100,
      });
      await store.insertBatch({ account: 'other', events: [event(9)], targets: ['t'], now: 100 });
      await expectCounted();
      const lease = leasesOf(await store.claim({ limit: 100, now: 100, leaseMs: 10 }));
      const result = (i: number, target: string, outcome: DeliveryResult['outcome']) => ({
        eventId: ids[i]!,
        target,
        lease: lease.get(`${ids[i]}:${target}`)!,
        outcome,
      });
      await store.complete(
        [
          ...ids.map((_, i) => result(i, 'u', { kind: 'delivered' })),
          result(0, 't', { kind: 'delivered' }),
          result(1, 't', { kind: 'delivered' }),
          result(2, 't', { kind: 'retry', nextAttemptAt: 150 }),
          result(3, 't', { kind: 'dead' }),
          result(4, 't', { kind: 'gone' }),
          result(5, 't', { kind: 'release' }),
        ],
        120,
      );
      await expectCounted();
      // Recording the same results again counts nothing twice.
      await store.complete([result(3, 't', { kind: 'dead' })], 121);
      await store.setTargetDisabled('t', false, 122);
      const again = leasesOf(await store.claim({ limit: 100, now: 200, leaseMs: 10 }));
      await store.complete(
        [
          {
            eventId: ids[2]!,
            target: 't',
            lease: again.get(`${ids[2]}:t`)!,
            outcome: { kind: 'dead' },
          },
        ],
        201,
      );
      await expectCounted();
      expect(await store.replay({ eventId: ids[3]!, now: 300 })).toBe(1);
      await expectCounted();
      expect(await store.replay({ now: 300 })).toBe(1);
      await expectCounted();
      expect(await store.prune({ before: 1000, limit: 100 })).toBe(2);
      await expectCounted();
    });

    it('pages messages by cursor: every message once, newest first, with the status filter', async () => {
      const messages = store.messages!;
      // The gateway's tables are not emptied between tests: an account of this run's own.
      const account = `paging${Date.now()}`;
      const id = (i: number) => `sms_01M8P7${String(i).padStart(20, '0')}`;
      for (let i = 0; i < 9; i++) {
        await messages.enqueue(
          newMessage({ id: id(i), account, content: 'paging', now: 1000 + i }),
        );
      }
      for (const i of [1, 4, 5, 8]) await messages.fail(id(i), 'paging', 2000);
      const walk = async (status?: 'failed' | 'queued') => {
        const seen: string[] = [];
        let before: string | undefined;
        for (;;) {
          const found = await messages.list({ account, status, limit: 2, before });
          seen.push(...found.map((m) => m.id));
          if (found.length < 2) return seen;
          before = found.at(-1)!.id;
          // A newer message does not shift the pages.
          if (status === undefined && seen.length === 2) {
            await messages.enqueue(
              newMessage({ id: id(50), account, content: 'newer', now: 3000 }),
            );
          }
        }
      };
      expect(await walk()).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 0].map(id));
      expect(await walk('failed')).toEqual([8, 5, 4, 1].map(id));
      expect(await walk('queued')).toEqual([50, 7, 6, 3, 2, 0].map(id));
    });

    it('quarantines raw bytes exactly as received', async () => {
      const body = Buffer.from([0x3c, 0x72, 0xc4, 0xe3, 0xba, 0xc3, 0x00, 0xff, 0x3e]);
      await store.quarantine({
        account: 'main',
        kind: 'reports',
        httpStatus: 200,
        contentType: 'text/xml; charset=gb2312',
        body,
        error: 'malformed response',
        now: 7,
      });
      const rows = await h.raw(
        `SELECT account, kind, http_status, content_type, body, error FROM ${h.t('quarantine')}`,
      );
      expect(rows).toHaveLength(1);
      expect(Buffer.from(rows[0]?.['body'] as Uint8Array).equals(body)).toBe(true);
      expect(rows[0]).toMatchObject({
        account: 'main',
        kind: 'reports',
        http_status: 200,
        error: 'malformed response',
      });
      expect((await store.stats()).quarantined).toBe(1);
    });

    it('quarantines the bytes of one journal entry once, however often its commit is repeated', async () => {
      const entry = (entryId: string | undefined, error: string) => ({
        account: 'main',
        kind: 'replies' as const,
        httpStatus: 200,
        contentType: undefined,
        body: Buffer.from('<returnsms><callbox>'),
        error,
        now: 7,
        entryId,
      });
      const entryId = newJournalEntryId();
      await store.quarantine(entry(entryId, 'first'));
      // The recovery of the same entry after a crash between the commit and the entry's removal.
      await store.quarantine(entry(entryId, 'again'));
      await store.quarantine(entry(newJournalEntryId(), 'another entry'));
      // Without an entry (a store user of its own): every call keeps its row.
      await store.quarantine(entry(undefined, 'no entry'));
      await store.quarantine(entry(undefined, 'no entry'));
      const rows = await h.raw(`SELECT error FROM ${h.t('quarantine')} ORDER BY id`);
      expect(rows.map((row) => row['error'])).toEqual([
        'first',
        'another entry',
        'no entry',
        'no entry',
      ]);
      expect((await store.stats()).quarantined).toBe(4);
    });

    it('gives an account poll lock to one holder at a time', async () => {
      const lock = await store.lockAccount('main');
      expect(lock).not.toBeNull();
      expect(await store.lockAccount('main')).toBeNull();
      const other = await open();
      expect(await other.lockAccount('main')).toBeNull();
      const second = await other.lockAccount('other');
      expect(second).not.toBeNull();
      await lock!.release();
      const taken = await other.lockAccount('main');
      expect(taken).not.toBeNull();
      await taken!.release();
      await second!.release();
    });

    // A holder that closes its store. A SIGKILLed one: PostgreSQL drops the session lock with
    // the connection; SQLite's lock never left its process (sqlite.test.ts shows both polling).
    it('releases a dead holder’s lock when its store closes', async () => {
      const other = await open();
      expect(await other.lockAccount('acct')).not.toBeNull();
      await other.close();
      const lock = await store.lockAccount('acct');
      expect(lock).not.toBeNull();
      await lock!.release();
    });

    it('enqueues a batch in one call: each answer as one enqueue after another would give', async () => {
      // The gateway's tables are not emptied between tests: names of this test only.
      const messages = store.messages!;
      const now = 1_700_000_000_000;
      const u = newEventId().slice(-8);
      const message = (id: string, key: string | null, mobiles: string[], hash = 'h') =>
        newMessage({
          id: `${id}${u}`,
          idempotencyKey: key && `${key}${u}`,
          requestHash: hash,
          account: `batch${u}`,
          mobiles,
          content: `content of ${id}`,
          now,
        });
      const [stored] = await messages.enqueueMany([message('sms_0', 'k0', ['13800000000'])]);
      expect(stored).toMatchObject({
        created: true,
        message: { id: `sms_0${u}`, status: 'queued' },
      });
      const answers = await messages.enqueueMany([
        message('sms_1', 'k1', ['13800000001', '13800000002']),
        message('sms_2', 'k0', ['13800000003']), // stored by an earlier call
        message('sms_3', 'k1', ['13800000004'], 'other'), // taken by sms_1 of this batch
        message('sms_4', null, ['13800000005']),
      ]);
      expect(answers.map((a) => [a.created, a.message.id, a.message.requestHash])).toEqual([
        [true, `sms_1${u}`, 'h'],
        [false, `sms_0${u}`, 'h'],
        [false, `sms_1${u}`, 'h'],
        [true, `sms_4${u}`, 'h'],
      ]);
      const rows = await h.raw(
        `SELECT id FROM ${h.t('gw_messages')} WHERE account = 'batch${u}' ORDER BY id`,
      );
      expect(rows.map((r) => r['id'])).toEqual([`sms_0${u}`, `sms_1${u}`, `sms_4${u}`]);
      const numbers = await messages.get(`sms_1${u}`);
      expect(numbers?.message).toEqual(answers[0]!.message);
      expect(numbers?.recipients.map((r) => [r.mobile, r.status])).toEqual([
        ['13800000001', 'queued'],
        ['13800000002', 'queued'],
      ]);
      expect(await messages.enqueueMany([])).toEqual([]);
    });

    it('records a batch of send outcomes in one call, each only under its lease', async () => {
      const messages = store.messages!;
      const now = 1_700_000_000_000;
      const u = newEventId().slice(-8);
      const account = `record${u}`;
      await messages.enqueueMany(
        ['a', 'b', 'c', 'd'].map((id) =>
          newMessage({
            id: `sms_${id}${u}`,
            account,
            mobiles: [`1380000000${id.charCodeAt(0) - 97}`],
            content: id,
            now,
          }),
        ),
      );
      const claimed = await messages.claim({ account, limit: 10, now, leaseMs: 60_000 });
      expect(claimed).toHaveLength(4);
      const lease = new Map(claimed.map((c) => [c.id.slice(0, 5), c.lease]));
      const id = (short: string) => `${short}${u}`;
      const answers = await messages.recordMany(
        [
          { id: id('sms_a'), lease: lease.get('sms_a')!, outcome: { kind: 'sent', taskId: 'T1' } },
          { id: id('sms_b'), lease: 'not-its-lease', outcome: { kind: 'sent', taskId: 'T2' } },
          {
            id: id('sms_c'),
            lease: lease.get('sms_c')!,
            outcome: { kind: 'unknown', code: 'UNKNOWN_OUTCOME', error: 'cut' },
          },
          { id: id('sms_d'), lease: lease.get('sms_d')!, outcome: { kind: 'sent', taskId: 'T4' } },
        ],
        now + 1,
      );
      expect(answers).toEqual([true, false, true, true]);
      const view = async (id: string) => (await messages.get(id))!;
      expect((await view(id('sms_a'))).message).toMatchObject({ status: 'sent', taskId: 'T1' });
      expect((await view(id('sms_a'))).recipients[0]).toMatchObject({ status: 'sent' });
      expect((await view(id('sms_b'))).message).toMatchObject({ status: 'sending', taskId: null });
      expect((await view(id('sms_c'))).message).toMatchObject({ status: 'unknown' });
      expect((await view(id('sms_c'))).recipients[0]).toMatchObject({ status: 'unknown' });
      expect((await view(id('sms_d'))).message).toMatchObject({ status: 'sent', taskId: 'T4' });
      // A report for a number recorded in the batch finds its message.
      const [tag] = await messages.applyReports(
        account,
        [{ taskId: 'T4', mobile: '13800000003', delivered: true, code: 'DELIVRD', at: now }],
        now + 2,
      );
      expect(tag?.messageId).toBe(id('sms_d'));
      expect(await messages.recordMany([], now)).toEqual([]);
    });

    it('records a batch of sent outcomes only (one statement on PostgreSQL), each only under its lease', async () => {
      const messages = store.messages!;
      const now = 1_700_000_000_000;
      const u = newEventId().slice(-8);
      const account = `sentonly${u}`;
      const ids = ['a', 'b', 'c'].map((x) => `sms_${x}${u}`);
      // c first (queued earlier), under a short lease; then a and b.
      await messages.enqueueMany(
        ids.map((id, i) =>
          newMessage({ id, account, mobiles: [`1380000001${i}`], content: id, now: now - i }),
        ),
      );
      const claimed = [
        ...(await messages.claim({ account, limit: 1, now, leaseMs: 10 })),
        ...(await messages.claim({ account, limit: 10, now, leaseMs: 60_000 })),
      ];
      expect(claimed[0]?.id).toBe(ids[2]);
      const lease = new Map(claimed.map((c) => [c.id, c.lease]));
      // c's lease ran out meanwhile: `unknown`, and a `sent` is still recorded over it.
      expect(await messages.expireLeases(now + 10)).toEqual(expect.arrayContaining([ids[2]]));
      const answers = await messages.recordMany(
        [
          { id: ids[0]!, lease: lease.get(ids[0]!)!, outcome: { kind: 'sent', taskId: 'S1' } },
          { id: ids[1]!, lease: 'not-its-lease', outcome: { kind: 'sent', taskId: 'S2' } },
          { id: ids[2]!, lease: lease.get(ids[2]!)!, outcome: { kind: 'sent', taskId: 'S3' } },
        ],
        now + 1,
      );
      expect(answers).toEqual([true, false, true]);
      const rows = await h.raw(
        `SELECT m.id, m.status, m.task_id, r.status AS number, r.task_id AS number_task
         FROM ${h.t('gw_messages')} m JOIN ${h.t('gw_recipients')} r ON r.message_id = m.id
         WHERE m.account = '${account}' ORDER BY m.id`,
      );
      expect(rows).toEqual([
        { id: ids[0], status: 'sent', task_id: 'S1', number: 'sent', number_task: 'S1' },
        { id: ids[1], status: 'sending', task_id: null, number: 'queued', number_task: null },
        { id: ids[2], status: 'sent', task_id: 'S3', number: 'sent', number_task: 'S3' },
      ]);
    });

    it('gives back claims whose sends never started: queued again, the attempt not counted', async () => {
      const messages = store.messages!;
      const now = 1_700_000_000_000;
      const u = newEventId().slice(-8);
      const account = `release${u}`;
      const ids = ['a', 'b', 'c'].map((x) => `sms_${x}${u}`);
      await messages.enqueueMany(ids.map((id) => newMessage({ id, account, content: id, now })));
      const claimed = await messages.claim({ account, limit: 10, now, leaseMs: 60_000 });
      expect(claimed).toHaveLength(3);
      const lease = new Map(claimed.map((c) => [c.id, c.lease]));
      // a goes back; b names another lease (changes nothing); c was recorded meanwhile.
      await messages.recordMany(
        [{ id: ids[2]!, lease: lease.get(ids[2]!)!, outcome: { kind: 'sent', taskId: 'R3' } }],
        now + 1,
      );
      const released = await messages.release(
        [
          { id: ids[0]!, lease: lease.get(ids[0]!)! },
          { id: ids[1]!, lease: 'not-its-lease' },
          { id: ids[2]!, lease: lease.get(ids[2]!)! },
        ],
        now + 2,
      );
      expect(released).toBe(1);
      expect(await messages.release([], now)).toBe(0);
      const rows = await h.raw(
        `SELECT id, status, attempts, lease FROM ${h.t('gw_messages')}
         WHERE account = '${account}' ORDER BY id`,
      );
      expect(rows.map((r) => [r['id'], r['status'], Number(r['attempts']), r['lease']])).toEqual([
        [ids[0], 'queued', 0, null],
        [ids[1], 'sending', 1, lease.get(ids[1]!)],
        [ids[2], 'sent', 1, lease.get(ids[2]!)],
      ]);
      // Queued again and due: the next claim takes it, as any queued message.
      const again = await messages.claim({ account, limit: 10, now: now + 3, leaseMs: 60_000 });
      expect(again.map((c) => [c.id, c.attempts])).toEqual([[ids[0], 1]]);
    });
  });
}
