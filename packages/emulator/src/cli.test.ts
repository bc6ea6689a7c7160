/** `sms-emulator` as a child process: the CLI source bundled by esbuild, run by node. */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { boxes, post, raw, tag } from './test-utils/raw.js';

let dir: string;
let bundle: string;
const children = new Set<ChildProcessWithoutNullStreams>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sms-emulator-cli-'));
  bundle = join(dir, 'cli.cjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./cli.ts', import.meta.url))],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['dev-source'],
    logLevel: 'silent',
  });
});

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [bundle, ...args]);
  children.add(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${output}`)), 10_000);
    const check = () => {
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve({ child, url, output: () => output, exit });
      }
    };
    child.stdout.on('data', check);
    exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited early: ${output}`));
    });
  });
}

async function stopped(running: Running, signal: NodeJS.Signals) {
  const started = Date.now();
  running.child.kill(signal);
  const result = await running.exit;
  return { ...result, ms: Date.now() - started };
}

it('serves the accounts of --account/--balance, prints its URL, never the password, and stops on SIGTERM', async () => {
  const running = await run([
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--account',
    '12:demo:s3cr:et',
    '--balance',
    '5',
  ]);
  expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const auth = { userid: '12', account: 'demo', password: 's3cr:et' };
  const sent = await post(running.url, '/sms.aspx', {
    action: 'send',
    ...auth,
    mobile: '13800138000',
    content: '【签名】hi',
  });
  expect(tag(sent.text, 'remainpoint')).toBe('4');
  const overage = await post(running.url, '/smsGBK.aspx', { action: 'overage', ...auth }, 'gbk');
  expect(tag(overage.text, 'payinfo')).toBe('预付费');
  expect(running.output()).toContain('demo');
  expect(running.output()).not.toContain('s3cr');
  const { code, ms } = await stopped(running, 'SIGTERM');
  expect(code).toBe(0);
  expect(ms).toBeLessThan(5000);
});

it('reads --config JSON, and stops promptly on SIGINT with timers pending', async () => {
  const config = join(dir, 'emulator.json');
  writeFileSync(
    config,
    JSON.stringify({
      accounts: [{ userId: '', account: 'cfg', password: 'pw', payType: 'postpaid', balance: 0 }],
      keywords: ['禁词'],
      report: { delayMs: 3_600_000 },
      sqlInjectionPatterns: ['/drop\\s+table/i'],
    }),
  );
  const running = await run(['--config', config, '--port', '0']);
  const auth = { userid: '', account: 'cfg', password: 'pw' };
  const blocked = await post(running.url, '/sms.aspx', {
    action: 'send',
    ...auth,
    mobile: '13800138000',
    content: '有禁词',
  });
  expect(tag(blocked.text, 'message')).toBe('包含非法字符：禁词');
  const sql = await post(running.url, '/sms.aspx', {
    action: 'send',
    ...auth,
    mobile: '13800138000',
    content: 'DROP  TABLE x',
  });
  expect(tag(sql.text, 'message')).toBe('发送内容包含sql注入字符');
  const scheduled = await post(running.url, '/sms.aspx', {
    action: 'send',
    ...auth,
    mobile: '13800138000',
    content: "it's fine",
    sendTime: '2099-01-01 00:00:00',
  });
  expect(tag(scheduled.text, 'returnstatus')).toBe('Success');
  await post(running.url, '/sms.aspx', {
    action: 'send',
    ...auth,
    mobile: '13800138000',
    content: 'now',
  });
  const reports = await post(running.url, '/statusApi.aspx', { action: 'query', ...auth });
  expect(boxes(reports.text, 'statusbox')).toHaveLength(0);
  const { code, ms } = await stopped(running, 'SIGINT');
  expect(code).toBe(0);
  expect(ms).toBeLessThan(5000);
});

it('serves 12:demo:secret when no account is given, and exposes the control API and the inbox', async () => {
  const running = await run([
    '--port',
    '0',
    '--allowed-host',
    'sms-emulator',
    '--report-delay',
    '0',
    '--keyword',
    'x',
    '--require-signature',
    '--quirks',
  ]);
  const res = await post(running.url, '/sms.aspx', {
    action: 'send',
    userid: '12',
    account: 'demo',
    password: 'secret',
    mobile: '13800138000',
    content: 'no signature',
  });
  expect(tag(res.text, 'message')).toBe('需要签名');
  expect(res.text).toContain('</message >');
  const accounts = (await (await fetch(`${running.url}/__emulator/accounts`)).json()) as Array<{
    balance: number;
  }>;
  expect(accounts).toEqual([expect.objectContaining({ account: 'demo', balance: 1000 })]);
  expect(running.output()).toContain(`inbox: ${running.url}/\n`);
  // The control API address the banner prints answers (it was a 404).
  const banner = /control API: (\S+)/.exec(running.output())?.[1];
  expect(banner).toBe(`${running.url}/__emulator/`);
  const index = await fetch(banner!);
  expect(index.status).toBe(200);
  expect(((await index.json()) as { routes: string[] }).routes).toContain('GET accounts');
  const named = (name: string) =>
    raw(running.url, {
      path: '/__emulator/accounts',
      headers: { host: `${name}:${new URL(running.url).port}` },
    });
  expect((await named('sms-emulator')).status).toBe(200);
  expect((await named('elsewhere.example')).status).toBe(403);
  expect((await stopped(running, 'SIGTERM')).code).toBe(0);
});

it('exits 2 with the usage on a bad flag; --help prints it', async () => {
  const bad = spawn(process.execPath, [bundle, '--nope']);
  let stderr = '';
  bad.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const code = await new Promise((resolve) => bad.on('close', resolve));
  expect(code).toBe(2);
  expect(stderr).toContain('Usage: sms-emulator');

  const help = spawn(process.execPath, [bundle, '--help']);
  let stdout = '';
  help.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  expect(await new Promise((resolve) => help.on('close', resolve))).toBe(0);
  expect(stdout).toContain('--account <u:a:p>');
});

/** Runs the CLI with arguments that must make it exit before listening. */
async function refused(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bundle, ...args]);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  // 'close', not 'exit': exit can come before the last of stderr is read.
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, stderr };
}

it('refuses out-of-range numeric flags with a clear message and exit 2, negative ones included', async () => {
  const cases: Array<[string[], string]> = [
    [['--fail-rate=-1'], '--fail-rate must be a number from 0 to 1, got "-1"'],
    [['--fail-rate', '-1'], '--fail-rate must be a number from 0 to 1, got "-1"'],
    [['--fail-rate', '1.5'], '--fail-rate must be a number from 0 to 1, got "1.5"'],
    [
      ['--report-delay', '-5'],
      '--report-delay must be a non-negative number of milliseconds, got "-5"',
    ],
    [['--balance', '-0.5'], '--balance must be a non-negative number, got "-0.5"'],
    [['--balance', 'lots'], '--balance must be a non-negative number, got "lots"'],
    [['--port', '-1'], '--port must be a port from 0 to 65535, got "-1"'],
    [['--port', '70000'], '--port must be a port from 0 to 65535, got "70000"'],
    [['--port', '80.5'], '--port must be a port from 0 to 65535, got "80.5"'],
    [['--port', ''], '--port must be a port from 0 to 65535, got ""'],
  ];
  const results = await Promise.all(cases.map(([args]) => refused(args)));
  results.forEach(({ code, stderr }, i) => {
    const [args, message] = cases[i]!;
    expect({ args, code, stderr: stderr.split('\n')[0] }).toEqual({
      args,
      code: 2,
      stderr: `sms-emulator: ${message}`,
    });
    expect(stderr).not.toContain('ambiguous');
  });
});

it('accepts the bounds: --fail-rate 0 and 1, --report-delay 0, --balance 0', async () => {
  const running = await run([
    '--port',
    '0',
    '--fail-rate',
    '1',
    '--report-delay',
    '0',
    '--balance',
    '0',
  ]);
  const accounts = (await (await fetch(`${running.url}/__emulator/accounts`)).json()) as Array<{
    balance: number;
  }>;
  expect(accounts).toEqual([expect.objectContaining({ account: 'demo', balance: 0 })]);
  expect((await stopped(running, 'SIGTERM')).code).toBe(0);
});
