import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/health.ts', 'src/testing.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  splitting: true,
  target: 'node20',
});
