import { defineConfig } from 'vitest/config';
import base from './vitest.config';

// The crash tests run alone, after every other suite; their report must not overwrite the
// main run's `.vitest-report.json` (scripts/summary.mjs adds every report up).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    reporters: ['default', ['json', { outputFile: '.vitest-report-crash.json' }]],
  },
});
