/** Running a block as the reader would: bash with this repository's commands on PATH, or node. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repo } from './docs.js';

export const shims = join(import.meta.dirname, '..', 'shims');

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  timedOut: boolean;
}

/**
 * The shell of a reader who followed the page's setup lines (the emulator's defaults exported,
 * as README.md and docs/cli.md say), without pnpm's or vitest's own variables.
 */
export function environment(background: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && !key.startsWith('PNPM_') && !key.startsWith('VITEST')) {
      env[key] = value;
    }
  }
  delete env['NODE_OPTIONS'];
  delete env['NODE_ENV'];
  return {
    ...env,
    PATH: `${shims}:${env['PATH'] ?? ''}`,
    NO_COLOR: '1',
    DOCS_REPO: repo,
    DOCS_BACKGROUND: background,
    SMS_BASE_URL: 'http://127.0.0.1:8080',
    SMS_USERID: '12',
    SMS_ACCOUNT: 'demo',
    SMS_PASSWORD: 'secret',
  };
}

export function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string; timeoutMs: number },
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    }, options.timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output, timedOut });
    });
  });
}

/**
 * Stop what the shims left running in the background (an emulator, `sms-relay run`, a
 * `--watch`), as the reader's Ctrl-C would: SIGINT to its process group, SIGKILL after 10 s.
 * `died` names those that had already stopped on their own: a command that runs until
 * Ctrl-C and exits before the block is over has failed.
 */
export async function stopBackground(
  background: string,
): Promise<{ logs: string; died: string[] }> {
  let logs = '';
  const died: string[] = [];
  for (const name of readdirSync(background)) {
    if (!name.endsWith('.pid')) continue;
    const pid = Number(readFileSync(join(background, name), 'utf8'));
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // Give a command that fails at its first request (a refused password) time to show it.
    const age = Date.now() - statSync(join(background, name)).mtimeMs;
    if (age < 2000) await new Promise((r) => setTimeout(r, 2000 - age));
    const log = readFileSync(join(background, name.replace(/\.pid$/, '.log')), 'utf8');
    if (!alive()) died.push(log);
    try {
      process.kill(-pid, 'SIGINT');
    } catch {
      // already gone
    }
    for (let i = 0; i < 100 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive()) process.kill(-pid, 'SIGKILL');
    logs += log;
    rmSync(join(background, name));
  }
  return { logs, died };
}
