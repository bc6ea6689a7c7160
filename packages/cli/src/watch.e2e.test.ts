import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  platformEnv,
  runCli,
  spawnCli,
  waitFor,
  usePlatform,
} from './test-utils/harness.js';

const platform = usePlatform();

const readJsonl = async (path: string) =>
  (await readFile(path, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));

describe('--watch', () => {
  it('replies --watch prints replies as they arrive, appends them to --out, says they are consumed, stops on Ctrl-C', async () => {
    const out = join(platform.dir.path, 'replies.jsonl');
    const cli = spawnCli(['replies', '--watch', '--out', out, '--interval', '100'], {
      env: platformEnv(platform.emulator.url),
      cwd: platform.dir.path,
    });
    await waitFor(() => cli.stderr().includes('CONSUMED'), 'the pull-once notice');
    expect(cli.stderr()).toContain(out);

    platform.emulator.injectReply({
      account: ACCOUNT.account,
      mobile: '13800138000',
      content: '好的，收到',
    });
    await waitFor(() => cli.stdout().includes('好的，收到'), 'the first reply');
    platform.emulator.injectReply({
      account: ACCOUNT.account,
      mobile: '13900139000',
      content: 'TD',
    });
    await waitFor(() => cli.stdout().includes('13900139000'), 'the second reply');

    // Written to the file no later than printed.
    const saved = await readJsonl(out);
    expect(saved.map((r) => [r.type, r.mobile, r.content])).toEqual([
      ['reply', '13800138000', '好的，收到'],
      ['reply', '13900139000', 'TD'],
    ]);
    expect(platform.emulator.pendingReplies(ACCOUNT.account)).toHaveLength(0);

    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/stopped; 2 replies received/);
  });

  it('reports --watch --json writes one JSON line per report and appends to an existing --out file', async () => {
    const out = join(platform.dir.path, 'reports.jsonl');
    await runCli(['send', '--to', '13800138000', '--content', '【Acme】one'], {
      env: platformEnv(platform.emulator.url),
      cwd: platform.dir.path,
    });
    platform.emulator.flush();
    const once = await runCli(['reports', '--out', out], {
      env: platformEnv(platform.emulator.url),
      cwd: platform.dir.path,
    });
    expect(once.code).toBe(0);

    const cli = spawnCli(['reports', '--watch', '--json', '--out', out, '--interval', '100'], {
      env: platformEnv(platform.emulator.url),
      cwd: platform.dir.path,
    });
    await waitFor(() => cli.stderr().includes('CONSUMED'), 'the pull-once notice');
    const [message] = platform.emulator.sent();
    platform.emulator.injectReport({
      account: ACCOUNT.account,
      mobile: '13800138000',
      taskId: message!.taskId,
      status: 20,
      errorCode: 'MK:0011',
    });
    await waitFor(() => cli.stdout().includes('MK:0011'), 'the report');
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(130);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      expect.objectContaining({
        type: 'report',
        status: 'failed',
        statusCode: 20,
        errorCode: 'MK:0011',
        taskId: message!.taskId,
      }),
    ]);
    const saved = await readJsonl(out);
    expect(saved.map((r) => r.status)).toEqual(['delivered', 'failed']);
  });

  it('keeps polling through a platform hiccup', async () => {
    const cli = spawnCli(['replies', '--watch', '--interval', '100'], {
      env: platformEnv(platform.emulator.url),
      cwd: platform.dir.path,
    });
    await waitFor(() => cli.stderr().includes('CONSUMED'), 'the pull-once notice');
    platform.emulator.setFault({ type: 'html500', path: '/callApi.aspx', times: 1 });
    await waitFor(() => cli.stderr().includes('retrying'), 'the warning');
    platform.emulator.injectReply({
      account: ACCOUNT.account,
      mobile: '13800138000',
      content: 'after the hiccup',
    });
    await waitFor(
      () => cli.stdout().includes('after the hiccup'),
      'the reply after the fault',
      15_000,
    );
    cli.child.kill('SIGINT');
    expect((await cli.done).code).toBe(130);
  });
});
