import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  platformEnv,
  runCli,
  spawnCli,
  usePlatform,
  waitFor,
} from './test-utils/harness.js';

/**
 * Pull-once: every record the platform handed out is printed, even when `--out` cannot be
 * written, and the complete records of an answer that failed anyway are saved and printed.
 */
const platform = usePlatform({}, () => {
  if (!existsSync('/dev/full')) throw new Error('these tests need /dev/full (Linux)');
});

const env = () => platformEnv(platform.emulator.url);
const run = (args: string[]) => runCli(args, { env: env(), cwd: platform.dir.path });

const readJsonl = async (path: string) =>
  (await readFile(path, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

function injectReports(mobiles: string[]): void {
  for (const [i, mobile] of mobiles.entries()) {
    platform.emulator.injectReport({
      account: ACCOUNT.account,
      mobile,
      taskId: `90000${i}`,
      status: i % 2 === 0 ? 10 : 20,
    });
  }
}

const statusBox = (mobile: string, taskId: string) =>
  `<statusbox><mobile>${mobile}</mobile><taskid>${taskId}</taskid><status>10</status>` +
  `<receivetime>2026-01-02 03:04:05</receivetime><errorcode>DELIVRD</errorcode><extno></extno></statusbox>`;

const callBox = (mobile: string, content: string) =>
  `<callbox><mobile>${mobile}</mobile><taskid></taskid><content>${content}</content>` +
  `<receivetime>2026-01-02 03:04:05</receivetime><extno></extno></callbox>`;

const XML = '<?xml version="1.0" encoding="utf-8" ?>';

describe('--out cannot be written', () => {
  it('sms reports --out /dev/full prints the consumed reports, says they were not saved, exits 1', async () => {
    injectReports(['13800138000', '13900139000']);
    const result = await run(['reports', '--out', '/dev/full']);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('13800138000');
    expect(result.stdout).toContain('13900139000');
    expect(result.stdout).toContain('delivered');
    expect(result.stderr).toContain('[OUT_FILE]');
    expect(result.stderr).toContain('/dev/full');
    expect(result.stderr).toContain('ENOSPC');
    expect(result.stderr).toMatch(
      /The 2 reports printed above were consumed from the platform and were NOT saved to \/dev\/full/,
    );
    expect(result.stderr).not.toContain('a copy was appended');
    // They are gone from the platform: stdout is the only copy.
    expect(platform.emulator.pendingReports(ACCOUNT.account)).toHaveLength(0);
  });

  it('with --json: one document with the reports and the file error, the message on stderr too', async () => {
    injectReports(['13800138000']);
    const result = await run(['reports', '--json', '--out', '/dev/full']);

    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({
      ok: false,
      exitCode: 1,
      count: 1,
      reports: [{ type: 'report', mobile: '13800138000', status: 'delivered' }],
      error: { code: 'OUT_FILE', file: '/dev/full', errno: 'ENOSPC' },
    });
    expect(doc.error.message).toContain('NOT saved to /dev/full');
    expect(result.stderr).toMatch(/\[OUT_FILE\].*ENOSPC.*NOT saved to \/dev\/full/);
  });

  it('sms replies --out /dev/full does the same', async () => {
    platform.emulator.injectReply({
      account: ACCOUNT.account,
      mobile: '13800138000',
      content: '退订',
    });
    const result = await run(['replies', '--out', '/dev/full']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('退订');
    expect(result.stderr).toMatch(
      /The 1 reply printed above was consumed from the platform and was NOT saved/,
    );
  });

  it('--watch prints the batch, reports the error and stops watching (no more pulls)', async () => {
    const cli = spawnCli(['reports', '--watch', '--out', '/dev/full', '--interval', '100'], {
      env: env(),
      cwd: platform.dir.path,
    });
    await waitFor(() => cli.stderr().includes('CONSUMED'), 'the pull-once notice');
    injectReports(['13800138000', '13900139000']);
    const result = await cli.done;

    expect(result.code).toBe(1);
    expect(result.stdout).toContain('13800138000');
    expect(result.stdout).toContain('13900139000');
    expect(result.stderr).toContain('ENOSPC');
    expect(result.stderr).toMatch(
      /The 2 reports printed above were consumed .* NOT saved to \/dev\/full/,
    );
    expect(result.stderr).toMatch(/stopped watching/);

    // Stopped: a report that arrives now stays on the platform for someone who can keep it.
    const pulls = platform.emulator.requests().filter((r) => /statusApi/i.test(r.path)).length;
    injectReports(['13700137000']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(platform.emulator.requests().filter((r) => /statusApi/i.test(r.path))).toHaveLength(
      pulls,
    );
    expect(platform.emulator.pendingReports(ACCOUNT.account)).toHaveLength(1);
  });

  it('--watch --json prints the records as JSON lines, then the error line', async () => {
    const cli = spawnCli(
      ['replies', '--watch', '--json', '--out', '/dev/full', '--interval', '100'],
      {
        env: env(),
        cwd: platform.dir.path,
      },
    );
    await waitFor(() => cli.stderr().includes('CONSUMED'), 'the pull-once notice');
    platform.emulator.injectReply({
      account: ACCOUNT.account,
      mobile: '13800138000',
      content: 'hi',
    });
    const result = await cli.done;

    expect(result.code).toBe(1);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      expect.objectContaining({ type: 'reply', mobile: '13800138000', content: 'hi' }),
      expect.objectContaining({
        ok: false,
        exitCode: 1,
        error: expect.objectContaining({ code: 'OUT_FILE', errno: 'ENOSPC' }),
      }),
    ]);
    expect(result.stderr).toContain('NOT saved to /dev/full');
  });
});

describe('records salvaged from an answer that failed', () => {
  it('an answer cut off mid-body: the complete reports are saved and printed, then exit 5', async () => {
    const out = join(platform.dir.path, 'cut.jsonl');
    const mobiles = [
      '13800138000',
      '13800138001',
      '13800138002',
      '13800138003',
      '13800138004',
      '13800138005',
    ];
    injectReports(mobiles);
    // The emulator sends half the answer's bytes, then closes the connection.
    platform.emulator.setFault({ type: 'truncate', path: '/statusApi.aspx', times: 1 });
    const result = await run(['reports', '--out', out]);

    expect(result.code).toBe(5);
    const saved = await readJsonl(out);
    expect(saved.length).toBeGreaterThan(0);
    expect(saved.length).toBeLessThan(mobiles.length);
    expect(saved.map((r) => r.mobile)).toEqual(mobiles.slice(0, saved.length));
    for (const mobile of mobiles.slice(0, saved.length)) expect(result.stdout).toContain(mobile);
    for (const mobile of mobiles.slice(saved.length)) expect(result.stdout).not.toContain(mobile);
    expect(result.stderr).toContain('UNKNOWN_OUTCOME');
    expect(result.stderr).toMatch(/complete in it (was|were) kept and printed/);
    expect(result.stderr).toContain(out);
  });

  it('a malformed answer with one complete statusbox and a cut one: that report is kept, exit 4', async () => {
    const out = join(platform.dir.path, 'malformed.jsonl');
    platform.emulator.setFault({
      type: 'malformed',
      path: '/statusApi.aspx',
      times: 1,
      body: `${XML}<returnsms>${statusBox('13800138000', '7001')}<statusbox><mobile>1390013`,
    });
    const result = await run(['reports', '--json', '--out', out]);

    expect(result.code).toBe(4);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({
      ok: false,
      exitCode: 4,
      count: 1,
      reports: [{ type: 'report', mobile: '13800138000', taskId: '7001', status: 'delivered' }],
      error: { code: 'PROTOCOL', recordsKept: 1 },
    });
    expect(await readJsonl(out)).toEqual([
      expect.objectContaining({ type: 'report', mobile: '13800138000', taskId: '7001' }),
    ]);
  });

  it('an <errorstatus> beside a complete reply: the reply is kept, then the refusal (exit 3)', async () => {
    const out = join(platform.dir.path, 'refused.jsonl');
    platform.emulator.setFault({
      type: 'malformed',
      path: '/callApi.aspx',
      times: 1,
      body: `${XML}<returnsms>${callBox('13800138000', '好的')}<errorstatus><error>2</error><remark>用户名或密码错误</remark></errorstatus></returnsms>`,
    });
    const result = await run(['replies', '--out', out]);

    expect(result.code).toBe(3);
    expect(result.stdout).toContain('好的');
    expect(result.stderr).toContain('AUTH_FAILED');
    expect(await readJsonl(out)).toEqual([
      expect.objectContaining({ type: 'reply', mobile: '13800138000', content: '好的' }),
    ]);
  });

  it('salvaged records and a full disk: printed, both errors reported', async () => {
    platform.emulator.setFault({
      type: 'malformed',
      path: '/statusApi.aspx',
      times: 1,
      body: `${XML}<returnsms>${statusBox('13800138000', '7002')}<statusbox>`,
    });
    const result = await run(['reports', '--json', '--out', '/dev/full']);

    expect(result.code).not.toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({
      ok: false,
      count: 1,
      reports: [{ mobile: '13800138000', taskId: '7002' }],
      error: { code: 'OUT_FILE', errno: 'ENOSPC' },
      fetchError: { code: 'PROTOCOL' },
    });
    expect(result.stderr).toContain('NOT saved to /dev/full');
  });

  it('--watch saves and prints the salvaged records, warns, and keeps polling', async () => {
    const out = join(platform.dir.path, 'watch-cut.jsonl');
    const cli = spawnCli(['reports', '--watch', '--out', out, '--interval', '100'], {
      env: env(),
      cwd: platform.dir.path,
    });
    await waitFor(() => cli.stderr().includes('CONSUMED'), 'the pull-once notice');
    platform.emulator.setFault({
      type: 'malformed',
      path: '/statusApi.aspx',
      times: 1,
      body: `${XML}<returnsms>${statusBox('13800138000', '7003')}<statusbox><mobile>1390013`,
    });
    await waitFor(() => cli.stdout().includes('13800138000'), 'the salvaged report');
    await waitFor(() => cli.stderr().includes('retrying'), 'the warning');
    expect(cli.stderr()).toContain('PROTOCOL');
    expect(await readJsonl(out)).toEqual([
      expect.objectContaining({ type: 'report', mobile: '13800138000', taskId: '7003' }),
    ]);

    injectReports(['13700137000']);
    await waitFor(() => cli.stdout().includes('13700137000'), 'the report after the fault', 15_000);
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/stopped; 2 reports received/);
    expect((await readJsonl(out)).map((r) => r.mobile)).toEqual(['13800138000', '13700137000']);
  });
});
