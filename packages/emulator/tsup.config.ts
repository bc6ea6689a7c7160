import { defineConfig } from 'tsup';

export default defineConfig({
  // src/cli.ts starts with a `#!/usr/bin/env node` line, which esbuild keeps.
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'node20',
});
