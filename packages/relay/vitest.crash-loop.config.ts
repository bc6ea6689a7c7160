import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// The crash loop (scripts/crash-loop.ts): not a test suite, a long run started by hand.
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['scripts/crash-loop.ts'],
    reporters: ['default'],
  },
});
