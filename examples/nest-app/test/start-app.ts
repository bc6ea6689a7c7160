import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Boots the compiled (CommonJS, tsc) app exactly as `pnpm start` does: `node dist/main.js`.
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export interface RunningApp {
  process: ChildProcess;
  url: string;
  /** Everything the app wrote to stdout and stderr so far. */
  output(): string;
  /** SIGKILL if still running (afterAll). */
  kill(): void;
}

export async function startApp(env: Record<string, string>): Promise<RunningApp> {
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH, PORT: '0', NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) =>
      reject(new Error(`app exited (${code}) before listening:\n${output}`)),
    );
  });
  return {
    process: child,
    url,
    output: () => output,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Reads until `ok` holds or 5 s have passed; returns the last value either way. */
export async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const value = await read();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
