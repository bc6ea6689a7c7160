import type { Options } from 'tsup';

/** How every @sms package builds its library entries: ESM + CJS with types, for Node 20. */
export function libraryBuild(entry: string[], extra: Options = {}): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    ...extra,
  };
}

/** A command's entry: ESM only, with a shebang so `dist/cli.js` runs on its own too. */
export function commandBuild(entry: string, extra: Options = {}): Options {
  return {
    entry: [entry],
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
    ...extra,
  };
}
