// Prints the plain closing line CI reads, from the vitest JSON reports each package wrote.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
/** A run whose report is missing (or was overwritten by another run's) would go uncounted. */
const missing = [];
const REPORT_OF_SCRIPT = { test: '.vitest-report.json', 'test:crash': '.vitest-report-crash.json' };
for (const group of ['packages', 'examples', 'tests']) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const dir = join(group, name);
    if (!statSync(dir).isDirectory()) continue;
    const manifest = join(dir, 'package.json');
    const scripts = existsSync(manifest)
      ? (JSON.parse(readFileSync(manifest, 'utf8')).scripts ?? {})
      : {};
    for (const [script, report] of Object.entries(REPORT_OF_SCRIPT)) {
      if (/\bvitest\b/.test(scripts[script] ?? '') && !existsSync(join(dir, report)))
        missing.push(`${dir}/${report} (${script})`);
    }
    // `.vitest-report.json`, and one per extra run (`.vitest-report-crash.json`: the crash
    // tests run alone, after every other suite, so their timing is not the machine's load).
    for (const file of readdirSync(dir).filter((f) => /^\.vitest-report.*\.json$/.test(f))) {
      const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      passed += report.numPassedTests ?? 0;
      failed += report.numFailedTests ?? 0;
      skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    }
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (missing.length > 0) console.log(`no report from: ${missing.join(', ')}`);
process.exitCode = failed > 0 || missing.length > 0 ? 1 : 0;
