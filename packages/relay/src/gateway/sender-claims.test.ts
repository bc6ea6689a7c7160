import { join } from 'node:path';
import type { Emulator } from '@sms/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Relay, createRelay } from '../relay.js';
import type { MessageStore } from '../store/messages.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { messageUntil, relayApi } from '../test-utils/gateway-api.js';
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

/** The store, with every claim's size recorded. */
function countingClaims(store: Store): { store: Store; claims: number[] } {
  const claims: number[] = [];
  const inner = store.messages!;
  const messages: MessageStore = {
    ...inner,
    async claim(options) {
      const claimed = await inner.claim(options);
      claims.push(claimed.length);
      return claimed;
    },
  };
  return {
    store: new Proxy(store, {
      get: (target, key) => (key === 'messages' ? messages : Reflect.get(target, key)),
    }),
    claims,
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
      {
        store: where.config,
        journal: { dir: join(tmp.dir, `journal-${kind}`) },
        accounts: [demoAccount(platform.url, { timeoutMs: 2000 })],
        targets: [{ name: 'app', url: rx.url, secret }],
        gateway: { idleMs: IDLE_MS },
        http: { port: 0, host: '127.0.0.1', token: TOKEN },
      },
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
});
