import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitFor } from './receiver.js';

/**
 * Attaches strace to one thread (`tid`, of any process) and delays its every entry to one of
 * `syscalls` by `delayMs`: a file system busy with other processes' fsyncs, on that thread
 * only. Resolves once strace has attached; the returned function detaches it.
 */
export async function delaySyscalls(
  tid: string,
  syscalls: readonly string[],
  delayMs: number,
): Promise<() => Promise<void>> {
  const names = syscalls.join(',');
  const strace = spawn(
    'strace',
    [
      '-qq',
      '-p',
      tid,
      '-e',
      `trace=${names}`,
      '-e',
      `inject=${names}:delay_enter=${delayMs * 1000}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  strace.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => strace.once('exit', () => resolve()));
  // strace says nothing on attaching with -qq: wait until the kernel shows the thread traced.
  await waitFor(
    () => /TracerPid:\s+[1-9]/.test(readFileSync(`/proc/${tid}/status`, 'utf8')),
    5000,
    `strace attached to thread ${tid} (${stderr})`,
  );
  return async () => {
    strace.kill('SIGINT');
    await exited;
  };
}
