import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI as built by `global-setup.ts`. */
export const CLI = fileURLToPath(
  new URL('../../node_modules/.cache/sms-relay-test/cli.js', import.meta.url),
);

/** Runs the built `sms-relay` CLI. */
export function runCli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr,
        });
      },
    );
  });
}

let n = 0;
runCli.writeConfig = async (dir: string, config: unknown): Promise<string> => {
  const path = join(dir, `relay-${process.pid}-${++n}.json`);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
};
