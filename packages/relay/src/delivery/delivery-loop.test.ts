import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWebhookSecret } from '@sms/core';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryLoop, parseRetryAfter, retryDelay } from './delivery-loop.js';
import { newEventId } from '../shared/ids.js';
import { jsonLogger } from '../shared/logger.js';
import { RelayMetrics } from '../shared/metrics.js';
import { sqliteStore } from '../store/sqlite.js';
import { type Responder, startReceiver, waitFor } from '../test-utils/receiver.js';

describe('retry timing', () => {
  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('garbage', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('follows the schedule with bounded jitter, then stops', () => {
    const schedule = [1000, 60_000];
    for (let i = 0; i < 50; i++) {
      const delay = retryDelay(schedule, 2, 0.2)!;
      expect(delay).toBeGreaterThanOrEqual(48_000);
      expect(delay).toBeLessThanOrEqual(72_000);
    }
    expect(retryDelay(schedule, 1, 0)).toBe(1000);
    expect(retryDelay(schedule, 3, 0.2)).toBeUndefined();
  });
});

describe('jsonLogger', () => {
  it('writes one JSON line per call and scrubs secrets, even inside errors', () => {
    const lines: string[] = [];
    const logger = jsonLogger({
      level: 'info',
      redact: ['hunter2-secret', 'whsec_abc"def'],
      write: (l) => lines.push(l),
    });
    logger.debug('hidden');
    logger.warn('failed', {
      error: new Error('login hunter2-secret refused'),
      note: 'whsec_abc"def',
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const parsed = JSON.parse(lines[0]!);
    expect(parsed).toMatchObject({ level: 'warn', msg: 'failed', note: '[redacted]' });
    expect(parsed.error.message).toBe('login [redacted] refused');
  });
});

describe('DeliveryLoop and leases (SQLite store, local receiver)', () => {
  const secret = generateWebhookSecret();
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(respond?: Responder) {
    const dir = mkdtempSync(join(tmpdir(), 'sms-relay-delivery-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const store = await sqliteStore({ path: join(dir, 'relay.db') });
    cleanups.push(() => store.close());
    const receiver = await startReceiver({ secret, ...(respond ? { respond } : {}) });
    cleanups.push(() => receiver.close());
    const loop = new DeliveryLoop({
      store,
      targets: [
        {
          name: 'app',
          url: receiver.url,
          secrets: [secret],
          events: ['sms.report', 'sms.reply'],
          accounts: [],
          timeoutMs: 5000,
        },
      ],
      config: {
        timeoutMs: 5000,
        retrySchedule: [60_000],
        jitter: 0,
        concurrency: 1,
        batchSize: 10,
        leaseMs: 300,
        idleMs: 10,
        connections: 1,
      },
      logger: jsonLogger({ level: 'error', write: () => {} }),
      metrics: new RelayMetrics(),
      userAgent: 'test',
    });
    cleanups.push(() => loop.stop(0));
    const insert = (n: number) =>
      store.insertBatch({
        account: 'main',
        events: [{ id: newEventId(), type: 'sms.report', body: JSON.stringify({ n }) }],
        targets: ['app'],
        now: Date.now(),
      });
    return { store, receiver, loop, insert };
  }

  it('records each result under the lease it claimed with', async () => {
    const { store, receiver, loop, insert } = await setup();
    const [id] = await insert(1);
    loop.start();
    await waitFor(async () => (await store.stats()).delivered === 1, 5000, 'the delivery');
    expect(receiver.verified().map((r) => r.id)).toEqual([id]);
    await loop.stop(1000);
    expect(await store.stats()).toMatchObject({ delivered: 1, pending: 0 });
  });

  it('a holder whose lease expired and was taken over does not overwrite the new holder', async () => {
    const { store, receiver, loop, insert } = await setup(() => ({
      status: 200,
      delayMs: 600,
    }));
    const [id] = await insert(1);
    loop.start();
    await waitFor(() => receiver.received.length === 1, 5000, 'the first request');
    // The loop's request hangs past its 300 ms lease; another holder takes the delivery.
    await new Promise((resolve) => setTimeout(resolve, 350));
    const [taken] = await store.claim({ limit: 10, now: Date.now(), leaseMs: 60_000 });
    expect(taken?.eventId).toBe(id);
    await waitFor(() => loop.inFlightCount === 0, 5000, 'the late answer');
    await loop.stop(1000);
    // The old holder's 200 was not recorded: the new holder's claim stands.
    expect(await store.stats()).toMatchObject({ delivered: 0, pending: 1 });
    expect(await store.claim({ limit: 10, now: Date.now(), leaseMs: 10 })).toEqual([]);
    await store.complete(
      [{ eventId: id!, target: 'app', lease: taken!.lease, outcome: { kind: 'delivered' } }],
      Date.now(),
    );
    expect(await store.stats()).toMatchObject({ delivered: 1, pending: 0 });
  });
});
