import { join } from 'node:path';
import type { StatusReport } from '@sms/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { Settlement } from '../pull/answer.js';
import { newJournalEntryId } from '../shared/ids.js';
import type { MessageStore } from '../store/messages.js';
import { sqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { memoryLogger, tempDir } from '../test-utils/setup.js';
import { correlator } from './correlate.js';

// A report can reach the relay before the answer of its own send is recorded (the platform
// reports at once; the sender commits a moment later). These tests put the sender's commit
// exactly into the correlator's gaps, on a real SQLite store.

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sending(): Promise<{
  store: Store;
  messages: MessageStore;
  id: string;
  lease: string;
}> {
  const tmp = tempDir();
  const store = await sqliteStore({ path: join(tmp.dir, 'relay.db') });
  cleanups.push(() => tmp.cleanup());
  cleanups.push(() => store.close());
  const messages = store.messages!;
  const now = Date.now();
  await messages.enqueue({
    id: 'sms_01M8P7000000000000000000AA',
    idempotencyKey: null,
    requestHash: 'h',
    account: 'main',
    mobiles: ['13800138000'],
    content: '【测试】race',
    sendAt: null,
    extNo: '',
    metadata: '{"order":7}',
    callbackUrl: null,
    expiresAt: null,
    now,
  });
  const [claimed] = await messages.claim({ account: 'main', limit: 1, now, leaseMs: 60_000 });
  return { store, messages, id: claimed!.id, lease: claimed!.lease };
}

function reportSettlement(taskId: string): Settlement {
  const report: StatusReport = {
    mobile: '13800138000',
    taskId,
    status: 'delivered',
    statusCode: 10,
    receivedAt: new Date(),
    receiveTime: '2026-11-30 20:00:00',
    errorCode: 'DELIVRD',
    extNo: '',
  };
  return {
    head: {
      id: newJournalEntryId(),
      account: 'main',
      kind: 'reports',
      receivedAt: Date.now(),
      status: 200,
      contentType: 'text/xml',
    },
    records: [report],
  };
}

describe('correlating a report with a send that is still being recorded', () => {
  it('the send is recorded between the first look and the "still sending?" check (the race that lost a tag)', async () => {
    const { messages, id, lease } = await sending();
    const racing: MessageStore = {
      ...messages,
      async sendingTo(account, mobiles) {
        await messages.record(id, lease, { kind: 'sent', taskId: 'T-1' }, Date.now());
        return messages.sendingTo(account, mobiles);
      },
    };
    const correlation = await correlator({ messages: racing, logger: memoryLogger() })(
      reportSettlement('T-1'),
    );
    expect(correlation?.tags).toEqual([
      { messageId: id, metadata: '{"order":7}', callbackUrl: null },
    ]);
    const { recipients } = (await messages.get(id))!;
    expect(recipients[0]).toMatchObject({ status: 'delivered', code: 'DELIVRD' });
  });

  it('waits while the number has a message sending, and finds the send recorded later', async () => {
    const { messages, id, lease } = await sending();
    setTimeout(
      () => void messages.record(id, lease, { kind: 'sent', taskId: 'T-2' }, Date.now()),
      200,
    );
    const correlation = await correlator({ messages, logger: memoryLogger() })(
      reportSettlement('T-2'),
    );
    expect(correlation?.tags[0]?.messageId).toBe(id);
  });

  it('does not wait for a report of a number no gateway message is sending to', async () => {
    const { messages } = await sending();
    const started = Date.now();
    const correlation = await correlator({ messages, logger: memoryLogger(), waitMs: 5000 })({
      ...reportSettlement('T-3'),
      records: [{ ...(reportSettlement('T-3').records[0] as StatusReport), mobile: '13900000000' }],
    });
    expect(correlation).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
