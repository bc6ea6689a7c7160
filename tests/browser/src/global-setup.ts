import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM } from './browser.js';

/**
 * The browser tests need Chromium, and no browser can be downloaded here: on a Debian machine
 * run as root (CI, a fresh container) Debian's own package is installed, so the README's test
 * command works from nothing. Anywhere else `launch()` fails with what to install; never a skip.
 */
export default function setup(): void {
  if (existsSync(CHROMIUM) || process.env['CHROMIUM_PATH']) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) return;
  console.log(`[browser tests] no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { env, stdio: 'inherit' });
}
