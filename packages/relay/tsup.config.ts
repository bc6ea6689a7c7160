import { type Options, defineConfig } from 'tsup';
import { commandBuild, libraryBuild } from '../../tsup.shared.js';

/** The console's page: Preact bundled in (a devDependency), served from dist/console. */
export const consoleBuild: Options = {
  entry: { app: 'console-ui/main.tsx' },
  outDir: 'dist/console',
  format: ['esm'],
  platform: 'browser',
  target: 'es2020',
  minify: true,
  clean: true,
  esbuildOptions(options) {
    options.jsx = 'automatic';
    options.jsxImportSource = 'preact';
  },
};

export default defineConfig([
  // shims: import.meta.url in the CommonJS build too (the console finds its page by it);
  // dist/console is the console build's own, cleaned by it.
  libraryBuild(['src/index.ts'], { shims: true, clean: ['!console/**'] }),
  commandBuild('src/cli.ts'),
  consoleBuild,
]);
