// The gateway's SQLite store in instructions, not seconds (valgrind's callgrind: the same count
// run after run, whatever else the machine does): the relay's main thread's instructions per
// message claimed and recorded sent, in the sender's pattern (claims of CLAIM, outcomes
// committed RECORD at a time), this checkout's src beside BENCH_BASELINE_SRC (another
// checkout's packages/relay/src, e.g. a git worktree) when given. Each figure is a run that
// drains its last queue less one that only fills it, both after a first queue filled and
// drained (the code compiled): what one drain of BENCH_BURST messages costs.
//   node bench/store-instructions.mjs        (needs valgrind; about a minute a row)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleFromSrc } from './bundle.mjs';
import { table } from './table.mjs';

const BURST = Number(process.env.BENCH_BURST ?? 8000);
const PATTERNS = (process.env.BENCH_PATTERNS ?? '11/16,2/2,32/32')
  .split(',')
  .map((p) => p.split('/').map(Number));
const BASELINE_SRC = process.env.BENCH_BASELINE_SRC;

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const cache = here('../node_modules/.cache/sms-bench-store-instructions/');

/** Instructions of the main thread of one child run (callgrind, threads apart). */
function instructions(bundle, [claim, record], drainLast) {
  const out = `${cache}callgrind.out`;
  for (const file of readdirSync(cache)) {
    if (file.startsWith('callgrind.out')) rmSync(`${cache}${file}`);
  }
  execFileSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--separate-threads=yes',
      `--callgrind-out-file=${out}`,
      process.execPath,
      here('./store-instructions-child.mjs'),
      bundle,
      `${BURST}`,
      `${claim}`,
      `${record}`,
      '2',
      drainLast ? '1' : '0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // Thread 1 runs the JavaScript (and the store's SQLite calls): its total.
  const text = execFileSync('callgrind_annotate', [`${out}-01`], { encoding: 'utf8' });
  const line = text.split('\n').find((l) => /PROGRAM TOTALS/.test(l));
  return Number(line.trim().split(/\s+/)[0].replaceAll(',', ''));
}

try {
  execFileSync('valgrind', ['--version']);
} catch {
  console.error('store-instructions: valgrind is not installed (apt-get install valgrind)');
  process.exit(1);
}
mkdirSync(cache, { recursive: true });
const store = { 'store/sqlite.js': ['sqliteStore'] };
const builds = [['this checkout', await bundleFromSrc('store-this', store)]];
if (BASELINE_SRC) {
  builds.unshift(['baseline', await bundleFromSrc('store-baseline', store, BASELINE_SRC)]);
}
const rows = [];
for (const pattern of PATTERNS) {
  for (const [name, bundle] of builds) {
    const perMessage = Math.round(
      (instructions(bundle, pattern, true) - instructions(bundle, pattern, false)) / BURST,
    );
    rows.push({
      'claimed / recorded at a time': pattern.join(' / '),
      build: name,
      'instructions a message (main thread)': perMessage,
    });
  }
}
console.log(
  `the gateway's SQLite store, ${BURST} messages claimed and recorded sent, in instructions (callgrind) of the thread running JavaScript\n${table(rows)}`,
);
