import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  assertBuilt,
  BIN,
  cleanEnv,
  platformEnv,
  runCli,
  startPlatform,
  waitFor,
} from './test-utils/harness.js';

/** The repository root: `pnpm sms …` is documented to work from there. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function pnpm(args: string[], env: NodeJS.ProcessEnv = cleanEnv()) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn('pnpm', ['-s', ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('root scripts: pnpm sms, pnpm sms-emulator', () => {
  it('pnpm sms and pnpm sms-emulator run their built commands from the repository root', async () => {
    assertBuilt();
    const sms = await pnpm(['sms', '--help']);
    expect(sms.code, sms.stderr).toBe(0);
    expect(sms.stdout).toMatch(/^sms: send SMS/);
    const emulator = await pnpm(['sms-emulator', '--help']);
    expect(emulator.code, emulator.stderr).toBe(0);
    expect(emulator.stdout).toContain('Usage: sms-emulator');
  });

  // `pnpm sms-relay` is tested in packages/relay (turbo builds the relay before its tests).

  it('pnpm sms-emulator with its defaults (12:demo:secret) answers pnpm sms as the guides say', async () => {
    const emulator = spawn('pnpm', ['-s', 'sms-emulator', '--port', '0'], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    try {
      let out = '';
      emulator.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      const url = await waitFor(() => /listening on (http:\S+)/.exec(out)?.[1], 'the emulator');
      const env = cleanEnv({
        SMS_BASE_URL: url,
        SMS_USERID: '12',
        SMS_ACCOUNT: 'demo',
        SMS_PASSWORD: 'secret',
      });
      const balance = await pnpm(['sms', 'balance', '--json'], env);
      expect(balance.code, balance.stderr).toBe(0);
      expect(JSON.parse(balance.stdout)).toMatchObject({ ok: true, overage: 1000 });
      // The same through the package's own bin, as `npx @sms/cli` would run it.
      const direct = await runCli(['balance', '--json'], { env });
      expect(JSON.parse(direct.stdout)).toMatchObject({ ok: true });
    } finally {
      // pnpm runs node as its child: end the group this test started.
      if (emulator.pid !== undefined) process.kill(-emulator.pid, 'SIGTERM');
    }
  });
});

describe('Ctrl-C on replies --watch, as a terminal sends it (to the whole process group)', () => {
  /** Starts `command` as its own process group, Ctrl-C's the group mid-request, returns how it ended. */
  async function interrupt(command: string, args: string[], env: NodeJS.ProcessEnv) {
    const child = spawn(command, args, {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.resume();
    const done = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    await waitFor(() => stderr.includes('Ctrl-C to stop'), 'the watch to start', 15_000);
    process.kill(-child.pid!, 'SIGINT');
    return { ...(await done), stderr };
  }

  it('exits 130 directly and through pnpm -s sms (pnpm reports 130 for any Ctrl-C; docs said 0)', async () => {
    assertBuilt();
    const emulator = await startPlatform();
    try {
      // Each poll waits 500 ms at the platform: the Ctrl-C comes with a request in flight.
      emulator.setFault({ type: 'latency', ms: 500, path: '/callApi.aspx' });
      emulator.injectReply({ account: ACCOUNT.account, mobile: '13800138000', content: '收到' });
      const env = platformEnv(emulator.url);
      for (const [command, args] of [
        [process.execPath, [BIN]],
        ['pnpm', ['-s', 'sms']],
      ] as const) {
        const result = await interrupt(
          command,
          [...args, 'replies', '--watch', '--interval', '100'],
          env,
        );
        // What a shell's `$?` shows: the exit code, or 128 + the signal that ended it (pnpm
        // passes on a child's 130 by dying of the SIGINT it got itself).
        const status = result.code ?? 128 + constants.signals[result.signal as NodeJS.Signals];
        expect(status, `${command} ${result.stderr}`).toBe(130);
        // One Ctrl-C: the request in flight finished and the watch said so, once.
        expect(result.stderr.match(/stopped; \d+ repl(y|ies) received/g)).toHaveLength(1);
        expect(result.stderr).not.toContain('interrupted again');
      }
    } finally {
      await emulator.close();
    }
  });
});
