import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { commandBuild, libraryBuild } from '../../tsup.shared.js';

const { version } = JSON.parse(
  readFileSync(new URL('./package.json', import.meta.url), 'utf8'),
) as { version: string };
const define = { __SMS_CLI_VERSION__: JSON.stringify(version) };

export default defineConfig([
  libraryBuild(['src/index.ts'], { define }),
  commandBuild('src/cli.ts', { define }),
]);
