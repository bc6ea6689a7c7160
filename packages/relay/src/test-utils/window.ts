import type { RelayChild } from './child.js';
import type { PullAnswer } from './kill-proxy.js';

/**
 * The remaining window (docs/relay.md), measured at each kill rather than assumed from the
 * time since the answer: the kill proxy freezes the relay (SIGSTOP) and reads whether its
 * journal had the answer, how many of its bytes were still unread in the relay's socket, what
 * the pull thread was doing and how much CPU it had had since the answer was written. A thread
 * that got no core did nothing with the answer, however long ago it came (on a loaded 2-core
 * machine it has waited over 5 ms). So an answer may be lost only while its pull thread was
 * still on it: the bytes unread in the socket, or the thread in its own code, a read or a
 * write (not back waiting for the next answer), and with less than `CPU_BUDGET_MS` of CPU
 * since the answer came.
 *
 * The budget is set from what the thread's whole handling of an answer costs on this machine
 * kind (December 7 2026, the gateway's crash tests beside, 8 runs, while the thread still
 * parsed each answer too): kills at D = 0 found the thread back waiting, the answer journaled,
 * parsed and handed on, after 1.1 to 2.4 ms of CPU since its write; kills that found an answer in the journal, after 0.85 ms at least; a whole
 * pull (request, answer, journal, outcome) costs 0.81 ms at least, 1.16 ms median, 1.46 ms at
 * p90. The journal write comes first in that handling, so
 * an answer still not in the journal after 2 ms of its thread's CPU is the relay's fault. At
 * 1 ms, CI lost an answer with the thread still running on it at 1.033 ms (its reading before
 * the write was taken while the thread ran, so it also counted earlier work: readings are now
 * taken off a core, see kill-proxy's `waitOffCore`). A loss once in the journal, once the
 * thread was done with it, or after it had the time, is the relay's fault.
 */
export const CPU_BUDGET_MS = 2;

/** What the kill found of one answer. */
export interface AtKill {
  'in journal': 'yes' | 'no' | '-';
  /** The answer's bytes still in the relay's socket, read by no thread of it. */
  'unread (bytes)': number | '-';
  /** CPU time the relay's pull thread had between the answer's write and the kill. */
  'pull thread CPU (ms)': number | '-';
  /** What the pull thread was doing (`running`, `read`, `write`, `waiting (epoll)`, …). */
  'pull thread': string;
}

/** The relay's pull thread id, from its start line (`pullThread`). */
export function pullThreadOf(relay: RelayChild | undefined): string | undefined {
  const started = relay?.lines.find((line) => line.includes('"relay started"'));
  if (!started) return undefined;
  const tid = (JSON.parse(started) as { pullThread?: { tid?: number } }).pullThread?.tid;
  return tid === undefined ? undefined : String(tid);
}

/** What a thread was doing, from its syscall at the freeze (x86-64 numbers; -1: user code). */
function activity(syscall: string | undefined): string {
  if (syscall === undefined) return '-';
  const known: Record<string, string> = {
    '-1': 'running',
    '0': 'read',
    '1': 'write',
    '281': 'waiting (epoll)',
  };
  return known[syscall] ?? `syscall ${syscall}`;
}

/** What the kill found of `answer`, given the relay it was written to. */
export function atKill(
  answer: Pick<
    PullAnswer,
    'inJournalAtKill' | 'unreadAtKill' | 'threadsAtKill' | 'cpuSinceWriteMs'
  >,
  relay: RelayChild | undefined,
): AtKill {
  const tid = pullThreadOf(relay);
  const cpu = tid === undefined ? undefined : answer.cpuSinceWriteMs?.[tid];
  const syscall =
    tid === undefined
      ? undefined
      : answer.threadsAtKill?.find((line) => line.startsWith(`${tid} `))?.split(' ')[2];
  return {
    'in journal':
      answer.inJournalAtKill === undefined || answer.inJournalAtKill === null
        ? '-'
        : answer.inJournalAtKill
          ? 'yes'
          : 'no',
    'unread (bytes)': answer.unreadAtKill ?? '-',
    'pull thread CPU (ms)': cpu === undefined ? '-' : Number(cpu.toFixed(3)),
    'pull thread': activity(syscall),
  };
}

/** Whether a loss of this answer is the remaining window's (see `CPU_BUDGET_MS`). */
export function inWindow(found: AtKill): boolean {
  const unread = found['unread (bytes)'];
  const cpu = found['pull thread CPU (ms)'];
  return (
    found['in journal'] === 'no' &&
    typeof cpu === 'number' &&
    cpu < CPU_BUDGET_MS &&
    ((typeof unread === 'number' && unread > 0) ||
      ['running', 'read', 'write'].includes(found['pull thread']))
  );
}
