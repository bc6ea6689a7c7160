import { existsSync, readFileSync, readdirSync } from 'node:fs';
import {
  type IncomingMessage,
  type ServerResponse,
  createServer as createHttpServer,
} from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { getPriority } from 'node:os';
import type { Emulator } from '@sms/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newJournalEntryId } from '../shared/ids.js';
import { PASSWORD, emulator, tempDir } from '../test-utils/setup.js';
import { waitFor } from '../test-utils/receiver.js';
import { delaySyscalls } from '../test-utils/strace.js';
import { PullWorker } from './pull-worker.js';

const entries = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.jrn'));

/** A platform stand-in on 127.0.0.1 answering every request with `answer`; its URL and close. */
async function standIn(answer: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

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

  it('does not read the answer: a refusal inside a 200 answer is journaled whole and left to the main thread', async () => {
    // The main thread parses the entry (settlementOfEntry); a parse here was a second one
    // (about 10 ms for 4,000 reports) during which other answers waited unread.
    const refusal =
      '<?xml version="1.0" encoding="utf-8"?><returnsms><errorstatus><error>2</error><remark>用户名或密码错误</remark></errorstatus></returnsms>';
    const platform = await standIn((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      res.end(refusal);
    });
    try {
      const entryId = newJournalEntryId();
      const outcome = await worker.pull({
        account: 'refused',
        client: client(platform.url),
        kind: 'replies',
        entryId,
        dir: tmp.dir,
        fsync: true,
      });
      expect(outcome.error).toBeUndefined();
      expect(outcome.durable).toBe(true);
      expect(outcome.body.toString()).toBe(refusal);
      expect(readFileSync(`${tmp.dir}/${entryId}.jrn`, 'utf8')).toContain(refusal);
    } finally {
      await platform.close();
    }
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

  it('reads and journals an answer while an earlier entry is being flushed (its fsyncs 1 s slow on the pull thread)', async () => {
    // Two pulls under way at once (two kinds, or two accounts): the first answer comes at
    // once and its entry is flushed; the second comes 50 ms later, while that flush is held.
    let answerSecond: () => void = () => {};
    const secondAsked = new Promise<void>((resolve) => {
      answerSecond = resolve;
    });
    let secondWrittenAt = 0;
    const platform = await standIn(async (req, res) => {
      const second = req.url!.startsWith('/callApi.aspx');
      if (second) await secondAsked;
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
      const box = second
        ? '<callbox><mobile>13900000002</mobile><taskid></taskid><content>second</content><receivetime>2026-12-07 10:00:00</receivetime><extno></extno></callbox>'
        : '<statusbox><mobile>13900000001</mobile><taskid>1</taskid><status>10</status><receivetime>2026-12-07 10:00:00</receivetime><errorcode>DELIVRD</errorcode><extno></extno></statusbox>';
      if (second) secondWrittenAt = performance.now();
      res.end(`<?xml version="1.0" encoding="utf-8"?><returnsms>${box}</returnsms>`, () => {
        if (!second) setTimeout(answerSecond, 50);
      });
    });
    const baseUrl = platform.url;
    const detach = await delaySyscalls(String(worker.thread.tid), ['fdatasync', 'fsync'], 1000);
    try {
      const [first, second] = [newJournalEntryId(), newJournalEntryId()];
      const pulls = [
        worker.pull({
          account: 'flush-a',
          client: { ...client(baseUrl), timeoutMs: 10_000 },
          kind: 'reports',
          entryId: first,
          dir: tmp.dir,
          fsync: true,
        }),
        worker.pull({
          account: 'flush-b',
          client: { ...client(baseUrl), timeoutMs: 10_000 },
          kind: 'replies',
          entryId: second,
          dir: tmp.dir,
          fsync: true,
        }),
      ];
      const secondFile = `${tmp.dir}/${second}.jrn`;
      const journaled = () =>
        existsSync(secondFile) && readFileSync(secondFile, 'utf8').includes('</returnsms>');
      await waitFor(journaled, 30_000, 'the second answer in the journal');
      // Read at once, not after the first entry's flush (which held the thread a second).
      expect(performance.now() - secondWrittenAt).toBeLessThan(300);
      const outcomes = await Promise.all(pulls);
      expect(outcomes.map((outcome) => [outcome.error, outcome.durable])).toEqual([
        [undefined, true],
        [undefined, true],
      ]);
    } finally {
      await detach();
      await platform.close();
    }
  }, 60_000);
});
