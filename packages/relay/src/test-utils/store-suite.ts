import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { NewEvent, Store } from '../store/types.js';

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

const event = (n: number, type: NewEvent['type'] = 'sms.report'): NewEvent => ({
  type,
  body: JSON.stringify({ type, timestamp: new Date(0).toISOString(), data: { n } }),
});

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

    it('stores a batch: one event per record with a msg_ id, one delivery per target', async () => {
      const ids = await store.insertBatch({
        account: 'main',
        events: [event(1), event(2, 'sms.reply'), event(3)],
        targets: ['a', 'b'],
        now: 1000,
      });
      expect(ids).toHaveLength(3);
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
      // A duplicate target makes the second delivery insert fail: nothing may remain.
      await expect(
        store.insertBatch({
          account: 'main',
          events: [event(1), event(2)],
          targets: ['a', 'a'],
          now: 1,
        }),
      ).rejects.toThrow();
      expect(await h.raw(`SELECT id FROM ${h.t('events')}`)).toHaveLength(0);
      expect(await h.raw(`SELECT event_id FROM ${h.t('deliveries')}`)).toHaveLength(0);
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

    it('never hands the same delivery to two concurrent claimers', async () => {
      const other = await open();
      await store.insertBatch({
        account: 'main',
        events: Array.from({ length: 200 }, (_, i) => event(i)),
        targets: ['a'],
        now: 1,
      });
      const claims = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? other : store).claim({ limit: 40, now: 2, leaseMs: 60_000 }),
        ),
      );
      const all = claims.flat().map((d) => d.eventId);
      expect(all).toHaveLength(200);
      expect(new Set(all).size).toBe(200);
    });

    it('records a batch of results: delivered, retry, dead, release', async () => {
      const [a, b, c, d] = await store.insertBatch({
        account: 'main',
        events: [event(1), event(2), event(3), event(4)],
        targets: ['t'],
        now: 10,
      });
      await store.claim({ limit: 10, now: 10, leaseMs: 1000 });
      await store.complete(
        [
          { eventId: a!, target: 't', outcome: { kind: 'delivered' }, status: 200 },
          {
            eventId: b!,
            target: 't',
            outcome: { kind: 'retry', nextAttemptAt: 5000 },
            status: 500,
            error: 'HTTP 500',
          },
          { eventId: c!, target: 't', outcome: { kind: 'dead' }, error: 'timeout' },
          { eventId: d!, target: 't', outcome: { kind: 'release' } },
        ],
        20,
      );
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
      await store.claim({ limit: 10, now: 1, leaseMs: 10 });
      await store.complete(
        [{ eventId: a!, target: 'gone', outcome: { kind: 'gone' }, status: 410 }],
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
      await store.claim({ limit: 10, now: 1, leaseMs: 10 });
      await store.complete(
        [
          { eventId: a!, target: 't', outcome: { kind: 'dead' }, status: 500, error: 'HTTP 500' },
          { eventId: b!, target: 't', outcome: { kind: 'dead' }, error: 'timeout' },
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
      const [a] = await store.insertBatch({
        account: 'm',
        events: [event(1), event(2)],
        targets: ['t'],
        now: 1,
      });
      await store.complete([{ eventId: a!, target: 't', outcome: { kind: 'delivered' } }], 2);
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
      const results = [done!, pending!, other!].flatMap((id) =>
        ['t', 'u'].map((target) => ({
          eventId: id,
          target,
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

    it('releases a dead holder’s lock when its store closes', async () => {
      const other = await open();
      expect(await other.lockAccount('acct')).not.toBeNull();
      await other.close();
      const lock = await store.lockAccount('acct');
      expect(lock).not.toBeNull();
      await lock!.release();
    });
  });
}
