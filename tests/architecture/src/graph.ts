import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** One import of a source file, as written and, for a relative one, the file it names. */
export interface ImportEdge {
  /** The specifier as written (`./x.js`, `@sms/core`, `node:fs`). */
  specifier: string;
  /** For a relative specifier: the imported file, relative to the graph's root, `/`-separated. */
  target?: string;
}

/** Every `.ts`/`.tsx` file under a root, keyed by its path relative to the root (`/`-separated). */
export type ImportGraph = Map<string, ImportEdge[]>;

const SOURCE = /\.tsx?$/;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** `./x.js` → `x.ts`, `x.tsx` or `x/index.ts`, the way NodeNext resolution with TypeScript sources does. */
function resolveRelative(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.(m|c)?jsx?$/, '');
  const candidates = [
    base,
    `${stem}.ts`,
    `${stem}.tsx`,
    `${stem}.mts`,
    join(base, 'index.ts'),
    join(base, 'index.tsx'),
  ];
  return candidates.find((path) => existsSync(path) && statSync(path).isFile());
}

/**
 * The import graph of the sources in folder `dir` of `root` (keys relative to `root`): static imports, re-exports, `import type`,
 * `import()` expressions and `require()` calls alike, since each is a dependency.
 * Imports that resolve outside `root` keep their specifier and get no `target`.
 */
export function importGraph(root: string, dir = '.'): ImportGraph {
  const graph: ImportGraph = new Map();
  const key = (path: string) => relative(root, path).split(sep).join('/');
  for (const file of filesUnder(join(root, dir))) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const edges: ImportEdge[] = [];
    for (const { fileName: specifier } of info.importedFiles) {
      if (!specifier.startsWith('.')) {
        edges.push({ specifier });
        continue;
      }
      const target = resolveRelative(file, specifier);
      if (target === undefined) throw new Error(`${key(file)}: cannot resolve ${specifier}`);
      const inside = !relative(root, target).startsWith('..');
      edges.push(inside ? { specifier, target: key(target) } : { specifier });
    }
    graph.set(key(file), edges);
  }
  return graph;
}

/**
 * The import cycles of a graph: one cycle (a list of files, the first repeated at the end)
 * per strongly connected component with more than one file, or a file importing itself.
 */
export function findCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative so a deep graph cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const targets = (file: string) =>
    (graph.get(file) ?? []).flatMap((edge) => (edge.target === undefined ? [] : [edge.target]));

  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work: { file: string; pending: string[] }[] = [];
    const enter = (file: string) => {
      index.set(file, next);
      low.set(file, next);
      next += 1;
      stack.push(file);
      onStack.add(file);
      work.push({ file, pending: targets(file) });
    };
    enter(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const target = frame.pending.shift();
      if (target !== undefined) {
        if (!index.has(target)) enter(target);
        else if (onStack.has(target)) {
          low.set(frame.file, Math.min(low.get(frame.file)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.file, Math.min(low.get(parent.file)!, low.get(frame.file)!));
      if (low.get(frame.file) !== index.get(frame.file)) continue;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== frame.file);
      const selfImport = targets(frame.file).includes(frame.file);
      if (component.length > 1 || selfImport) components.push(component);
    }
  }
  return components.map((component) => cycleThrough(component, targets));
}

/** A shortest cycle from the component's first file (in sorted order) back to itself. */
function cycleThrough(component: string[], targets: (file: string) => string[]): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const target of targets(file)) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [file];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start];
      }
      if (previous.has(target)) continue;
      previous.set(target, file);
      queue.push(target);
    }
  }
  return [start, start];
}
