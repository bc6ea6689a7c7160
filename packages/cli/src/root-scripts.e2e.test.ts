import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertBuilt, cleanEnv, runCli, waitFor } from './test-utils/harness.js';

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
