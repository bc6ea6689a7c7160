import { defineConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared';

// The shared `import` condition leaks into CommonJS `require` calls inside dependencies
// (pg requires pg-pool and got its ESM build); without it `dev-source` still applies.
const conditions = ['dev-source', 'module', 'node', 'default'];

export default defineConfig({
  ...sharedConfig,
  resolve: { ...sharedConfig.resolve, conditions },
  ssr: { ...sharedConfig.ssr, resolve: { ...sharedConfig.ssr?.resolve, conditions } },
  test: { ...sharedConfig.test, globalSetup: ['./src/test-utils/global-setup.ts'] },
});
