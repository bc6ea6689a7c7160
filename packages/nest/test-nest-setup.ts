import { readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, expect } from 'vitest';

/** The packages whose major a run is about (terminus and config versions span majors). */
const PACKAGE =
  /^(.*\/node_modules\/@nestjs\/(common|core|testing|platform-express|platform-fastify))\//;
const major = process.env.SMS_TEST_NEST_MAJOR;

// ESM loads (Nest 12 is ESM-only) are seen through a resolve hook; CommonJS ones (Nest 10
// and 11) through require.cache as well, for the files their own require() pulls in.
const resolvedUrls = new Set<string>();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url: string) => resolvedUrls.add(url));
port1.unref();
register('./test-nest-loads.mjs', import.meta.url, {
  data: { port: port2 },
  transferList: [port2],
});

/** `name@version` of every such package loaded in this worker, from its own package.json. */
function loadedNest(): string[] {
  const files = [
    ...Object.keys(createRequire(import.meta.url).cache),
    ...[...resolvedUrls].filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url)),
  ];
  const loaded = new Set<string>();
  for (const file of files) {
    const match = PACKAGE.exec(file);
    if (!match) continue;
    const { version } = JSON.parse(readFileSync(`${match[1]}/package.json`, 'utf8'));
    loaded.add(`@nestjs/${match[2]}@${version as string}`);
  }
  return [...loaded].sort();
}

// Proves the run is on its major: whatever Nest a test file loaded is that major (with the
// aliases gone, an older major's run fails every file that touches Nest).
afterAll(() => {
  expect(major, 'SMS_TEST_NEST_MAJOR is set by vitest.nest-major.ts').toMatch(/^\d+$/);
  const ofMajor = new RegExp(`@${major}\\.\\d+\\.\\d+$`);
  expect(loadedNest().filter((name) => !ofMajor.test(name))).toEqual([]);
});
