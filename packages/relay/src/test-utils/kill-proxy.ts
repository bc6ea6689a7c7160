import type { ChildProcess } from 'node:child_process';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { request } from 'undici';

/** `statusApi.aspx`, `callApi.aspx` and their signed `v2…` variants, in any case. */
const PULL_PATH = /(statusapi|callapi)\.aspx$/i;
/** `sms.aspx`, `smsGBK.aspx` and `v2sms.aspx`: a send when the form says `action=send`. */
const SEND_PATH = /sms(gbk)?\.aspx$/i;
/** `/relay-<epoch>/…`: the base path `relayUrl()` hands each relay. */
const RELAY_PREFIX = /^\/relay-(\d+)(\/.*)?$/;
/** An opening box tag (`</statusbox>` starts with `</`, so closing tags never match). */
const BOX = /<\s*(statusbox|callbox)\b/gi;
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'content-length',
]);

/** What the relay, or the callback standing in for it, is killed with. */
export type KillTarget = ChildProcess | (() => void);

/** One pull answer the proxy got from the platform. */
export interface PullAnswer {
  path: string;
  /**
   * Which relay asked: the kills before it started (its `relayUrl()`), or before the request
   * arrived for a base URL without one. 0 = the first relay.
   */
  epoch: number;
  /** `<statusbox>` / `<callbox>` elements in the answer. */
  records: number;
  /** The answer as UTF-8 text (the pull endpoints always speak UTF-8). */
  text: string;
  /**
   * Whether the answer went to a live relay. False only when the relay that asked was killed
   * (by this proxy) before the answer was written: the platform then handed the records to a
   * dead connection, which no client can prevent. A live relay that hung up still counts.
   */
  handedOut: boolean;
  /** When its write to the relay's socket ended (`monotonicMs`), if it did. */
  writtenAt: number | null;
  /** The relay's end of the connection (its local port): how the kernel names its socket. */
  relayPort: number;
  /**
   * Set when the relay that asked was killed after this answer was written: how many bytes
   * were still in the relay's socket receive queue, read by no thread of it, at the kill (the
   * relay frozen with SIGSTOP, /proc/net/tcp read, then SIGKILL). Above 0: the answer never
   * reached the process, and no client could have kept it. 0: the process had read all of it
   * (whether it was in the journal yet is `inJournalAtKill`; test-utils/window.ts says which
   * losses that leaves to the window). null: the socket was gone (closed) or not found.
   */
  unreadAtKill?: number | null;
  /**
   * Set with `unreadAtKill` when the proxy watches the relay's journal: whether an entry there
   * held every record of this answer at the kill (the relay frozen). null: not watched.
   */
  inJournalAtKill?: boolean | null;
  /** Set at the kill: what each thread of the relay was doing (`tid state syscall wchan`). */
  threadsAtKill?: string[];
  /** CPU nanoseconds per thread of the relay (a `track`ed one) just before this answer's write. */
  cpuAtWrite?: Record<string, number>;
  /**
   * Set at the kill for an answer of a `track`ed relay: the CPU milliseconds each of its threads
   * (by thread id) had between this answer's write and the kill. A thread that had no core
   * could do nothing with the answer, whatever D was.
   */
  cpuSinceWriteMs?: Record<string, number>;
}

/** What was read off the frozen relay. */
interface Frozen {
  journal: string[] | null;
  threads: string[];
  /** CPU nanoseconds per thread id (`runTimes`). */
  cpu: Record<string, number>;
}

/** An armed kill that went off. */
export interface Shot {
  path: string;
  records: number;
  /** The delay it was armed with. */
  delayMs: number;
  /**
   * Measured from the end of the write (the `res.end` callback) to the kill call. Not to its
   * return: the dying relay's exit may take the CPU first, but the signal was already sent.
   */
  firedAfterMs: number;
  /** The answer, with what the kill found of it (`unreadAtKill`, `inJournalAtKill`, …). */
  answer: PullAnswer;
}

export interface KillProxy {
  url: string;
  /**
   * The base URL for the relay about to start (`<url>/relay-<kills>`). It tells the proxy
   * which relay sent a request: one that a killed relay sent just before it died may be
   * read after the kill, and must not be taken for its successor's.
   */
  relayUrl(): string;
  /** Records in the answers handed out to a live relay, in total. */
  readonly handedOut: number;
  /** Pull answers (with or without records) handed out to a live relay, in total. */
  readonly pulls: number;
  /** Every pull answer, in the order the platform gave them. */
  readonly answers: readonly PullAnswer[];
  /** Kills so far (armed or immediate): the epoch of the next request. */
  readonly kills: number;
  /** When each kill was sent (`monotonicMs`), in order. */
  readonly killedAt: readonly number[];
  /**
   * Arms one kill: `delayMs` after the next answer that holds records was fully written to the
   * relay's socket, `target` is SIGKILLed (from a thread of its own) or called (on this one).
   * 0 kills synchronously inside the write's callback. With `cut` (a fraction of the body,
   * above 0 and below 1), only that much of the answer is written (the headers announce all of
   * it), the kill follows `delayMs` later and the connection is then dropped: the relay dies
   * holding a cut-off answer, whose complete records alone count as handed out. With
   * `on: 'send'`, the kill follows the next answer to a send (`action=send`) instead: the
   * platform has taken the message and the relay has not recorded it yet.
   */
  arm(
    delayMs: number,
    target: KillTarget,
    options?: { cut?: number; on?: 'pull' | 'send' },
  ): Promise<Shot>;
  /**
   * Names the relay process that the next requests come from (the current epoch's): its
   * threads' CPU time is then read at every answer's write and at the kill. `pullThread`
   * tells its pull thread's id once known: the reading before a write then waits (up to
   * `OFF_CORE_WAIT_MS`) for that thread to be off a core, the only moment its count is exact.
   */
  track(pid: number, pullThread?: () => string | undefined): void;
  /** Drops an armed kill that has not gone off (its promise never settles). */
  disarm(): void;
  /** Kills `target` now (a kill at a random moment) and starts a new epoch. */
  kill(target: KillTarget): void;
  close(): Promise<void>;
}

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

// Shared with the killer thread: [state (0 idle, 1 armed, 2 stop), kills, pid, a slot to sleep
// on, the proxy's port, the relay's port of the answer, the bytes it left unread (-1: socket
// not found)] and [deadline, fired at] in process.hrtime nanoseconds (one clock for both threads).
/** The longest a reading before a write waits for the pull thread to leave its core. */
const OFF_CORE_WAIT_MS = 20;
const STATE = 0;
const KILLS = 1;
const PID = 2;
const NAP = 3;
const PROXY_PORT = 4;
const RELAY_PORT = 5;
const UNREAD = 6;
const INTS = 7;
const DEADLINE = 0;
const FIRED = 1;

/**
 * The receive queues of this machine's TCP sockets from `proxyPort`'s clients, by the client's
 * port: the bytes the kernel holds that the owning process has not read yet. Plain source
 * text, so the killer thread runs the same function (`/proc/net/tcp`: `local rem st tx:rx`, ports in hex).
 */
function unreadByPort(proxyPort: number): Map<number, number> {
  const fs = (process as unknown as { getBuiltinModule: (id: string) => unknown }).getBuiltinModule(
    'node:fs',
  ) as typeof import('node:fs');
  const unread = new Map<number, number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, remote, , queues] = line.trim().split(/\s+/);
      if (!local || !remote || !queues) continue;
      if (Number.parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16) !== proxyPort) continue;
      const port = Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      unread.set(port, Number.parseInt(queues.slice(queues.indexOf(':') + 1), 16));
    }
  }
  return unread;
}

/** The text of every entry in a journal folder (`.jrn` files), or null without a folder. */
function journalTexts(dir: string | null): string[] | null {
  if (!dir) return null;
  const fs = (process as unknown as { getBuiltinModule: (id: string) => unknown }).getBuiltinModule(
    'node:fs',
  ) as typeof import('node:fs');
  const texts: string[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {}
  for (const name of names) {
    if (!name.endsWith('.jrn')) continue;
    try {
      texts.push(fs.readFileSync(`${dir}/${name}`, 'utf8'));
    } catch {}
  }
  return texts;
}

/**
 * The CPU time each thread of `pid` has had, in nanoseconds, by thread id
 * (`/proc/<pid>/task/<tid>/schedstat`: time on a core, time waiting for one, slices).
 */
function runTimes(pid: number): Record<string, number> {
  const fs = (process as unknown as { getBuiltinModule: (id: string) => unknown }).getBuiltinModule(
    'node:fs',
  ) as typeof import('node:fs');
  const times: Record<string, number> = {};
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {}
  for (const tid of tids) {
    try {
      times[tid] = Number(
        fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0],
      );
    } catch {}
  }
  return times;
}

/**
 * A thread's count in `schedstat` is brought up to date only when it leaves a core (or at a
 * scheduler tick, up to ~10 ms apart here): read while it runs, it misses the CPU of its
 * current stretch, and a difference taken from it counts that stretch as spent after. So
 * readings are taken while the threads are off a core: this waits, spinning, until none of
 * `tids` (all of `pid`'s when null) is running (`R`), for at most `maxMs`.
 */
function waitOffCore(pid: number, tids: string[] | null, maxMs: number): void {
  const fs = (process as unknown as { getBuiltinModule: (id: string) => unknown }).getBuiltinModule(
    'node:fs',
  ) as typeof import('node:fs');
  const deadline = process.hrtime.bigint() + BigInt(Math.round(maxMs * 1e6));
  for (;;) {
    let ids = tids;
    if (ids === null) {
      try {
        ids = fs.readdirSync(`/proc/${pid}/task`);
      } catch {
        return;
      }
    }
    const running = ids.some((tid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2).startsWith('R');
      } catch {
        return false;
      }
    });
    if (!running || process.hrtime.bigint() > deadline) return;
  }
}

/**
 * What each thread of `pid` was doing: `tid state syscall wchan` (state R: running or
 * waiting for a core, D: in the kernel, e.g. the filesystem; syscall: its number, or running).
 */
function threadStates(pid: number): string[] {
  const fs = (process as unknown as { getBuiltinModule: (id: string) => unknown }).getBuiltinModule(
    'node:fs',
  ) as typeof import('node:fs');
  const states: string[] = [];
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {}
  for (const tid of tids) {
    const read = (name: string) => {
      try {
        return fs.readFileSync(`/proc/${pid}/task/${tid}/${name}`, 'utf8').trim();
      } catch {
        return '?';
      }
    };
    const stat = read('stat');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    states.push(`${tid} ${state} ${read('syscall').split(' ')[0]} ${read('wchan')}`);
  }
  return states;
}

/**
 * Freezes `pid` (SIGSTOP stops every thread of it), reads what its sockets from the proxy's
 * clients still hold unread and what its journal holds, then SIGKILLs it. A stopped process
 * reads and writes nothing more, so both are what the kill found.
 */
function freezeMeasureKill(
  pid: number,
  proxyPort: number,
  journalDir: string | null,
): Frozen & { unread: Map<number, number> } {
  try {
    process.kill(pid, 'SIGSTOP');
  } catch {
    return { unread: new Map(), journal: null, threads: [], cpu: {} };
  }
  try {
    // A thread on another core stops only once it notices the signal.
    waitOffCore(pid, null, 5);
    return {
      unread: unreadByPort(proxyPort),
      journal: journalTexts(journalDir),
      threads: threadStates(pid),
      cpu: runTimes(pid),
    };
  } finally {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

/**
 * Waits for a deadline on a thread of its own, so a busy test thread (webhooks arriving, the
 * emulator answering) cannot make a timer late; a late kill would flatter the relay. It sleeps
 * on a futex until 1 ms before the deadline and spins the rest.
 */
const KILLER = `
const { parentPort, workerData } = require('node:worker_threads');
const ints = new Int32Array(workerData.ints);
const times = new BigInt64Array(workerData.times);
${unreadByPort.toString()}
${journalTexts.toString()}
${threadStates.toString()}
${runTimes.toString()}
${waitOffCore.toString()}
${freezeMeasureKill.toString()}
for (;;) {
  Atomics.wait(ints, ${STATE}, 0);
  if (Atomics.load(ints, ${STATE}) === 2) break;
  const deadline = times[${DEADLINE}];
  const napMs = Number(deadline - process.hrtime.bigint()) / 1e6 - 1;
  if (napMs > 0) Atomics.wait(ints, ${NAP}, 0, napMs);
  let now = process.hrtime.bigint();
  while (now < deadline) now = process.hrtime.bigint();
  Atomics.add(ints, ${KILLS}, 1);
  const { unread, journal, threads, cpu } = freezeMeasureKill(
    Atomics.load(ints, ${PID}),
    Atomics.load(ints, ${PROXY_PORT}),
    workerData.journalDir,
  );
  Atomics.store(ints, ${UNREAD}, unread.get(Atomics.load(ints, ${RELAY_PORT})) ?? -1);
  times[${FIRED}] = now;
  Atomics.store(ints, ${STATE}, 0);
  parentPort.postMessage({ journal, threads, cpu });
}
`;

const elapsedMs = (since: bigint, until = process.hrtime.bigint()) => Number(until - since) / 1e6;

/** The clock of `writtenAt` and `killedAt`: process.hrtime in milliseconds. */
export const monotonicMs = (at = process.hrtime.bigint()): number => Number(at) / 1e6;

/**
 * An HTTP proxy between the relay and the platform that aims SIGKILL at the pull-once window:
 * the moment after the platform's answer reached the relay's socket and before the relay made
 * it durable. Other requests pass through untouched.
 */
export async function startKillProxy(
  platformUrl: string,
  options: {
    /** The relay's journal folder: each kill then notes whether the journal held the answer. */
    journalDir?: string;
  } = {},
): Promise<KillProxy> {
  const journalDir = options.journalDir ?? null;
  const answers: PullAnswer[] = [];
  const ints = new Int32Array(new SharedArrayBuffer(INTS * Int32Array.BYTES_PER_ELEMENT));
  const times = new BigInt64Array(new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT));
  const killer = new Worker(KILLER, {
    eval: true,
    workerData: { ints: ints.buffer, times: times.buffer, journalDir },
  });
  killer.unref();
  await new Promise((resolve) => killer.once('online', resolve));
  const kills = () => Atomics.load(ints, KILLS);
  const killedAt: number[] = [];
  let armed: {
    delayMs: number;
    target: KillTarget;
    cut: number | undefined;
    on: 'pull' | 'send';
    resolve: (shot: Shot) => void;
  } | null = null;

  let proxyPort = 0;
  /** The relay process of each epoch, where the test told (`track`). */
  const tracked = new Map<number, { pid: number; pullThread?: () => string | undefined }>();
  /** Sets `unreadAtKill` and `inJournalAtKill` on the answers written to the relay of `epoch`. */
  const noteKill = (
    epoch: number,
    unread: Map<number, number>,
    journal: string[] | null,
    cpu: Record<string, number>,
    threads: string[],
  ) => {
    const lastOnPort = new Map<number, PullAnswer>();
    for (const answer of answers) {
      if (answer.epoch === epoch && answer.writtenAt !== null)
        lastOnPort.set(answer.relayPort, answer);
    }
    const journaled = journal && new Set(journal.flatMap((text) => recordKeys(text)));
    for (const answer of answers) {
      if (answer.epoch !== epoch || answer.writtenAt === null || answer.unreadAtKill !== undefined)
        continue;
      // An earlier answer on a connection was read: the relay asked again on it.
      answer.unreadAtKill =
        lastOnPort.get(answer.relayPort) === answer ? (unread.get(answer.relayPort) ?? null) : 0;
      answer.inJournalAtKill = journaled
        ? recordKeys(answer.text).every((key) => journaled.has(key))
        : null;
      answer.threadsAtKill = threads;
      if (answer.cpuAtWrite) {
        const before = answer.cpuAtWrite;
        answer.cpuSinceWriteMs = Object.fromEntries(
          Object.entries(cpu).map(([tid, ns]) => [tid, (ns - (before[tid] ?? 0)) / 1e6]),
        );
      }
    }
  };

  const killNow = (target: KillTarget) => {
    killedAt.push(monotonicMs());
    const epoch = kills();
    if (typeof target === 'function') {
      Atomics.add(ints, KILLS, 1);
      return target();
    }
    const { unread, journal, cpu, threads } =
      target.pid === undefined
        ? { unread: new Map<number, number>(), journal: null, cpu: {}, threads: [] }
        : freezeMeasureKill(target.pid, proxyPort, journalDir);
    Atomics.add(ints, KILLS, 1);
    target.kill('SIGKILL');
    noteKill(epoch, unread, journal, cpu, threads);
  };

  /** Kills `target` `delayMs` after `written`; resolves with when it really did. */
  const killAfter = (target: KillTarget, delayMs: number, written: bigint, answer: PullAnswer) =>
    new Promise<number>((resolve) => {
      if (delayMs === 0) {
        const now = process.hrtime.bigint();
        killNow(target);
        return resolve(elapsedMs(written, now));
      }
      if (typeof target !== 'function' && target.pid !== undefined) {
        const epoch = kills();
        times[DEADLINE] = written + BigInt(Math.round(delayMs * 1e6));
        Atomics.store(ints, PID, target.pid);
        Atomics.store(ints, PROXY_PORT, proxyPort);
        Atomics.store(ints, RELAY_PORT, answer.relayPort);
        Atomics.store(ints, STATE, 1);
        Atomics.notify(ints, STATE);
        return void killer.once('message', ({ journal, threads, cpu }: Frozen) => {
          killedAt.push(monotonicMs(times[FIRED]!));
          const unread = Atomics.load(ints, UNREAD);
          noteKill(
            epoch,
            new Map(unread < 0 ? [] : [[answer.relayPort, unread]]),
            journal,
            cpu,
            threads,
          );
          resolve(elapsedMs(written, times[FIRED]!));
        });
      }
      // A callback has to run on this thread: a timer, then a spin for the last 2 ms.
      setTimeout(
        () => {
          let now = process.hrtime.bigint();
          while (elapsedMs(written, now) < delayMs) now = process.hrtime.bigint();
          killNow(target);
          resolve(elapsedMs(written, now));
        },
        Math.max(0, delayMs - 2),
      );
    });

  const server: Server = createServer((req, res) => {
    const tagged = RELAY_PREFIX.exec(req.url ?? '/');
    const epoch = tagged ? Number(tagged[1]) : kills();
    const target = tagged ? (tagged[2] ?? '/') : (req.url ?? '/');
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = target.split('?')[0]!;
      const pull = PULL_PATH.test(path);
      // Sent by a relay killed since: keep the platform from answering a dead relay.
      if (pull && epoch !== kills()) return void res.destroy();
      const method = (req.method ?? 'GET').toUpperCase();
      const body = chunks.length > 0 && method !== 'GET' && method !== 'HEAD';
      const requestText = () =>
        `${target.split('?')[1] ?? ''}&${Buffer.concat(chunks).toString('latin1')}`;
      request(`${platformUrl}${target}`, {
        method: method as 'POST',
        headers: forwardable(req.headers),
        ...(body ? { body: Buffer.concat(chunks) } : {}),
      })
        .then(async (upstream) => {
          const bytes = Buffer.from(await upstream.body.arrayBuffer());
          // A cold relay's first answers may come back before its start line names the pull
          // thread: they wait for it (a few milliseconds), so that their reading is exact too.
          const named = pull ? tracked.get(epoch)?.pullThread : undefined;
          for (let waited = 0; named && named() === undefined && waited < 2000; waited += 1)
            await new Promise((resolve) => setTimeout(resolve, 1));
          const headers = forwardable(upstream.headers as IncomingHttpHeaders);
          res.writeHead(upstream.statusCode, { ...headers, 'content-length': bytes.length });
          if (!pull) {
            const sent = SEND_PATH.test(path) && /(^|&)action=send(&|$)/.test(requestText());
            const shot = sent && epoch === kills() && armed?.on === 'send' ? armed : null;
            if (!shot) return void res.end(bytes);
            armed = null;
            const answer: PullAnswer = {
              path,
              epoch,
              records: 0,
              text: bytes.toString('utf8'),
              handedOut: true,
              writtenAt: null,
              relayPort: req.socket.remotePort ?? 0,
            };
            return void res.end(bytes, () => {
              const written = process.hrtime.bigint();
              answer.writtenAt = monotonicMs(written);
              void killAfter(shot.target, shot.delayMs, written, answer).then((firedAfterMs) =>
                shot.resolve({ path, records: 0, delayMs: shot.delayMs, firedAfterMs, answer }),
              );
            });
          }

          const text = bytes.toString('utf8');
          const answer: PullAnswer = {
            path,
            epoch,
            records: text.match(BOX)?.length ?? 0,
            text,
            handedOut: epoch === kills(),
            writtenAt: null,
            relayPort: req.socket.remotePort ?? 0,
          };
          answers.push(answer);
          const relay = answer.handedOut ? tracked.get(epoch) : undefined;
          if (relay) {
            const tid = relay.pullThread?.();
            if (tid !== undefined) waitOffCore(relay.pid, [tid], OFF_CORE_WAIT_MS);
            answer.cpuAtWrite = runTimes(relay.pid);
          }
          const shot =
            answer.handedOut && answer.records > 0 && armed?.on === 'pull' ? armed : null;
          if (shot) armed = null;
          const fire = (written: bigint) => {
            if (!shot) return Promise.resolve();
            return killAfter(shot.target, shot.delayMs, written, answer).then((firedAfterMs) =>
              shot.resolve({
                path,
                records: answer.records,
                delayMs: shot.delayMs,
                firedAfterMs,
                answer,
              }),
            );
          };
          if (shot?.cut !== undefined) {
            // Only the head of the answer reaches the relay: what it holds whole is handed out.
            const part = bytes.subarray(0, Math.floor(bytes.length * shot.cut));
            answer.text = part.toString('utf8');
            answer.records = recordKeys(answer.text).length;
            res.write(part, () => {
              const written = process.hrtime.bigint();
              answer.writtenAt = monotonicMs(written);
              void fire(written).then(() => res.destroy());
            });
            return;
          }
          res.end(bytes, () => {
            // The bytes are in the kernel now.
            const written = process.hrtime.bigint();
            answer.writtenAt = monotonicMs(written);
            void fire(written);
          });
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxyPort = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${proxyPort}`;

  const live = () => answers.filter((a) => a.handedOut);
  return {
    url,
    relayUrl: () => `${url}/relay-${kills()}`,
    get handedOut() {
      return live().reduce((sum, a) => sum + a.records, 0);
    },
    get pulls() {
      return live().length;
    },
    answers,
    get kills() {
      return kills();
    },
    killedAt,
    arm(delayMs, target, options = {}) {
      if (armed) throw new Error('kill proxy: already armed');
      const { cut, on = 'pull' } = options;
      if (cut !== undefined && !(cut > 0 && cut < 1)) {
        throw new RangeError(`kill proxy: cut must be above 0 and below 1 (${cut})`);
      }
      return new Promise<Shot>((resolve) => {
        armed = { delayMs, target, cut, on, resolve };
      });
    },
    disarm() {
      armed = null;
    },
    track(pid, pullThread) {
      tracked.set(kills(), { pid, pullThread });
    },
    kill: killNow,
    async close() {
      armed = null;
      Atomics.store(ints, STATE, 2);
      Atomics.notify(ints, STATE);
      await killer.terminate();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/**
 * The record keys in a pull answer, read independently of the relay's parser:
 * `report:<mobile>:<taskid>` per `<statusbox>`, `reply:<content>` per `<callbox>`.
 */
export function recordKeys(text: string): string[] {
  const keys: string[] = [];
  const field = (box: string, name: string) => {
    const start = box.indexOf(`<${name}>`);
    const end = box.indexOf(`</${name}>`, start);
    if (start < 0 || end < 0) return '';
    return box
      .slice(start + name.length + 2, end)
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&quot;', '"')
      .replaceAll('&apos;', "'")
      .replaceAll('&amp;', '&');
  };
  for (const tag of ['statusbox', 'callbox'] as const) {
    let from = text.indexOf(`<${tag}>`);
    while (from >= 0) {
      const end = text.indexOf(`</${tag}>`, from);
      if (end < 0) break;
      const box = text.slice(from, end);
      keys.push(
        tag === 'statusbox'
          ? `report:${field(box, 'mobile')}:${field(box, 'taskid')}`
          : `reply:${field(box, 'content')}`,
      );
      from = text.indexOf(`<${tag}>`, end);
    }
  }
  return keys;
}
