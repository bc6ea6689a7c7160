/**
 * The ts/js blocks as programs: each block (with the blocks marked as continuing it) becomes one
 * module inside this package, so `@sms/*` resolves from the workspace as from an app that installed
 * them. All of them are type-checked strict in one TypeScript program and emitted to JavaScript
 * that node runs. A block that only declares a Nest module (`export class AppModule`) gets a
 * bootstrap beside it that creates the application context and closes it again.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import type { DocBlock } from './docs.js';

export const work = join(import.meta.dirname, '..', '.tmp');
const sources = join(work, 'blocks');
const out = join(work, 'out');

export interface Program {
  /** The first block; the others continue it. */
  blocks: DocBlock[];
  /** `docs/sending.md:3`, plus `+ :41` for each continuation. */
  where: string;
  source: string;
  /** The JavaScript file node runs. */
  main: string;
  /** Where each block starts in the source (0-based line). */
  starts: number[];
}

/** Group the runnable ts/js blocks of one file into programs (continuations joined). */
export function programsOf(blocks: DocBlock[]): { programs: Program[]; errors: string[] } {
  const programs: Program[] = [];
  const errors: string[] = [];
  for (const block of blocks) {
    if (block.kind !== 'code' || !['ts', 'js'].includes(block.lang)) continue;
    if (block.marker?.kind === 'skip' || block.markerError) continue;
    const last = programs.at(-1);
    if (block.marker?.kind === 'continues') {
      if (!last || last.blocks[0]?.file !== block.file) {
        errors.push(
          `${block.where}: "continues the block above" but no runnable block comes before it`,
        );
        continue;
      }
      last.blocks.push(block);
      last.where += ` + :${block.line}`;
      continue;
    }
    const name = `${block.file.replace(/[^a-z0-9]+/gi, '_')}_L${block.line}`;
    const ext = block.lang === 'js' ? 'js' : 'ts';
    programs.push({
      blocks: [block],
      where: block.where,
      source: join(sources, `${name}.${ext}`),
      main: join(out, `${name}.js`),
      starts: [],
    });
  }
  return { programs, errors };
}

function bootstrap(program: Program, code: string): string | undefined {
  const module = /export class (\w*Module)\b/.exec(code)?.[1];
  if (!module || !code.includes('@Module(')) return undefined;
  const base = program.source
    .replace(/\.[jt]s$/, '')
    .split('/')
    .at(-1);
  return [
    `// The block only declares ${module}: start it as an app would, then stop it.`,
    `import 'reflect-metadata';`,
    `import { NestFactory } from '@nestjs/core';`,
    `import { ${module} } from './${base}.js';`,
    `const app = await NestFactory.createApplicationContext(${module}, { logger: ['error', 'warn'] });`,
    `app.enableShutdownHooks();`,
    `await app.close();`,
    '',
  ].join('\n');
}

const options: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  types: ['node'],
  strict: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  esModuleInterop: true,
  skipLibCheck: true,
  // Nest's parameter decorators (`@Inject(SmsClient)` in a constructor) are legacy decorators.
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  allowJs: true,
  checkJs: true,
  rootDir: sources,
  outDir: out,
  noEmitOnError: false,
};

/**
 * Write, type-check and emit every program. Returns each program's type errors, each naming
 * the markdown file and line the error is on.
 */
export function compile(programs: Program[]): Map<Program, string[]> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(sources, { recursive: true });
  // notifme-sdk ships no types: a JavaScript app does without them, and so does its check here.
  const untyped = join(sources, 'untyped-packages.d.ts');
  writeFileSync(untyped, "declare module 'notifme-sdk';\n");
  const files: string[] = [untyped];
  for (const program of programs) {
    let code = '';
    program.starts = [];
    for (const block of program.blocks) {
      program.starts.push(code.split('\n').length - 1);
      code += block.code;
    }
    writeFileSync(program.source, code);
    files.push(program.source);
    const boot = bootstrap(program, code);
    if (boot) {
      const bootSource = program.source.replace(/\.[jt]s$/, '.main.ts');
      writeFileSync(bootSource, boot);
      files.push(bootSource);
      program.main = program.main.replace(/\.js$/, '.main.js');
    }
  }
  // A package.json of "type": "module" above the files is this package's own.
  const host = ts.createCompilerHost(options);
  const tsProgram = ts.createProgram(files, options, host);
  const emitted = tsProgram.emit();
  const diagnostics = [...ts.getPreEmitDiagnostics(tsProgram), ...emitted.diagnostics];
  const errors = new Map<Program, string[]>(programs.map((p) => [p, []]));
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const file = diagnostic.file?.fileName;
    const program = programs.find(
      (p) => file === p.source || file === p.source.replace(/\.[jt]s$/, '.main.ts'),
    );
    if (!program) {
      // Not in a block (a library's types): every program shares the blame.
      for (const list of errors.values()) list.push(`TS${diagnostic.code}: ${message}`);
      continue;
    }
    const line =
      diagnostic.file && diagnostic.start !== undefined
        ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line
        : 0;
    errors
      .get(program)
      ?.push(`${locate(program, line, file !== program.source)}: TS${diagnostic.code}: ${message}`);
  }
  return errors;
}

/** The markdown file and line of a line of a program's source (0-based). */
export function locate(program: Program, line: number, inBootstrap = false): string {
  if (inBootstrap) return `${program.where} (its bootstrap, line ${line + 1})`;
  let index = 0;
  for (const [i, start] of program.starts.entries()) if (line >= start) index = i;
  const block = program.blocks[index] ?? program.blocks[0];
  if (!block) return program.where;
  // The code starts on the line after the fence.
  return `${block.file}:${block.line + 1 + line - (program.starts[index] ?? 0)}`;
}
