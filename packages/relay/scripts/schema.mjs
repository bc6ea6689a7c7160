// Writes relay.schema.json from the zod schema (src/config/ composes the sections; `pnpm run schema`).
// The config test fails when the committed file differs from what this writes.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'tsup';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const outDir = here('../node_modules/.cache/sms-relay-schema');

await build({
  config: false,
  entry: { config: here('../src/config/json-schema.ts') },
  outDir,
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  clean: true,
  silent: true,
});
const { relayConfigJsonSchema } = await import(pathToFileURL(`${outDir}/config.js`).href);
const file = here('../relay.schema.json');
writeFileSync(file, `${JSON.stringify(relayConfigJsonSchema(), null, 2)}\n`);
// The repository's formatter owns the layout; the test compares the parsed JSON.
execFileSync('biome', ['format', '--write', file], { stdio: 'inherit' });
console.log(`wrote ${file}`);
