import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { getPriority } from 'node:os';
import type { Emulator } from '@sms/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newJournalEntryId } from '../shared/ids.js';
import { PASSWORD, emulator, tempDir } from '../test-utils/setup.js';
import { PullWorker } from './pull-worker.js';

const entries = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.jrn'));

describe('the pull thread', () => {
  let platform: Emulator;
  let tmp: ReturnType<typeof tempDir>;
  let worker: PullWorker;

  beforeAll(async () => {
    platform = await emulator();
    tmp = tempDir();
    worker = new PullWorker(tmp.dir);
    await worker.start();
  });
  afterAll(async () => {
    await worker.close();
    await platform.close();
    tmp.cleanup();
  });

  const client = (baseUrl: string) => ({
    baseUrl,
    userId: '12',
    account: 'demo',
    password: PASSWORD,
    timeoutMs: 2000,
  });

  it('names its kernel thread and runs at a priority no lower than the process', () => {
    // Linux: the id is one of this process's threads; raising the priority needs root or
    // CAP_SYS_NICE, so only "not lower" holds everywhere.
    expect(worker.thread.tid).toBeTypeOf('number');
    expect(readdirSync(`/proc/${process.pid}/task`)).toContain(String(worker.thread.tid));
    expect(worker.thread.nice).toBeLessThanOrEqual(getPriority(0));
  });

  it('writes the answer into an entry it created before asking, header line then the body as received', async () => {
    platform.injectReport({ account: 'demo', mobile: '13900000001', taskId: '42', status: 10 });
    const entryId = newJournalEntryId();
    const outcome = await worker.pull({
      account: 'main',
      client: client(platform.url),
      kind: 'reports',
      entryId,
      dir: tmp.dir,
      fsync: true,
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.durable).toBe(true);
    const bytes = readFileSync(`${tmp.dir}/${entryId}.jrn`);
    const newline = bytes.indexOf(0x0a);
    expect(JSON.parse(bytes.subarray(0, newline).toString())).toMatchObject({
      v: 1,
      account: 'main',
      kind: 'reports',
      status: 200,
    });
    expect(bytes.subarray(newline + 1)).toEqual(outcome.body);
    expect(outcome.body.toString()).toContain('<taskid>42</taskid>');
  });

  it('leaves no entry behind when no answer came (refused, or closed before the headers)', async () => {
    // A port that refuses, and a server that hangs up on every connection.
    const refused = createServer();
    await new Promise<void>((resolve) => refused.listen(0, '127.0.0.1', resolve));
    const refusedPort = (refused.address() as AddressInfo).port;
    await new Promise<void>((resolve) => refused.close(() => resolve()));
    const hangUp = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => hangUp.listen(0, '127.0.0.1', resolve));
    const hangUpPort = (hangUp.address() as AddressInfo).port;
    const before = entries(tmp.dir);
    try {
      for (const port of [refusedPort, hangUpPort]) {
        const outcome = await worker.pull({
          // The thread keeps one client per account name.
          account: `unreachable-${port}`,
          client: client(`http://127.0.0.1:${port}`),
          kind: 'replies',
          entryId: newJournalEntryId(),
          dir: tmp.dir,
          fsync: true,
        });
        expect(outcome.head).toBeUndefined();
        expect(['NETWORK', 'UNKNOWN_OUTCOME']).toContain(outcome.error?.code);
      }
      expect(entries(tmp.dir)).toEqual(before);
    } finally {
      await new Promise<void>((resolve) => hangUp.close(() => resolve()));
    }
  });
});
