import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, BIN, mobiles, platformEnv, waitFor, usePlatform } from './test-utils/harness.js';

/**
 * These tests give the CLI a real pseudo-terminal through util-linux `script`, which
 * allocates its own pty: they need no terminal on the test runner (CI runs them detached).
 */
function requireScript(): void {
  try {
    execFileSync('script', ['--version'], { stdio: 'pipe' });
  } catch {
    throw new Error(
      'the TTY tests need util-linux `script` (apt-get install bsdutils / util-linux)',
    );
  }
}

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/** Runs the binary on a 100-column pty; stdout and stderr arrive merged, as on a terminal. */
function spawnTty(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const command = `stty cols 100 rows 40; exec ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')}`;
  const child: ChildProcess = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    env,
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const done = new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
  // Keep stdin open until the end: closing it early can end the `script` session.
  done.finally(() => child.stdin!.end()).catch(() => {});
  return { child, done, output: () => output, type: (text: string) => child.stdin!.write(text) };
}

const platform = usePlatform({}, requireScript);

const PROGRESS_FRAME = /\r\x1b\[2K\[[#.]+\]\s+\d+%\s+\d+\/20 numbers/g;

describe('on a terminal', () => {
  it('draws a progress bar on stderr, redrawn in place, ending at 100%, then a coloured summary', async () => {
    const csv = join(platform.dir.path, 'twenty.csv');
    await writeFile(csv, `mobile\n${mobiles(20).join('\n')}\n`);
    platform.emulator.setFault({ type: 'latency', ms: 120, action: 'send' });
    const tty = spawnTty(
      ['send', '--csv', csv, '--content', '【Acme】hi', '--chunk-size', '2', '--concurrency', '1'],
      platformEnv(platform.emulator.url),
      platform.dir.path,
    );
    const { code, output } = await tty.done;
    expect(code).toBe(0);
    const frames = output.match(PROGRESS_FRAME) ?? [];
    expect(frames.length).toBeGreaterThanOrEqual(3);
    expect(output).toMatch(/\[#{10,}\]\s+100%\s+20\/20 numbers\s+10\/10 chunks\s+0 failed/);
    // The bar fits the 100 columns it was given.
    for (const frame of frames) expect(frame.replace(/\r\x1b\[2K/, '').length).toBeLessThan(100);
    // Green "20 of 20 numbers" in the summary: colours are on for a terminal.
    expect(output).toContain('\x1b[32m20 of 20 numbers');
    expect(platform.emulator.sent()).toHaveLength(10);
  });

  it('NO_COLOR turns colours off but keeps the progress bar', async () => {
    const csv = join(platform.dir.path, 'four.csv');
    await writeFile(csv, `mobile\n${mobiles(4, 13900000000).join('\n')}\n`);
    const tty = spawnTty(
      ['send', '--csv', csv, '--content', '【Acme】hi', '--chunk-size', '1'],
      platformEnv(platform.emulator.url, { NO_COLOR: '1' }),
      platform.dir.path,
    );
    const { code, output } = await tty.done;
    expect(code).toBe(0);
    expect(output).toMatch(/100%\s+4\/4 numbers/);
    expect(output).not.toMatch(/\x1b\[3\dm/);
  });

  it('prompts for a missing password without echoing it', async () => {
    const tty = spawnTty(
      ['balance'],
      platformEnv(platform.emulator.url, { SMS_PASSWORD: undefined }),
      platform.dir.path,
    );
    await waitFor(() => tty.output().includes(`Password for ${ACCOUNT.account}:`), 'the prompt');
    tty.type(`${ACCOUNT.password}\r`);
    const { code, output } = await tty.done;
    expect(code).toBe(0);
    expect(output).toMatch(/balance\s+.*10000 points/);
    expect(output).not.toContain(ACCOUNT.password);
  });

  it('passwd prompts twice without echo and refuses two different passwords', async () => {
    const mismatch = spawnTty(['passwd'], platformEnv(platform.emulator.url), platform.dir.path);
    await waitFor(() => mismatch.output().includes('New password:'), 'the first prompt');
    mismatch.type('First-Pa55\r');
    await waitFor(() => mismatch.output().includes('New password again:'), 'the second prompt');
    mismatch.type('Second-Pa55\r');
    const refused = await mismatch.done;
    expect(refused.code).toBe(2);
    expect(refused.output).toContain('differ');
    expect(refused.output).not.toContain('First-Pa55');
    expect(platform.emulator.account(ACCOUNT.account).password).toBe(ACCOUNT.password);

    const ok = spawnTty(['passwd'], platformEnv(platform.emulator.url), platform.dir.path);
    await waitFor(() => ok.output().includes('New password:'), 'the first prompt');
    ok.type('Brand-New-Pa55\r');
    await waitFor(() => ok.output().includes('New password again:'), 'the second prompt');
    ok.type('Brand-New-Pa55\r');
    const changed = await ok.done;
    expect(changed.code).toBe(0);
    expect(changed.output).not.toContain('Brand-New-Pa55');
    expect(platform.emulator.account(ACCOUNT.account).password).toBe('Brand-New-Pa55');
  });
});
