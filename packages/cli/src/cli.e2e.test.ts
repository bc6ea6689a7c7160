import { chmod, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  cleanEnv,
  closedPort,
  platformEnv,
  runCli,
  tempDir,
  usePlatform,
} from './test-utils/harness.js';

const platform = usePlatform({ keywords: ['赌博'] });

const env = () => platformEnv(platform.emulator.url);
const run = (args: string[], extra: Record<string, string | undefined> = {}, input?: string) =>
  runCli(args, {
    env: { ...env(), ...extra },
    cwd: platform.dir.path,
    ...(input !== undefined ? { input } : {}),
  });

describe('sms send', () => {
  it('sends to two numbers and prints the taskId the platform recorded', async () => {
    const result = await run([
      'send',
      '--to',
      '13800138000,+86 139-0013-9000',
      '--content',
      '【Acme】Your code is 1234',
    ]);
    expect(result.code).toBe(0);
    const [sent] = platform.emulator.sent();
    expect(sent!.mobiles).toEqual(['13800138000', '13900139000']);
    expect(sent!.content).toBe('【Acme】Your code is 1234');
    expect(result.stdout).toContain(sent!.taskId);
    expect(result.stdout).toMatch(/sent\s+2 numbers/);
    // Not a terminal: no colour codes.
    expect(result.stdout).not.toContain('\x1b[');
  });

  it('prints one JSON document with --json, the taskId as a string', async () => {
    // A month ahead, as Shanghai wall-clock time: a fixed date would fall into the past.
    const ahead = new Date(Date.now() + 30 * 86_400_000 + 8 * 3600_000).toISOString();
    const at = `${ahead.slice(0, 10)} 09:00:00`;
    const result = await run([
      'send',
      '--json',
      '--to',
      '13800138000',
      '--content',
      '【Acme】hi',
      '--at',
      at,
      '--ext',
      '01',
    ]);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    const [sent] = platform.emulator.sent();
    expect(doc).toMatchObject({
      ok: true,
      taskId: sent!.taskId,
      successCounts: 1,
      numbers: 1,
      segments: 1,
      sendTime: at,
    });
    expect(sent!.sendTime).toBe(at);
    expect(sent!.extNo).toBe('01');
  });

  it('exits 2 on an invalid number and sends nothing', async () => {
    const result = await run(['send', '--to', '13800138000,12345', '--content', '【Acme】hi']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('12345');
    expect(platform.emulator.requests()).toHaveLength(0);
  });

  it('exits 2 on a bad --at, a bad --ext and an unknown flag', async () => {
    const bad = [
      ['send', '--to', '13800138000', '--content', '【A】x', '--at', 'tomorrow'],
      ['send', '--to', '13800138000', '--content', '【A】x', '--ext', '12a'],
      ['send', '--to', '13800138000', '--content', '【A】x', '--bogus'],
      ['send', '--to', '13800138000'],
      ['frobnicate'],
    ];
    for (const args of bad) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(2);
    }
    expect(platform.emulator.requests()).toHaveLength(0);
  });

  it('an unknown flag or --password: one clear line, exit 2, nothing sent', async () => {
    const password = await run(['send', '--to', '13800138000', '--password', 'Top Secret&99']);
    expect(password.code).toBe(2);
    expect(password.stderr.trim().split('\n')).toHaveLength(1);
    expect(password.stderr).toContain('SMS_PASSWORD');
    expect(password.stderr).toContain('--password-stdin');
    expect(password.stderr).not.toContain('positional argument');
    expect(password.stderr).not.toContain('Top Secret');
    const bogus = await run(['balance', '--json', '--bogus']);
    expect(bogus.code).toBe(2);
    expect(JSON.parse(bogus.stdout).error).toMatchObject({
      code: 'USAGE',
      message: 'unknown option --bogus for sms balance (see: sms balance --help)',
    });
    expect(platform.emulator.requests()).toHaveLength(0);
  });

  it('refuses --at more than 5 minutes in the past: exit 2, the reason, nothing sent', async () => {
    for (const extra of [[], ['--dry-run'], ['--results', 'past.csv']]) {
      const result = await run([
        'send',
        '--to',
        '13800138000',
        '--content',
        '【Acme】hi',
        '--at',
        '2020-01-01 09:00:00',
        ...extra,
      ]);
      expect(result.code, extra.join(' ')).toBe(2);
      expect(result.stderr).toContain('--at 2020-01-01 09:00:00 is in the past');
      expect(result.stdout).not.toContain('scheduled');
    }
    expect(platform.emulator.requests()).toHaveLength(0);
  });

  it('a time a minute ago is within the tolerance: sent, and not called "scheduled"', async () => {
    const shanghai = new Date(Date.now() - 60_000 + 8 * 3600_000).toISOString();
    const at = `${shanghai.slice(0, 10)} ${shanghai.slice(11, 19)}`;
    const result = await run([
      'send',
      '--to',
      '13800138000',
      '--content',
      '【Acme】hi',
      '--at',
      at,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^sent\s+1 number/m);
    expect(result.stdout).not.toContain('scheduled');
    expect(platform.emulator.sent()).toHaveLength(1);
  });

  it('exits 3 when the platform refuses, with the words it names', async () => {
    const result = await run([
      'send',
      '--json',
      '--to',
      '13800138000',
      '--content',
      '【Acme】赌博',
    ]);
    expect(result.code).toBe(3);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({
      ok: false,
      exitCode: 3,
      error: { code: 'ILLEGAL_KEYWORD', words: ['赌博'] },
    });
  });

  it('exits 3 on a wrong password and never prints the password', async () => {
    const result = await run(['send', '--to', '13800138000', '--content', '【Acme】hi'], {
      SMS_PASSWORD: 'Wrong-Pa55word',
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('AUTH_FAILED');
    expect(result.stdout + result.stderr).not.toContain('Wrong-Pa55word');
  });

  it('exits 4 when nothing listens on the port', async () => {
    const port = await closedPort();
    const result = await run(['send', '--to', '13800138000', '--content', '【Acme】hi'], {
      SMS_BASE_URL: `http://127.0.0.1:${port}`,
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('NETWORK');
  });

  it('exits 5 when the connection is reset after the platform handled the send (it WAS billed)', async () => {
    platform.emulator.setFault({ type: 'reset', action: 'send', times: 1 });
    const result = await run(['send', '--to', '13800138000', '--content', '【Acme】hi']);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('UNKNOWN_OUTCOME');
    expect(result.stderr).toMatch(/do not resend blindly/i);
    // The platform did send it: exactly why the CLI must not claim failure.
    expect(platform.emulator.sent()).toHaveLength(1);
  });

  it('a timeout: exit 4 for a read (nothing changed), exit 5 for a send (it may have gone out)', async () => {
    platform.emulator.setFault({ type: 'latency', ms: 3000 });
    const read = await run(['balance', '--timeout', '300']);
    expect(read.code).toBe(4);
    expect(read.stderr).toContain('TIMEOUT');
    const send = await run([
      'send',
      '--to',
      '13800138000',
      '--content',
      '【Acme】hi',
      '--timeout',
      '300',
    ]);
    expect(send.code).toBe(5);
    expect(send.stderr).toMatch(/do not resend blindly/i);
  });

  it('exits 5 on a truncated answer to a send, too', async () => {
    platform.emulator.setFault({ type: 'truncate', action: 'send', times: 1 });
    const result = await run(['send', '--json', '--to', '13800138000', '--content', '【Acme】hi']);
    expect(result.code).toBe(5);
    expect(JSON.parse(result.stdout).ok).toBe(false);
    expect(platform.emulator.sent()).toHaveLength(1);
  });

  it('dry-run counts numbers, segments and points without a request', async () => {
    const content = `【Acme】${'长'.repeat(80)}`; // 86 characters: 2 segments
    const result = await run([
      'send',
      '--json',
      '--dry-run',
      '--to',
      '13800138000,13900139000,13700137000',
      '--content',
      content,
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      dryRun: true,
      numbers: 3,
      points: 6,
      requests: 1,
      groups: [{ segments: 2, length: 86 }],
    });
    expect(platform.emulator.requests()).toHaveLength(0);
  });

  it('warns on stderr when the content has no signature', async () => {
    const result = await run([
      'send',
      '--dry-run',
      '--to',
      '13800138000',
      '--content',
      'no signature here',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('signature');
  });
});

describe('sms balance / check', () => {
  it('shows the balance as a table and as JSON', async () => {
    const human = await run(['balance']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/pay type\s+prepaid/);
    expect(human.stdout).toMatch(/balance\s+10000 points/);
    const json = JSON.parse((await run(['balance', '--json'])).stdout);
    expect(json).toMatchObject({
      ok: true,
      payType: 'prepaid',
      overage: platform.emulator.account(ACCOUNT.account).balance,
    });
    // Prepaid: the platform's sendTotal is what was recharged, and is labelled so.
    expect(human.stdout).toMatch(new RegExp(`recharged total\\s+${json.sendTotal}\\n`));
    expect(human.stdout).not.toContain('sent total');

    platform.emulator.setAccount({ account: ACCOUNT.account, payType: 'postpaid' });
    const postpaid = await run(['balance']);
    const postpaidJson = JSON.parse((await run(['balance', '--json'])).stdout);
    expect(postpaidJson).toMatchObject({ payType: 'postpaid', sendTotal: expect.any(Number) });
    expect(postpaid.stdout).toMatch(/pay type\s+postpaid/);
    expect(postpaid.stdout).toMatch(new RegExp(`sent total\\s+${postpaidJson.sendTotal}\\n`));
    expect(postpaid.stdout).not.toContain('recharged');
  });

  it('check exits 0 on clean text and 3 on blocked text', async () => {
    const clean = await run(['check', '【Acme】hello']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('clean');
    const blocked = await run(['check', '--json', '【Acme】赌博 tonight']);
    expect(blocked.code).toBe(3);
    expect(JSON.parse(blocked.stdout)).toMatchObject({
      ok: false,
      exitCode: 3,
      blocked: true,
      signature: true,
    });
    expect(platform.emulator.sent()).toHaveLength(0);
  });
});

describe('sms reports / replies (no --watch)', () => {
  it('prints the reports once, says they are consumed, and --out keeps a copy', async () => {
    await run(['send', '--to', '13800138000,13900139000', '--content', '【Acme】hi']);
    platform.emulator.flush();
    const out = join(platform.dir.path, 'reports-once.jsonl');
    // An existing --out file others can read becomes 0600 like a new one.
    await writeFile(out, '');
    await chmod(out, 0o644);
    const first = await run(['reports', '--out', out]);
    expect(first.code).toBe(0);
    if (process.platform !== 'win32') expect((await stat(out)).mode & 0o777).toBe(0o600);
    expect(first.stdout).toContain('13800138000');
    expect(first.stdout).toContain('delivered');
    expect(first.stderr).toMatch(/consumed/);
    const { readFile } = await import('node:fs/promises');
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.mobile).sort()).toEqual(['13800138000', '13900139000']);
    expect(lines[0]).toMatchObject({
      type: 'report',
      status: 'delivered',
      taskId: platform.emulator.sent()[0]!.taskId,
    });
    // Pull-once: the platform has nothing left.
    const second = await run(['reports', '--json']);
    expect(JSON.parse(second.stdout)).toMatchObject({ ok: true, count: 0, reports: [] });
  });

  it('prints replies with their content', async () => {
    platform.emulator.injectReply({
      account: ACCOUNT.account,
      mobile: '13800138000',
      content: '退订',
    });
    const result = await run(['replies', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      count: 1,
      replies: [{ type: 'reply', mobile: '13800138000', content: '退订' }],
    });
  });

  it('exits 3 when the account may not read reports', async () => {
    platform.emulator.setAccount({ account: ACCOUNT.account, reportsAllowed: false });
    const result = await run(['reports']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('REPORTS_NOT_PERMITTED');
  });
});

describe('credentials and config', () => {
  it('reads everything from a config file in the working directory', async () => {
    const { path, cleanup } = await tempDir();
    try {
      const file = join(path, 'sms.config.json');
      await writeFile(
        file,
        JSON.stringify({
          baseUrl: platform.emulator.url,
          userId: ACCOUNT.userId,
          account: ACCOUNT.account,
          password: ACCOUNT.password,
        }),
      );
      await chmod(file, 0o600);
      const result = await runCli(['balance', '--json'], { env: cleanEnv(), cwd: path });
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).ok).toBe(true);
      expect(result.stderr).toBe('');
      expect(result.stdout).not.toContain(ACCOUNT.password);
    } finally {
      await cleanup();
    }
  });

  it('--config points at a file; env beats the file and flags beat env', async () => {
    const file = join(platform.dir.path, 'other.json');
    await writeFile(
      file,
      JSON.stringify({
        baseUrl: 'http://127.0.0.1:1',
        account: 'nobody',
        password: ACCOUNT.password,
      }),
      { mode: 0o600 },
    );
    const viaEnv = await runCli(['balance', '--config', file], {
      env: cleanEnv({
        SMS_BASE_URL: platform.emulator.url,
        SMS_ACCOUNT: ACCOUNT.account,
        SMS_USERID: ACCOUNT.userId,
      }),
      cwd: platform.dir.path,
    });
    expect(viaEnv.code).toBe(0);
    const viaFlags = await runCli(
      [
        'balance',
        '--config',
        file,
        '--base-url',
        platform.emulator.url,
        '--account',
        ACCOUNT.account,
        '--userid',
        ACCOUNT.userId,
      ],
      {
        env: cleanEnv({ SMS_ACCOUNT: 'nobody-either' }),
        cwd: platform.dir.path,
      },
    );
    expect(viaFlags.code).toBe(0);
  });

  it('warns when a config file with a password is readable by others', async () => {
    const file = join(platform.dir.path, 'open.json');
    await writeFile(
      file,
      JSON.stringify({
        baseUrl: platform.emulator.url,
        userId: ACCOUNT.userId,
        account: ACCOUNT.account,
        password: ACCOUNT.password,
      }),
    );
    await chmod(file, 0o644);
    const result = await runCli(['balance', '--config', file], {
      env: cleanEnv(),
      cwd: platform.dir.path,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('chmod 600');
  });

  it('exits 2 without a password when stdin is not a terminal, and reads --password-stdin', async () => {
    const noPassword = await run(['balance'], { SMS_PASSWORD: undefined });
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toContain('SMS_PASSWORD');
    const piped = await run(
      ['balance', '--json', '--password-stdin'],
      { SMS_PASSWORD: undefined },
      `${ACCOUNT.password}\n`,
    );
    expect(piped.code).toBe(0);
    expect(piped.stdout).not.toContain(ACCOUNT.password);
  });

  it('exits 2 on a missing base URL, an unknown config key and a URL with credentials', async () => {
    expect(
      (
        await runCli(['balance'], {
          env: cleanEnv({ SMS_ACCOUNT: 'a', SMS_PASSWORD: 'pppp' }),
          cwd: platform.dir.path,
        })
      ).code,
    ).toBe(2);
    const file = join(platform.dir.path, 'typo.json');
    await writeFile(file, JSON.stringify({ baseURL: platform.emulator.url }));
    const typo = await run(['balance', '--config', file]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('baseURL');
    const creds = await run([
      'balance',
      '--base-url',
      `http://acme:${ACCOUNT.password}@127.0.0.1:1`,
    ]);
    expect(creds.code).toBe(2);
    expect(creds.stderr).not.toContain(ACCOUNT.password);
  });

  it('--version prints the package version', async () => {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    const result = await runCli(['--version'], { env: cleanEnv(), cwd: platform.dir.path });
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it('help and examples never carry a real password', async () => {
    const top = await runCli(['--help'], { env: cleanEnv(), cwd: platform.dir.path });
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Exit codes');
    for (const command of ['send', 'balance', 'check', 'reports', 'replies', 'passwd']) {
      const help = await runCli([command, '--help'], { env: cleanEnv(), cwd: platform.dir.path });
      expect(help.code).toBe(0);
      expect(help.stdout).not.toMatch(/SMS_PASSWORD=\S/);
      expect(help.stdout).not.toMatch(/--password[= ]/);
    }
  });
});

describe('sms passwd', () => {
  it('changes the password from stdin; the new one works and the old one is refused', async () => {
    const next = 'N3w-Pa55word';
    const result = await run(['passwd', '--new-password-stdin'], {}, `${next}\n`);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(next);
    expect(result.stdout + result.stderr).not.toContain(ACCOUNT.password);
    expect(platform.emulator.account(ACCOUNT.account).password).toBe(next);
    expect((await run(['balance'])).code).toBe(3);
    expect((await run(['balance'], { SMS_PASSWORD: next })).code).toBe(0);
  });

  it('takes both passwords from stdin (current first) and refuses an empty new one', async () => {
    const both = await run(
      ['passwd', '--password-stdin', '--new-password-stdin', '--json'],
      { SMS_PASSWORD: undefined },
      `${ACCOUNT.password}\nAn0ther-Pa55\n`,
    );
    expect(both.code).toBe(0);
    expect(JSON.parse(both.stdout).ok).toBe(true);
    expect(platform.emulator.account(ACCOUNT.account).password).toBe('An0ther-Pa55');
    const empty = await run(
      ['passwd', '--new-password-stdin'],
      { SMS_PASSWORD: 'An0ther-Pa55' },
      '\n',
    );
    expect(empty.code).toBe(2);
  });
});
