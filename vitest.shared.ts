import { defineConfig } from 'vitest/config';

/** Shared by every workspace package: test sibling packages from `src/` through the `dev-source` condition. */
export const sharedConfig = defineConfig({
  // Vite adds `import`/`require` per import itself; listing `import` here would make Node's
  // require() pick ESM builds inside CommonJS dependencies (Express 5 then breaks).
  resolve: { conditions: ['dev-source', 'node', 'default'] },
  ssr: { resolve: { conditions: ['dev-source', 'node', 'default'] } },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
});
