import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The console's built page: `app.js` and `app.css`, bundled by tsup into `dist/console`. */
export interface ConsoleAssets {
  dir: string;
  files: Map<string, { type: string; body: Buffer }>;
}

const TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/**
 * Where the built assets are: beside the bundle that runs (`dist/index.js`, `dist/index.cjs`
 * and `dist/cli.js` all live in `dist/`, so `dist/console`), or, when the source runs
 * (vitest's `dev-source` condition, this file in `src/console`), the package's `dist/console`.
 */
export function assetCandidates(): string[] {
  // tsup's shims give CommonJS builds an import.meta.url.
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, 'console'), join(here, '..', '..', 'dist', 'console')];
}

/** Reads the assets from the first folder holding `app.js`, or null when none does (not built). */
export function loadAssets(dirs: readonly string[] = assetCandidates()): ConsoleAssets | null {
  const dir = dirs.find((d) => existsSync(join(d, 'app.js')));
  if (!dir) return null;
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const [name, type] of Object.entries(TYPES)) {
    const path = join(dir, name);
    if (existsSync(path)) files.set(name, { type, body: readFileSync(path) });
  }
  return { dir, files };
}

/** The page shell: no data, no inline script or style (the CSP forbids both). */
export const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sms-relay console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="console/app.css">
<script type="module" src="console/app.js"></script>
</head>
<body>
<main id="app"><noscript>The console needs JavaScript.</noscript></main>
</body>
</html>
`;

/** Only this origin: the page loads nothing from anywhere else. */
export const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
