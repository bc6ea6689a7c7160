#!/usr/bin/env node
// A committed entry point, so package managers can link the command before dist/ is built.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'sms: not built yet (dist/cli.js is missing): run `pnpm install && pnpm build` in the repository\n',
  );
  process.exit(1);
}
await import(cli.href);
