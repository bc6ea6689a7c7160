import { defineConfig } from 'vitest/config';

/** Shared by every workspace package: test sibling packages from `src/` through the `dev-source` condition. */
export const sharedConfig = defineConfig({
  resolve: { conditions: ['dev-source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['dev-source', 'module', 'node', 'import', 'default'] } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
});
