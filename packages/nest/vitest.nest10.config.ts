import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

/** The Nest packages src/ and the tests import; each resolves to its Nest 10 major here. */
const NEST_PACKAGES = [
  'common',
  'core',
  'testing',
  'platform-express',
  'platform-fastify',
  'terminus',
  'config',
];

/**
 * The same suite against Nest 10 (`pnpm test` runs it after the Nest 11 run; report
 * `.vitest-report-nest10.json`, counted by scripts/summary.mjs). `test-nest10/` is a private
 * workspace package with its own install of Nest 10, so inside node_modules Nest 10's
 * packages see each other as peers; an npm alias beside Nest 11 would get Nest 11 as theirs.
 */
export default defineConfig({
  ...sharedConfig,
  resolve: {
    ...sharedConfig.resolve,
    alias: NEST_PACKAGES.map((name) => ({
      find: new RegExp(`^@nestjs/${name}$`),
      replacement: fileURLToPath(
        new URL(`./test-nest10/node_modules/@nestjs/${name}`, import.meta.url),
      ),
    })),
  },
  test: {
    ...sharedConfig.test,
    name: 'nest10',
    // Fails a file whose tests ran on anything but Nest 10 (the aliases not taking effect).
    setupFiles: ['./test-nest10/setup.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest-report-nest10.json' }]],
  },
});
