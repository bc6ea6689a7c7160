import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Emulator, startEmulator } from '@sms/emulator';

/** The built binary: the tests run what users run. */
export const BIN = join(dirname(fileURLToPath(import.meta.url)), '../../dist/cli.js');

export const ACCOUNT = { userId: '1001', account: 'acme', password: 'S3cret-Pa55' } as const;

export function assertBuilt(): void {
  if (!existsSync(BIN))
    throw new Error(
      `${BIN} is missing: run \`pnpm --filter @sms/cli build\` (the test script does)`,
    );
}

export async function startPlatform(
  options: Partial<Parameters<typeof startEmulator>[0]> = {},
): Promise<Emulator> {
  return startEmulator({ port: 0, accounts: [{ ...ACCOUNT, balance: 10_000 }], ...options });
}

/** Environment for the child: nothing inherited but PATH (no NO_COLOR / FORCE_COLOR / SMS_* leaks). */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'] };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

export function platformEnv(
  url: string,
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  return cleanEnv({
    SMS_BASE_URL: url,
    SMS_USERID: ACCOUNT.userId,
    SMS_ACCOUNT: ACCOUNT.account,
    SMS_PASSWORD: ACCOUNT.password,
    ...extra,
  });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
}

/** Starts `node dist/cli.js …`; `done` resolves when it exits. */
export function spawnCli(
  args: string[],
  options: SpawnOptions,
): { child: ChildProcess; done: Promise<CliResult>; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: options.env,
    cwd: options.cwd ?? process.cwd(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

export function runCli(args: string[], options: SpawnOptions): Promise<CliResult> {
  return spawnCli(args, options).done;
}

/** Polls until `check` returns a truthy value (or fails after `timeoutMs`). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * The emulator and temp folder a test file shares: started before its tests, reset before
 * each, closed after. Read `platform.emulator` / `platform.dir` inside tests.
 */
export function usePlatform(
  options: Partial<Parameters<typeof startEmulator>[0]> = {},
  checks: () => void = () => {},
): { emulator: Emulator; dir: Awaited<ReturnType<typeof tempDir>> } {
  const platform = {} as { emulator: Emulator; dir: Awaited<ReturnType<typeof tempDir>> };
  beforeAll(async () => {
    assertBuilt();
    checks();
    platform.emulator = await startPlatform(options);
    platform.dir = await tempDir();
  });
  afterAll(async () => {
    await platform.emulator?.close();
    await platform.dir?.cleanup();
  });
  beforeEach(() => platform.emulator.reset());
  return platform;
}

export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'sms-cli-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** A port nothing listens on: bind one, then close it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The results CSV as objects (it has no quoted commas in these tests except in `detail`). */
export async function readResults(path: string): Promise<Array<Record<string, string>>> {
  const { parseCsv } = await import('../csv.js');
  const [header, ...rows] = parseCsv(await readFile(path, 'utf8'));
  return rows.map((row) => Object.fromEntries(header!.map((column, i) => [column, row[i] ?? ''])));
}

/** `count` distinct valid numbers starting at 13800000000. */
export function mobiles(count: number, start = 13800000000): string[] {
  return Array.from({ length: count }, (_, i) => String(start + i));
}
