import { run } from './run.js';

const listeners = new Set<() => void>();
process.on('SIGINT', () => {
  // Without a listener (no batch or watch running), Ctrl-C ends the run as usual.
  if (listeners.size === 0) process.exit(130);
  for (const listener of [...listeners]) listener();
});

const code = await run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  onInterrupt(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
});
// An interrupted batch may have abandoned requests in flight: do not wait for them.
if (code === 130) process.exit(code);
process.exitCode = code;
