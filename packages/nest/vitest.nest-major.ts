import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

/** The Nest packages src/ and the tests import; each resolves to the older major here. */
const NEST_PACKAGES = [
  'common',
  'core',
  'testing',
  'platform-express',
  'platform-fastify',
  'terminus',
  'config',
];

/** The major the package's own devDependencies install (the run of `vitest.config.ts`). */
export const CURRENT_NEST_MAJOR = 12;

/** Fails a file whose tests ran on anything but the run's major (aliases not taking effect). */
const setupFiles = ['./test-nest-setup.ts'];

/**
 * The same suite against an older Nest major (`pnpm test` runs one per major after the run on
 * the current major; report `.vitest-report-nest<N>.json`, counted by scripts/summary.mjs).
 * `test-nest<N>/` is a private workspace package with its own install of that major, so inside
 * node_modules its packages see each other as peers; an npm alias beside the current major
 * would get the current major as theirs.
 */
export function nestMajorConfig(major: 10 | 11 | typeof CURRENT_NEST_MAJOR) {
  if (major === CURRENT_NEST_MAJOR)
    return defineConfig({
      ...sharedConfig,
      test: { ...sharedConfig.test, env: { SMS_TEST_NEST_MAJOR: String(major) }, setupFiles },
    });
  return defineConfig({
    ...sharedConfig,
    resolve: {
      ...sharedConfig.resolve,
      alias: NEST_PACKAGES.map((name) => ({
        find: new RegExp(`^@nestjs/${name}$`),
        replacement: fileURLToPath(
          new URL(`./test-nest${major}/node_modules/@nestjs/${name}`, import.meta.url),
        ),
      })),
    },
    test: {
      ...sharedConfig.test,
      name: `nest${major}`,
      env: { SMS_TEST_NEST_MAJOR: String(major) },
      setupFiles,
      reporters: ['default', ['json', { outputFile: `.vitest-report-nest${major}.json` }]],
    },
  });
}
