import { defineConfig } from 'vitest/config';
import { sharedConfig } from '../../vitest.shared.ts';

// Vitest hands these conditions to Node as `--conditions` flags. `import`/`module` there make
// Node's `require()` pick ESM builds inside CJS dependencies (express 5's router gets
// `{ default }` from is-promise), so this package keeps only the source condition.
const conditions = ['dev-source', 'node', 'default'];

export default defineConfig({
  ...sharedConfig,
  resolve: { ...sharedConfig.resolve, conditions },
  ssr: { ...sharedConfig.ssr, resolve: { ...sharedConfig.ssr?.resolve, conditions } },
});
