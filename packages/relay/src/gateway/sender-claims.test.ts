import { join } from 'node:path';
import type { Emulator } from '@sms/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Relay, createRelay } from '../relay.js';
import type { MessageStore } from '../store/messages.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { messageUntil, relayApi } from '../test-utils/gateway-api.js';
import { newMessage } from '../test-utils/store-suite.js';
import { type Receiver, startReceiver } from '../test-utils/receiver.js';
import {
  demoAccount,
  emulator,
  memoryLogger,
  secret,
  storeForTest,
  tempDir,
} from '../test-utils/setup.js';

// How often the sender claims, counted at the store. A claim is a commit (on SQLite with an
// fsync): in a steady flow, every finished send used to claim again and find nothing.

const TOKEN = 'sender-claims-token-0123456789';
const IDLE_MS = 1000;

/**
 * The store, with every claim's size recorded. `holdEmpty`, while set, is awaited by a claim
 * that found nothing before its answer goes back to the sender.
 */
function countingClaims(store: Store) {
  const claims: number[] = [];
  const inner = store.messages!;
  const counted = {
    claims,
    holdEmpty: undefined as ((found: number) => Promise<void>) | undefined,
    store: undefined as unknown as Store,
  };
  const messages: MessageStore = {
    ...inner,
    async claim(options) {
      const claimed = await inner.claim(options);
      if (claimed.length === 0) await counted.holdEmpty?.(claimed.length);
      claims.push(claimed.length);
      return claimed;
    },
  };
  counted.store = new Proxy(store, {
    get: (target, key) => (key === 'messages' ? messages : Reflect.get(target, key)),
  });
  return counted;
}

function relayConfig(
  where: ReturnType<typeof storeForTest>,
  platformUrl: string,
  receiverUrl: string,
  dir: string,
  idleMs: number,
) {
  return {
    store: where.config,
    journal: { dir },
    accounts: [demoAccount(platformUrl, { timeoutMs: 2000 })],
    targets: [{ name: 'app', url: receiverUrl, secret }],
    gateway: { idleMs },
    http: { port: 0, host: '127.0.0.1', token: TOKEN },
  };
}

describe.each(['sqlite', 'postgres'] as const)('sender claims on %s', (kind) => {
  let platform: Emulator;
  let tmp: ReturnType<typeof tempDir>;
  let rx: Receiver;
  beforeAll(async () => {
    platform = await emulator();
    tmp = tempDir();
    rx = await startReceiver({ secret });
  });
  afterAll(async () => {
    await platform.close();
    await rx.close();
    tmp.cleanup();
  });

  it('one message at a time: a finished send does not claim again when nothing is queued', async () => {
    const where = storeForTest(kind, tmp.dir, 'relay_claims');
    const counted = countingClaims(await openStore(where.config));
    const relay: Relay = createRelay(
      relayConfig(where, platform.url, rx.url, join(tmp.dir, `journal-${kind}`), IDLE_MS),
      { logger: memoryLogger(), store: counted.store },
    );
    await relay.start();
    const api = relayApi(TOKEN);
    const until = messageUntil(TOKEN);
    try {
      const started = Date.now();
      const count = 10;
      for (let i = 0; i < count; i++) {
        const posted = await api(relay, 'POST', '/v1/messages', {
          to: `1390000${String(i).padStart(4, '0')}`,
          content: `【测试】one at a time ${i}`,
        });
        expect(posted.status).toBe(202);
        await until(relay, posted.body['id'], (m) => m['status'] === 'sent');
      }
      const elapsed = Date.now() - started;
      expect(platform.sent()).toHaveLength(count);
      const empty = counted.claims.filter((n) => n === 0).length;
      // Each POST claims its message; what else finds nothing is the idle poll (every IDLE_MS)
      // and at most one claim racing a POST. One empty claim per finished send: 10 or more.
      expect(counted.claims.filter((n) => n > 0).length).toBeLessThanOrEqual(count);
      expect(empty).toBeLessThanOrEqual(Math.ceil(elapsed / IDLE_MS) + 2);
    } finally {
      await relay.stop();
      await where.drop();
    }
  });

  // A claim is a commit (on SQLite with an fsync): with sends under way it waits until it can
  // take three quarters of a window, and the quarter still claimed ahead keeps the slots busy.
  it('a queue drained with sends under way is claimed three quarters of a window at a time', async () => {
    const where = storeForTest(kind, tmp.dir, 'relay_claims_drain');
    const store = await openStore(where.config);
    const counted = countingClaims(store);
    const count = 120;
    const relay: Relay = createRelay(
      {
        ...relayConfig(where, platform.url, rx.url, join(tmp.dir, `journal-drain-${kind}`), 5),
        gateway: { idleMs: 5, concurrency: 8, ratePerSecond: 100_000 },
      },
      { logger: memoryLogger(), store: counted.store },
    );
    platform.reset();
    await relay.start();
    try {
      // Queued at once, after the sender's first claim found nothing: its idle poll takes them.
      const now = Date.now();
      await store.messages!.enqueueMany(
        Array.from({ length: count }, (_, i) =>
          newMessage({
            id: `sms_drain_${String(i).padStart(4, '0')}`,
            account: 'main',
            mobiles: [`1390001${String(i).padStart(4, '0')}`],
            content: `【测试】drain ${i}`,
            now,
          }),
        ),
      );
      const deadline = Date.now() + 30_000;
      while (platform.sent().length < count && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(platform.sent()).toHaveLength(count);
      const taken = counted.claims.filter((n) => n > 0);
      expect(taken.reduce((a, b) => a + b, 0)).toBe(count);
      // The first claim fills both windows (16); the last takes what is left.
      expect(taken[0]).toBe(16);
      for (const n of taken.slice(1, -1)) expect(n).toBeGreaterThanOrEqual(6);
    } finally {
      await relay.stop();
      await where.drop();
    }
  });

  // The worst moment for "never stalls": a claim already under way finds nothing, a message is
  // queued (and the sender woken) before that empty answer lands, and the answer then marks
  // the account dry. The wake must still bring a claim; with an idle poll of a minute, only
  // the wake can send it in time.
  it('a message queued while a claim that finds nothing is under way is still sent at once', async () => {
    const where = storeForTest(kind, tmp.dir, 'relay_claims_race');
    const counted = countingClaims(await openStore(where.config));
    let releaseClaim!: () => void;
    const claimHeld = new Promise<void>((resolve) => {
      counted.holdEmpty = () => {
        counted.holdEmpty = undefined;
        resolve();
        return new Promise<void>((release) => {
          releaseClaim = release;
        });
      };
    });
    const relay: Relay = createRelay(
      relayConfig(where, platform.url, rx.url, join(tmp.dir, `journal-race-${kind}`), 60_000),
      { logger: memoryLogger(), store: counted.store },
    );
    await relay.start();
    const api = relayApi(TOKEN);
    try {
      // The sender's first claim, at its start, found the queue empty and is held.
      await claimHeld;
      const posted = await api(relay, 'POST', '/v1/messages', {
        to: '13900001234',
        content: '【测试】queued during an empty claim',
      });
      expect(posted.status).toBe(202);
      releaseClaim();
      await messageUntil(TOKEN)(relay, posted.body['id'], (m) => m['status'] === 'sent');
      expect(counted.claims[0]).toBe(0);
      expect(platform.sent().map((m) => m.content)).toContain(
        '【测试】queued during an empty claim',
      );
    } finally {
      await relay.stop();
      await where.drop();
    }
  });
});
