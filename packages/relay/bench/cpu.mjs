// CPU accounting for the benches: where a run's work went on this machine's cores.
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/**
 * CPU ms (user + system) of a process, all threads, from /proc; 0 once it is gone. With
 * `mainThread`, of its main thread alone (where a Node process runs its JavaScript; the GC's
 * helpers and libuv's pool, an fsync for one, are other threads).
 */
export function procCpuMs(pid, { mainThread = false } = {}) {
  try {
    const stat = readFileSync(
      mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`,
      'utf8',
    );
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU ms of each PostgreSQL process, by pid. */
function postgresCpuMs() {
  const byPid = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') {
        byPid.set(pid, procCpuMs(pid));
      }
    } catch {}
  }
  return byPid;
}

/**
 * CPU time in ms of the relay (a child process; this process's pid when the store work runs
 * here), of this process (emulator, receiver, clients) and of PostgreSQL's processes.
 */
export function cpuSnapshot(relayPid) {
  const own = process.cpuUsage();
  return {
    relay: relayPid === process.pid ? (own.user + own.system) / 1000 : procCpuMs(relayPid),
    relayMain: procCpuMs(relayPid, { mainThread: true }),
    bench: (own.user + own.system) / 1000,
    postgres: postgresCpuMs(),
  };
}

export function cpuSpent(before, after) {
  // A backend that started during the run counts whole; one that ended is lost to us
  // (the relay keeps its connections, so its own are counted).
  let postgres = 0;
  for (const [pid, ms] of after.postgres) postgres += ms - (before.postgres.get(pid) ?? 0);
  return {
    relay: after.relay - before.relay,
    relayMain: after.relayMain - before.relayMain,
    bench: after.bench - before.bench,
    postgres,
  };
}

/** The units per second all cores could carry at `totalMs` of CPU for `units`. */
export function allCores(units, totalMs) {
  return Math.round((availableParallelism() * 1000 * units) / totalMs);
}
