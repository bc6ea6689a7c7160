/** Commands run as a user on a fresh machine runs them: no `npm_*` settings inherited from pnpm. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Both streams, for a failure message. */
  output: string;
}

/**
 * The environment of a new shell: pnpm's `npm_config_*` variables (its registry, its user agent)
 * removed, and npm's cache inside the rehearsal's folder, so nothing installed by an earlier run
 * (npx keeps its installs in the cache) can stand in for what this run published.
 */
function environment(work: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && !key.startsWith('PNPM_') && !key.startsWith('VITEST')) {
      env[key] = value;
    }
  }
  return { ...env, npm_config_cache: join(work, 'npm-cache'), NO_COLOR: '1', ...extra };
}

export interface Started {
  child: ChildProcess;
  /** Resolves once the output matches; rejects if the process exits first or in 120 s. */
  waitFor(pattern: RegExp): Promise<void>;
  exited: Promise<number | null>;
  output(): string;
}

export function start(
  command: string,
  args: string[],
  cwd: string,
  work: string,
  env: Record<string, string> = {},
): Started {
  // Its own process group, so that npx and the command it runs stop together.
  const child = spawn(command, args, {
    cwd,
    env: environment(work, env),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk;
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return {
    child,
    exited,
    output: () => output,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`${command} ${args.join(' ')}: no ${pattern} in 120 s:\n${output}`)),
          120_000,
        );
        const check = () => {
          if (!pattern.test(output)) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${command} ${args.join(' ')} exited (${code}):\n${output}`));
        });
        check();
      }),
  };
}

export async function run(
  command: string,
  args: string[],
  cwd: string,
  work: string,
  env: Record<string, string> = {},
): Promise<Run> {
  const child = spawn(command, args, {
    cwd,
    env: environment(work, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk;
    output += chunk;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk;
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr, output: `$ ${command} ${args.join(' ')}\n${output}` };
}
