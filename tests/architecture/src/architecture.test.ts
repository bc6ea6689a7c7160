/**
 * Architecture as a test (docs/architecture.md): no import cycle in any package, packages
 * import each other only in the direction of src/rules.ts, and the relay's parts likewise.
 * Imports of every kind count: `import`, `import type`, `export … from`, `import()`.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchesAny } from './glob.js';
import { type ImportGraph, findCycles, importGraph } from './graph.js';
import { PACKAGES, type PackageRule, RELAY, RELAY_PARTS } from './rules.js';

const repo = resolve(import.meta.dirname, '../../..');
const RULES = 'tests/architecture/src/rules.ts';

/** `@sms/core/x` → `@sms/core`; anything else (a relative path, `node:fs`, `pg`) → undefined. */
function siblingOf(specifier: string): string | undefined {
  const match = /^(@sms\/[^/]+)/.exec(specifier);
  return match?.[1];
}

function graphOf(rule: PackageRule): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const source of rule.sources) {
    for (const [file, edges] of importGraph(join(repo, rule.dir), source)) graph.set(file, edges);
  }
  return graph;
}

const graphs = new Map(Object.entries(PACKAGES).map(([name, rule]) => [name, graphOf(rule)]));

describe.each(Object.entries(PACKAGES))('%s', (name, rule) => {
  const graph = graphs.get(name)!;

  it('has no import cycle', () => {
    expect(graph.size).toBeGreaterThan(0);
    const cycles = findCycles(graph).map((cycle) => cycle.join(' -> '));
    expect(cycles, `import cycles in ${rule.dir}`).toEqual([]);
  });

  it(`imports only the @sms packages ${RULES} allows`, () => {
    const manifest = JSON.parse(readFileSync(join(repo, rule.dir, 'package.json'), 'utf8'));
    expect(manifest.name).toBe(name);
    const wrong: string[] = [];
    for (const [file, edges] of graph) {
      const test = matchesAny(file, rule.tests);
      const allowed = test ? [...rule.uses, ...rule.testsUse] : rule.uses;
      for (const { specifier } of edges) {
        const sibling = siblingOf(specifier);
        if (sibling && sibling !== name && !allowed.includes(sibling)) {
          wrong.push(`${file} imports ${specifier} (${test ? 'tests' : 'published code'})`);
        }
      }
    }
    const declared = (field: string) =>
      Object.keys(manifest[field] ?? {}).filter((dep) => dep.startsWith('@sms/'));
    for (const dep of [...declared('dependencies'), ...declared('peerDependencies')]) {
      if (!rule.uses.includes(dep)) wrong.push(`package.json depends on ${dep}`);
    }
    for (const dep of declared('devDependencies')) {
      if (![...rule.uses, ...rule.testsUse].includes(dep)) {
        wrong.push(`package.json dev-depends on ${dep}`);
      }
    }
    expect(wrong, `imports against ${RULES}`).toEqual([]);
  });

  it('published code never imports test code', () => {
    const wrong = [...graph].flatMap(([file, edges]) =>
      matchesAny(file, rule.tests)
        ? []
        : edges
            .filter((edge) => edge.target !== undefined && matchesAny(edge.target, rule.tests))
            .map((edge) => `${file} imports ${edge.target}`),
    );
    expect(wrong).toEqual([]);
  });
});

describe('the packages', () => {
  it('depend on each other in one direction, and core on none', () => {
    expect(PACKAGES['@sms/core']!.uses).toEqual([]);
    const order: string[] = [];
    const visit = (name: string, path: string[]) => {
      if (path.includes(name)) throw new Error(`packages in a circle: ${[...path, name]}`);
      if (order.includes(name)) return;
      for (const dep of PACKAGES[name]?.uses ?? []) visit(dep, [...path, name]);
      order.push(name);
    };
    for (const name of Object.keys(PACKAGES)) visit(name, []);
    expect(order[0]).toBe('@sms/core');
  });

  it('are all listed in the rules', () => {
    const dirs = readFileSync(join(repo, 'pnpm-workspace.yaml'), 'utf8');
    expect(dirs).toContain('packages/*');
    const listed = Object.values(PACKAGES).map((rule) => rule.dir);
    const present = readdirSync(join(repo, 'packages'))
      .filter((dir) => existsSync(join(repo, 'packages', dir, 'package.json')))
      .map((dir) => `packages/${dir}`);
    expect(present.sort()).toEqual([...listed].sort());
  });
});

describe(`${RELAY}: its parts import each other only downwards`, () => {
  const rule = PACKAGES[RELAY]!;
  const graph = graphs.get(RELAY)!;
  const parts = Object.entries(RELAY_PARTS);
  /** The first part whose globs match, in the order of RELAY_PARTS. */
  const partOf = (file: string) => parts.find(([, part]) => matchesAny(file, part.files))?.[0];

  it('each part uses only parts listed before it (one direction, no circle)', () => {
    const wrong: string[] = [];
    parts.forEach(([name, part], index) => {
      const before = parts.slice(0, index).map(([earlier]) => earlier);
      for (const used of part.uses) {
        if (!before.includes(used)) wrong.push(`${name} uses ${used}, not listed before it`);
      }
    });
    expect(wrong).toEqual([]);
  });

  it('every published file belongs to a part', () => {
    const loose = [...graph.keys()].filter(
      (file) => !matchesAny(file, rule.tests) && partOf(file) === undefined,
    );
    expect(loose, `files in no part of ${RULES}`).toEqual([]);
  });

  it('no import goes up, sideways or into another part’s internals', () => {
    const wrong: string[] = [];
    for (const [file, edges] of graph) {
      if (matchesAny(file, rule.tests)) continue;
      const from = partOf(file);
      if (from === undefined) continue;
      for (const { target } of edges) {
        if (target === undefined || !graph.has(target)) continue;
        const to = partOf(target);
        if (to === undefined || to === from) continue;
        const { uses } = RELAY_PARTS[from]!;
        const { surface } = RELAY_PARTS[to]!;
        if (!uses.includes(to)) {
          wrong.push(
            `${file} (${from}) imports ${target} (${to}): ${from} uses ${uses.join(', ')}`,
          );
        } else if (surface && !matchesAny(target, surface)) {
          wrong.push(
            `${file} (${from}) imports ${target}, inside ${to}: use ${surface.join(', ')}`,
          );
        }
      }
    }
    expect(wrong, `imports against ${RULES} (and docs/architecture.md)`).toEqual([]);
  });
});

describe('docs/architecture.md', () => {
  const page = readFileSync(join(repo, 'docs/architecture.md'), 'utf8');

  it('draws every package and every part of the relay, with each part’s surface', () => {
    const missing = [
      ...Object.keys(PACKAGES),
      ...Object.keys(RELAY_PARTS).map((part) => `\n  ${part} `),
      ...Object.values(RELAY_PARTS).flatMap((part) =>
        (part.surface ?? []).map((file) => `\`${file.split('/').pop()}\``),
      ),
    ].filter((text) => !page.includes(text));
    expect(missing, 'names docs/architecture.md lacks').toEqual([]);
  });
});
