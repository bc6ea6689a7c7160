/**
 * `sms` with several accounts in the config file, over two emulated resellers: sends fail
 * over only when they surely did not go out (the emulators' records say where each went),
 * `--account NAME` pins one, `balance` shows each, `reports` pulls every account.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Emulator } from '@sms/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertBuilt, cleanEnv, runCli, startPlatform, tempDir } from './test-utils/harness.js';

const A = { userId: '2001', account: 'alpha', password: 'alpha-Pa55' } as const;
const B = { userId: '', account: 'beta', password: 'beta-Pa55' } as const;

let resellerA: Emulator;
let resellerB: Emulator;
let dir: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  assertBuilt();
  resellerA = await startPlatform({ accounts: [{ ...A, balance: 1000 }] });
  resellerB = await startPlatform({ accounts: [{ ...B, balance: 2000 }], keywords: [] });
  dir = await tempDir();
  await writeFile(
    join(dir.path, 'sms.config.json'),
    JSON.stringify({
      strategy: 'priority',
      accounts: [
        { name: 'a', baseUrl: resellerA.url, userId: A.userId, account: A.account },
        { name: 'b', baseUrl: resellerB.url, account: B.account },
      ],
    }),
  );
});
afterAll(async () => {
  await resellerA.close();
  await resellerB.close();
  await dir.cleanup();
});
beforeEach(() => {
  resellerA.reset();
  resellerB.reset();
});

const run = (args: string[], passwords: { a?: string; b?: string } = {}) =>
  runCli(args, {
    cwd: dir.path,
    env: cleanEnv({
      SMS_PASSWORD_A: passwords.a ?? A.password,
      SMS_PASSWORD_B: passwords.b ?? B.password,
    }),
  });

const SEND = ['send', '--to', '13800138000', '--content', '【Acme】code 1234'];

describe('sms with accounts', () => {
  it('send: a refuses the password, b sends it; the output names b and what was tried', async () => {
    const result = await run(SEND, { a: 'wrong' });
    expect(result.code).toBe(0);
    const [sent] = resellerB.sent();
    expect(resellerB.sent()).toHaveLength(1);
    expect(resellerA.sent()).toHaveLength(0);
    expect(result.stdout).toContain(sent!.taskId);
    expect(result.stdout).toMatch(/account\s+b/);
    expect(result.stdout).toMatch(/tried before\s+a \(AUTH_FAILED\)/);
    expect(result.stdout + result.stderr).not.toContain('alpha-Pa55');
  });

  it('send --json: a reset after the request was written exits 5 naming a; b is never asked', async () => {
    resellerA.setFault({ type: 'reset', action: 'send', times: 1 });
    const result = await run([...SEND, '--json']);
    expect(result.code).toBe(5);
    const doc = JSON.parse(result.stdout);
    expect(doc.error).toMatchObject({
      code: 'UNKNOWN_OUTCOME',
      account: 'a',
      attempts: [{ account: 'a', code: 'UNKNOWN_OUTCOME' }],
    });
    expect(resellerA.sent()).toHaveLength(1);
    expect(resellerB.requests()).toHaveLength(0);
  });

  it('send --account a pins it: a refusal is not failed over', async () => {
    const result = await run([...SEND, '--account', 'a'], { a: 'wrong' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('AUTH_FAILED');
    expect(resellerB.requests()).toHaveLength(0);
  });

  it('every account refused: ALL_ACCOUNTS_FAILED, exit 3, each reason listed', async () => {
    const result = await run(SEND, { a: 'wrong', b: 'wrong' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('[ALL_ACCOUNTS_FAILED]');
    expect(result.stderr).toContain('a: AUTH_FAILED');
    expect(result.stderr).toContain('b: AUTH_FAILED');
    expect(resellerA.sent()).toHaveLength(0);
    expect(resellerB.sent()).toHaveLength(0);
  });

  it('balance shows each account; one refusing sets the exit code', async () => {
    const ok = await run(['balance', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      accounts: [
        { account: 'a', overage: 1000 },
        { account: 'b', overage: 2000 },
      ],
    });
    const text = await run(['balance'], { b: 'wrong' });
    expect(text.code).toBe(3);
    expect(text.stdout).toMatch(/a\s+prepaid\s+1000 points\s+ok/);
    expect(text.stdout).toMatch(/b\s+.*\[AUTH_FAILED\]/);
  });

  it('reports pulls every account, each record tagged with its account', async () => {
    expect((await run(SEND)).code).toBe(0);
    expect((await run([...SEND, '--account', 'b'])).code).toBe(0);
    const result = await run(['reports', '--json']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(
      doc.reports.map((r: { account: string; taskId: string }) => [r.account, r.taskId]).sort(),
    ).toEqual(
      [
        ['a', resellerA.sent()[0]!.taskId],
        ['b', resellerB.sent()[0]!.taskId],
      ].sort(),
    );
  });

  it('reports as a table show the account of each record', async () => {
    expect((await run(SEND)).code).toBe(0);
    expect((await run([...SEND, '--account', 'b'])).code).toBe(0);
    const result = await run(['reports']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^account\s+/);
    expect(result.stdout).toMatch(/\na\s+\d{4}-\d\d-\d\d .*13800138000/);
    expect(result.stdout).toMatch(/\nb\s+\d{4}-\d\d-\d\d .*13800138000/);
  });

  it('an unknown --account name is a usage error', async () => {
    const result = await run([...SEND, '--account', 'c']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('have: a, b');
  });
});
