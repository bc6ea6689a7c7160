import type { ChildProcess } from 'node:child_process';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { request } from 'undici';

/** `statusApi.aspx`, `callApi.aspx` and their signed `v2…` variants, in any case. */
const PULL_PATH = /(statusapi|callapi)\.aspx$/i;
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
   * holding a cut-off answer, whose complete records alone count as handed out.
   */
  arm(delayMs: number, target: KillTarget, options?: { cut?: number }): Promise<Shot>;
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
// on] and [deadline, fired at] in process.hrtime nanoseconds (one clock for both threads).
const STATE = 0;
const KILLS = 1;
const PID = 2;
const NAP = 3;
const DEADLINE = 0;
const FIRED = 1;

/**
 * Waits for a deadline on a thread of its own, so a busy test thread (webhooks arriving, the
 * emulator answering) cannot make a timer late; a late kill would flatter the relay. It sleeps
 * on a futex until 1 ms before the deadline and spins the rest.
 */
const KILLER = `
const { parentPort, workerData } = require('node:worker_threads');
const ints = new Int32Array(workerData.ints);
const times = new BigInt64Array(workerData.times);
for (;;) {
  Atomics.wait(ints, ${STATE}, 0);
  if (Atomics.load(ints, ${STATE}) === 2) break;
  const deadline = times[${DEADLINE}];
  const napMs = Number(deadline - process.hrtime.bigint()) / 1e6 - 1;
  if (napMs > 0) Atomics.wait(ints, ${NAP}, 0, napMs);
  let now = process.hrtime.bigint();
  while (now < deadline) now = process.hrtime.bigint();
  Atomics.add(ints, ${KILLS}, 1);
  try { process.kill(Atomics.load(ints, ${PID}), 'SIGKILL'); } catch {}
  times[${FIRED}] = now;
  Atomics.store(ints, ${STATE}, 0);
  parentPort.postMessage(null);
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
export async function startKillProxy(platformUrl: string): Promise<KillProxy> {
  const answers: PullAnswer[] = [];
  const ints = new Int32Array(new SharedArrayBuffer(4 * Int32Array.BYTES_PER_ELEMENT));
  const times = new BigInt64Array(new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT));
  const killer = new Worker(KILLER, {
    eval: true,
    workerData: { ints: ints.buffer, times: times.buffer },
  });
  killer.unref();
  await new Promise((resolve) => killer.once('online', resolve));
  const kills = () => Atomics.load(ints, KILLS);
  const killedAt: number[] = [];
  let armed: {
    delayMs: number;
    target: KillTarget;
    cut: number | undefined;
    resolve: (shot: Shot) => void;
  } | null = null;

  const killNow = (target: KillTarget) => {
    killedAt.push(monotonicMs());
    Atomics.add(ints, KILLS, 1);
    if (typeof target === 'function') target();
    else target.kill('SIGKILL');
  };

  /** Kills `target` `delayMs` after `written`; resolves with when it really did. */
  const killAfter = (target: KillTarget, delayMs: number, written: bigint) =>
    new Promise<number>((resolve) => {
      if (delayMs === 0) {
        const now = process.hrtime.bigint();
        killNow(target);
        return resolve(elapsedMs(written, now));
      }
      if (typeof target !== 'function' && target.pid !== undefined) {
        times[DEADLINE] = written + BigInt(Math.round(delayMs * 1e6));
        Atomics.store(ints, PID, target.pid);
        Atomics.store(ints, STATE, 1);
        Atomics.notify(ints, STATE);
        return void killer.once('message', () => {
          killedAt.push(monotonicMs(times[FIRED]!));
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
      request(`${platformUrl}${target}`, {
        method: method as 'POST',
        headers: forwardable(req.headers),
        ...(body ? { body: Buffer.concat(chunks) } : {}),
      })
        .then(async (upstream) => {
          const bytes = Buffer.from(await upstream.body.arrayBuffer());
          const headers = forwardable(upstream.headers as IncomingHttpHeaders);
          res.writeHead(upstream.statusCode, { ...headers, 'content-length': bytes.length });
          if (!pull) return void res.end(bytes);

          const text = bytes.toString('utf8');
          const answer: PullAnswer = {
            path,
            epoch,
            records: text.match(BOX)?.length ?? 0,
            text,
            handedOut: epoch === kills(),
            writtenAt: null,
          };
          answers.push(answer);
          const shot = answer.handedOut && answer.records > 0 ? armed : null;
          if (shot) armed = null;
          const fire = (written: bigint) => {
            if (!shot) return Promise.resolve();
            return killAfter(shot.target, shot.delayMs, written).then((firedAfterMs) =>
              shot.resolve({
                path,
                records: answer.records,
                delayMs: shot.delayMs,
                firedAfterMs,
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
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

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
      const { cut } = options;
      if (cut !== undefined && !(cut > 0 && cut < 1)) {
        throw new RangeError(`kill proxy: cut must be above 0 and below 1 (${cut})`);
      }
      return new Promise<Shot>((resolve) => {
        armed = { delayMs, target, cut, resolve };
      });
    },
    disarm() {
      armed = null;
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
