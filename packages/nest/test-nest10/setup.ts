import { createRequire } from 'node:module';
import { afterAll, expect } from 'vitest';

const require = createRequire(import.meta.url);
/** The packages whose major this run is about (terminus 11 and config 4 serve Nest 10 and 11). */
const PACKAGE =
  /^(.*\/node_modules\/@nestjs\/(common|core|testing|platform-express|platform-fastify))\//;

/** `name@version` of every such package Node has loaded in this worker, from its own package.json. */
function loadedNest(): string[] {
  const loaded = new Set<string>();
  for (const file of Object.keys(require.cache)) {
    const match = PACKAGE.exec(file);
    if (match)
      loaded.add(`@nestjs/${match[2]}@${require(`${match[1]}/package.json`).version as string}`);
  }
  return [...loaded].sort();
}

// Proves the aliases took effect: whatever Nest a test file loaded is Nest 10 (with the Nest
// 11 config this fails every file that touches Nest). No import here: a bare one would resolve
// from this folder, so to Nest 10 with or without the aliases.
afterAll(() => {
  expect(loadedNest().filter((name) => !/@10\.\d+\.\d+$/.test(name))).toEqual([]);
});
