import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

/**
 * Builds the CLI once for the tests that run it as a child process, into a folder of its own
 * so a concurrent `build` of the package (turbo runs build and test side by side) cannot
 * delete it mid-run. Bare imports (`@sms/core`, `pg`, …) resolve from the package's node_modules.
 */
export default async function setup(): Promise<void> {
  await build({
    config: false,
    entry: { cli: fileURLToPath(new URL('../cli.ts', import.meta.url)) },
    outDir: fileURLToPath(new URL('../../node_modules/.cache/sms-relay-test', import.meta.url)),
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    clean: true,
    silent: true,
    banner: { js: '#!/usr/bin/env node' },
  });
}
