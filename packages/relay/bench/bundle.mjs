// The relay's own src bundled for a bench that runs what is not part of the package's API
// (the sender, the stores' factories), written inside the package so that the bundle's imports
// (better-sqlite3, @sms/core) resolve as the relay's.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Bundles `exports` ({ 'store/sqlite.js': ['sqliteStore'] }: modules of `src` and the names
 * taken from each) as node_modules/.cache/sms-bench-<name>/bundle.mjs and answers its path.
 * `src`: another checkout's packages/relay/src (a baseline), by default this one's.
 */
export async function bundleFromSrc(name, exports, src = here('../src')) {
  const outDir = here(`../node_modules/.cache/sms-bench-${name}/`);
  mkdirSync(outDir, { recursive: true });
  // Not under node_modules, where esbuild takes no entry from.
  const entry = join(tmpdir(), `sms-bench-${name}-${process.pid}.ts`);
  writeFileSync(
    entry,
    Object.entries(exports)
      .map(([module, names]) => `export { ${names.join(', ')} } from '${src}/${module}';\n`)
      .join(''),
  );
  await build({
    entry: { bundle: entry },
    outDir,
    format: ['esm'],
    outExtension: () => ({ js: '.mjs' }),
    platform: 'node',
    target: 'node20',
    silent: true,
    clean: true,
    // Everything from node_modules stays an import; only the relay's own source is bundled.
    skipNodeModulesBundle: true,
    // Not the package's tsup.config.ts: its three builds would each write this bundle at once.
    config: false,
  });
  return `${outDir}bundle.mjs`;
}
