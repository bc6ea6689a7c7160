import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { consoleBuild } from '../../tsup.config.js';

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
  // The console's page, which the source finds in dist/console: built here only when no
  // `pnpm build` made it yet (a test run straight after a checkout).
  const page = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
  if (!existsSync(page('dist/console/app.js'))) {
    await build({
      ...consoleBuild,
      config: false,
      silent: true,
      entry: { app: page('console-ui/main.tsx') },
      outDir: page('dist/console'),
    });
  }
}
