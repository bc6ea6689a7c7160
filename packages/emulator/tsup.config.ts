import { defineConfig } from 'tsup';
import { commandBuild, libraryBuild } from '../../tsup.shared.js';

export default defineConfig([
  // `shims`: the CommonJS build gets `import.meta.url`, so it finds dist/inbox/ too.
  // The library's clean leaves dist/inbox/ to the inbox build (they run side by side).
  libraryBuild(['src/index.ts'], { shims: true, clean: ['!inbox/**'] }),
  commandBuild('src/cli.ts'),
  // The inbox page: Preact bundled in, for the browser; served from dist/inbox/.
  {
    entry: { app: 'src/ui/app.tsx' },
    outDir: 'dist/inbox',
    format: ['esm'],
    platform: 'browser',
    target: 'es2020',
    minify: true,
    clean: true,
    noExternal: [/.*/],
    outExtension: () => ({ js: '.js' }),
    esbuildOptions(options) {
      options.jsx = 'automatic';
      options.jsxImportSource = 'preact';
    },
  },
]);
