import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SmsClientOptions } from '@sms/core';
import type { JournalHead, PullKind } from './journal.js';

/**
 * Pulls run on a thread of their own. The pull-once window is the time between the kernel
 * holding an answer and the process reading it: on the main thread that includes whatever
 * else is running there (signing a delivery batch, a synchronous SQLite claim, a start-up's
 * compiling), tens of milliseconds at times. This thread does nothing but wait for answers,
 * so it reads them and writes them to the journal at once.
 */

export interface PullRequest {
  /** The account's name in the relay's config (the client is kept per name). */
  account: string;
  client: SmsClientOptions;
  kind: PullKind;
  /** `statusNum` for reports. */
  max?: number | undefined;
  /** `jrn_…`: the entry this answer is written to. */
  entryId: string;
  dir: string;
  fsync: boolean;
}

export interface PullOutcome {
  /** The entry's header, once an answer started arriving (absent: nothing arrived). */
  head?: JournalHead;
  /** Every byte of the body that arrived. */
  body: Buffer;
  /** True when every byte that arrived is in the journal file. */
  durable: boolean;
  /** Why the journal could not hold the answer (disk full, …). */
  journalError?: string;
  /** The pull's failure, if it failed (after or before an answer arrived): the `SmsError`'s fields. */
  error?: PullFailure;
}

export interface PullFailure {
  code: string;
  message: string;
  status?: number | undefined;
  platformMessage?: string | undefined;
  excerpt?: string | undefined;
  words?: string[] | undefined;
}

/** The pull thread as the kernel knows it (Linux; empty elsewhere). */
export interface PullThread {
  /** Its thread id (`/proc/<pid>/task/<tid>`). */
  tid?: number;
  /** Its nice value: the process's own less 10 when the process may raise priorities. */
  nice?: number;
}

interface WorkerData {
  core: string;
  /** Where the warm-up may write its throwaway entry (never a `.jrn` name). */
  warmDir: string;
}

/**
 * The worker's code. It runs in a fresh thread from its source text (so it needs no file of
 * its own in either build): it may use nothing from this module, and no `require` (bundlers
 * rewrite that name), only Node's built-ins through `process.getBuiltinModule`.
 */
function workerMain(): void {
  const builtin = (process as unknown as { getBuiltinModule: (id: string) => unknown })
    .getBuiltinModule;
  const threads = builtin('node:worker_threads') as typeof import('node:worker_threads');
  const parentPort = threads.parentPort!;
  const fs = builtin('node:fs') as typeof import('node:fs');
  const path = builtin('node:path') as typeof import('node:path');
  const { createRequire } = builtin('node:module') as typeof import('node:module');
  const core = (threads.workerData as WorkerData).core;
  const { SmsClient: Client } = createRequire(core)(core) as typeof import('@sms/core');
  const clients = new Map<string, InstanceType<typeof Client>>();

  const { promisify } = builtin('node:util') as typeof import('node:util');
  const fdatasync = promisify(fs.fdatasync);
  const fsync = promisify(fs.fsync);
  const openFile = promisify(fs.open);

  /** The entry's data on the disk, then its name in the folder. */
  async function flush(fd: number, dir: string): Promise<void> {
    await fdatasync(fd);
    const dirFd = await openFile(dir, 'r');
    try {
      await fsync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  }

  async function pull(
    request: PullRequest,
    file = path.join(request.dir, `${request.entryId}.jrn`),
  ): Promise<PullOutcome> {
    let client = clients.get(request.account);
    if (!client) {
      client = new Client({ ...request.client, retry: false });
      clients.set(request.account, client);
    }
    const chunks: Buffer[] = [];
    let fd: number | undefined;
    let head: JournalHead | undefined;
    let journalError: string | undefined;
    const write = (action: () => void) => {
      if (journalError !== undefined) return;
      try {
        action();
      } catch (error) {
        journalError = String((error as Error)?.message ?? error);
      }
    };
    // The file exists before the request leaves: creating a file takes the filesystem's
    // journal and the folder's lock, and under other processes' fsyncs that has taken over
    // 7 ms (seen in the crash test: the pull thread inside openat, the answer read, nothing
    // written). Between reading an answer and holding it in the file there is now only write().
    write(() => {
      fd = fs.openSync(file, 'wx', 0o600);
    });
    // The header line then the body exactly as received (read back by journal.ts readEntry).
    const sink = {
      head(status: number, contentType: string | undefined) {
        head = {
          id: request.entryId,
          account: request.account,
          kind: request.kind,
          receivedAt: Date.now(),
          status,
          contentType,
        };
        const { id: _id, ...header } = head;
        write(() => {
          fs.writeSync(fd!, `${JSON.stringify({ v: 1, ...header })}\n`);
        });
      },
      chunk(bytes: Buffer) {
        chunks.push(bytes);
        write(() => {
          let offset = 0;
          while (offset < bytes.length) offset += fs.writeSync(fd!, bytes, offset);
        });
      },
    };
    let error: PullOutcome['error'];
    try {
      // Not read here: the main thread parses the answer from what the journal holds.
      await client.fetchInto(request.kind, sink, request.max ? { max: request.max } : {});
    } catch (thrown) {
      const e = thrown as Partial<PullFailure>;
      error = {
        code: e.code ?? 'NETWORK',
        message: String(e.message ?? thrown),
        status: e.status,
        platformMessage: e.platformMessage,
        excerpt: e.excerpt,
        words: e.words,
      };
    }
    if (fd !== undefined && head === undefined) {
      // No answer arrived: the empty file holds nothing (recovery would drop it too).
      const open = fd;
      fd = undefined;
      try {
        fs.closeSync(open);
        fs.unlinkSync(file);
      } catch {}
    }
    if (fd !== undefined) {
      const open = fd;
      // Flushed off this thread (libuv's pool): a flush under other processes' fsyncs takes
      // milliseconds, and an answer arriving meanwhile (the other kind, another account)
      // would wait unread in the kernel for all of them. The outcome still waits for it.
      if (request.fsync && journalError === undefined) {
        try {
          await flush(open, request.dir);
        } catch (error) {
          journalError = String((error as Error)?.message ?? error);
        }
      }
      try {
        fs.closeSync(open);
      } catch {}
    }
    return {
      ...(head ? { head } : {}),
      body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
      durable: head !== undefined && journalError === undefined,
      ...(journalError !== undefined ? { journalError } : {}),
      ...(error ? { error } : {}),
    };
  }

  /**
   * A first answer costs a cold thread milliseconds of compiling (undici's parser, the sink,
   * ours), and a kill then loses it: so pull both kinds once from a local stand-in first,
   * through the same code, into a throwaway file.
   */
  async function warmUp(): Promise<void> {
    const http = builtin('node:http') as typeof import('node:http');
    const box =
      '<statusbox><mobile>13800138000</mobile><taskid>1</taskid><status>10</status><receivetime>2026-01-01 00:00:00</receivetime><errorcode>DELIVRD</errorcode><extno></extno></statusbox>' +
      '<callbox><mobile>13800138000</mobile><taskid></taskid><content>warm</content><receivetime>2026-01-01 00:00:00</receivetime><extno></extno></callbox>';
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
        res.end(`<?xml version="1.0" encoding="utf-8"?><returnsms>${box}</returnsms>`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    const { warmDir } = threads.workerData as WorkerData;
    const file = path.join(warmDir, `.warm-up-${threads.threadId}-${process.pid}`);
    try {
      for (const kind of ['reports', 'replies'] as const) {
        await pull(
          {
            account: '\u0000warm-up',
            client: { baseUrl: `http://127.0.0.1:${port}`, account: 'warm', password: 'warm' },
            kind,
            entryId: 'warm-up',
            dir: warmDir,
            fsync: false,
          },
          file,
        );
        fs.rmSync(file, { force: true });
      }
    } finally {
      await clients.get('\u0000warm-up')?.close();
      clients.delete('\u0000warm-up');
      server.close();
    }
  }
  /**
   * The thread's kernel id (Linux), and a higher scheduling priority for it where the process
   * may raise one (root or CAP_SYS_NICE; elsewhere it stays as it is): an answer waits in the
   * kernel, or half-handled in this thread, for as long as this thread waits for a core.
   */
  function schedule(): PullThread {
    const os = builtin('node:os') as typeof import('node:os');
    let tid: number | undefined;
    try {
      tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    } catch {
      return {};
    }
    try {
      os.setPriority(tid, os.getPriority(0) - 10);
    } catch {}
    let nice: number | undefined;
    try {
      nice = os.getPriority(tid);
    } catch {}
    return { tid, nice };
  }
  const thread = schedule();
  const warm = warmUp().catch(() => {});
  warm.then(() => parentPort.postMessage({ seq: 0, ready: true, thread }));

  parentPort.on('message', (message: { seq: number; request?: PullRequest; close?: true }) => {
    if (message.close) {
      Promise.all([...clients.values()].map((c) => c.close())).finally(() => parentPort.close());
      return;
    }
    pull(message.request!).then(
      (outcome) => parentPort.postMessage({ seq: message.seq, outcome }),
      (failure: unknown) =>
        parentPort.postMessage({
          seq: message.seq,
          outcome: {
            body: Buffer.alloc(0),
            durable: false,
            error: { code: 'NETWORK', message: String(failure) },
          },
        }),
    );
  });
}

/**
 * Where `@sms/core`'s CommonJS build is, for the worker to load: read from core's `exports`
 * (`require` condition), so a `dev-source` condition in this process (tests) cannot send
 * the worker to TypeScript it cannot run.
 */
function corePath(): string {
  const here = typeof __filename === 'string' ? __filename : import.meta.url;
  const manifestPath = createRequire(here).resolve('@sms/core/package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports: { '.': { require: { default: string } } };
  };
  return join(dirname(manifestPath), manifest.exports['.'].require.default);
}

/** The relay's pull thread: one for all accounts; restarted if it dies. */
export class PullWorker {
  private worker: Worker | undefined;
  private ready: Promise<void> = Promise.resolve();
  private seq = 0;
  private readonly pending = new Map<number, (outcome: PullOutcome) => void>();
  private closed = false;
  /** The running thread's kernel id and nice value (after `start`). */
  thread: PullThread = {};

  /** `warmDir`: a folder the thread may write a throwaway file to (the journal's). */
  constructor(private readonly warmDir: string) {}

  /** Starts the thread and waits until it has warmed up (call before the first pull). */
  async start(): Promise<void> {
    this.worker ??= this.spawn();
    await this.ready;
  }

  private spawn(): Worker {
    const worker = new Worker(`(${workerMain.toString()})()`, {
      eval: true,
      // Not the test runner's `--conditions` and loaders: the worker runs built code only.
      execArgv: [],
      workerData: { core: corePath(), warmDir: this.warmDir } satisfies WorkerData,
    });
    let markReady: () => void = () => {};
    this.ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    worker.on(
      'message',
      ({
        seq,
        outcome,
        ready,
        thread,
      }: {
        seq: number;
        outcome: PullOutcome;
        ready?: true;
        thread?: PullThread;
      }) => {
        if (ready) {
          this.thread = thread ?? {};
          return markReady();
        }
        const resolve = this.pending.get(seq);
        this.pending.delete(seq);
        // Buffers arrive as plain Uint8Arrays.
        resolve?.({ ...outcome, body: Buffer.from(outcome.body) });
      },
    );
    const fail = (why: string) => {
      markReady();
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const [seq, resolve] of this.pending) {
        this.pending.delete(seq);
        resolve({
          body: Buffer.alloc(0),
          durable: false,
          error: { code: 'NETWORK', message: why },
        });
      }
    };
    worker.on('error', (error) => fail(`pull thread failed: ${error.message}`));
    worker.on('exit', (code) => fail(`pull thread exited (${code})`));
    // Kept alive by the pollers' own timers once running; not by the thread itself.
    this.ready.then(() => worker.unref());
    return worker;
  }

  /** Runs one pull on the thread; never rejects (a failure is in `outcome.error`). */
  pull(request: PullRequest): Promise<PullOutcome> {
    if (this.closed) {
      return Promise.resolve({
        body: Buffer.alloc(0),
        durable: false,
        error: { code: 'NETWORK', message: 'the relay is stopping' },
      });
    }
    this.worker ??= this.spawn();
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(seq, resolve);
      this.worker!.postMessage({ seq, request });
    });
  }

  /** Lets pulls under way finish, then closes the clients and the thread. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ seq: 0, close: true });
    await exited;
  }
}
