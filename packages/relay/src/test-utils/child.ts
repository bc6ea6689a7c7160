import { type ChildProcess, spawn } from 'node:child_process';
import { CLI } from './cli.js';

export interface RelayChild {
  proc: ChildProcess;
  /** The health/metrics URL, once the relay logged that it started. */
  url: Promise<string>;
  lines: string[];
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
  polling(account: string): Promise<boolean>;
}

/**
 * Runs `sms-relay run --config <path>` from dist as a child process. `wrap` runs it under
 * another command (`['strace', …]`): the child is then that command, which must exit the way
 * the relay did (strace re-raises the signal that killed its tracee). `cli`: another build of
 * the CLI than the tests' own.
 */
export function spawnRelay(
  configPath: string,
  env: Record<string, string> = {},
  options: { wrap?: readonly string[]; cli?: string } = {},
): RelayChild {
  const { wrap = [], cli = CLI } = options;
  const command = [...wrap, process.execPath, cli, 'run', '--config', configPath];
  const proc = spawn(command[0]!, command.slice(1), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  let resolveUrl: (url: string) => void = () => {};
  let rejectUrl: (error: Error) => void = () => {};
  const url = new Promise<string>((resolve, reject) => {
    resolveUrl = resolve;
    rejectUrl = reject;
  });
  url.catch(() => {});
  let buffer = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    buffer += chunk;
    let index = buffer.indexOf('\n');
    while (index >= 0) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 1);
      lines.push(line);
      if (line.includes('"relay started"')) {
        try {
          resolveUrl(JSON.parse(line).http);
        } catch {}
      }
      index = buffer.indexOf('\n');
    }
  });
  const exited = new Promise<number | null>((resolve) => {
    proc.on('exit', (code) => {
      rejectUrl(new Error(`relay exited (${code}) before starting:\n${lines.join('\n')}${buffer}`));
      resolve(code);
    });
  });
  return {
    proc,
    url,
    lines,
    exited,
    async kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    async polling(account) {
      const text = await (await fetch(`${await url}/metrics`)).text();
      return text.includes(`sms_relay_polling{account="${account}"} 1`);
    },
  };
}
