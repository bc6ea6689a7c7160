/**
 * Docs as tests. Every fenced `ts`, `js` and `sh` block of README.md, docs/*.md and
 * packages/*\/README.md runs as written against the emulator on its documented default,
 * http://127.0.0.1:8080 (account 12/demo/secret), or is marked in the markdown as not
 * runnable, with the reason. The `$ command` transcripts must print what the page shows
 * (task ids and times aside).
 *
 * - ts/js: type-checked strict as modules of this package, then run with node (programs.ts).
 * - sh: bash -e in one scratch folder per page (the reader's terminal: a file one block writes,
 *   the next reads), with this repository's built `sms`, `sms-emulator`, `sms-relay` on PATH,
 *   also through `npx @sms/…` and `pnpm -s …` (shims/).
 * - Each block gets a fresh emulator on 127.0.0.1:8080, unless it starts one itself; a page's
 *   transcripts run after its blocks (in its scratch folder), each from a fresh emulator.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWebhookSecret } from '@sms/core';
import { type Emulator, startEmulator } from '@sms/emulator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DocBlock, docBlocks, docFiles, foreignAddresses, repo } from './docs.js';
import { compile, type Program, programsOf } from './programs.js';
import { environment, run, stopBackground } from './run.js';

const files = docFiles();
const blocksByFile = new Map(files.map((file) => [file, docBlocks(file)]));
const all = [...blocksByFile.values()].flat();
const programsByFile = new Map(
  files.map((file) => [file, programsOf(blocksByFile.get(file) ?? [])]),
);
const programs = [...programsByFile.values()].flatMap((p) => p.programs);

const runs = (block: DocBlock) => !block.marker || block.marker.kind === 'continues';
/** A block that starts the emulator itself (the reader's "in another terminal"). */
const startsEmulator = (code: string) =>
  /(^|[\s;&|(])(pnpm\s+(-s\s+)?sms-emulator|npx\s+@sms\/emulator|sms-emulator)(\s|$)/m.test(code);

let typeErrors: Map<Program, string[]>;
const secret = generateWebhookSecret();

beforeAll(() => {
  typeErrors = compile(programs);
}, 180_000);

describe('markers and addresses', () => {
  test('every ts/js/sh block and transcript runs or its marker says why not', () => {
    const problems = [
      ...all.flatMap((block) => (block.markerError ? [block.markerError] : [])),
      ...[...programsByFile.values()].flatMap((p) => p.errors),
    ];
    expect(problems).toEqual([]);
  });

  test('a runnable block names no address but this machine', () => {
    const foreign = all
      .filter((block) => runs(block) && !block.markerError)
      .flatMap((block) =>
        foreignAddresses(block.code).map((host) => `${block.where}: ${host} (use 127.0.0.1)`),
      );
    expect(foreign).toEqual([]);
  });

  test('the docs have blocks to run', () => {
    expect(programs.length).toBeGreaterThan(5);
    expect(all.filter((b) => b.lang === 'sh' && runs(b)).length).toBeGreaterThan(5);
    expect(all.filter((b) => b.kind === 'transcript' && runs(b)).length).toBeGreaterThan(3);
  });
});

async function emulatorOn8080(): Promise<Emulator> {
  return startEmulator({ port: 8080, host: '127.0.0.1' });
}

/** Task ids and times vary from run to run; nothing else does. */
function normalise(text: string): string {
  return text
    .replace(/\b\d{16,19}\b/g, '<taskId>')
    .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?Z?/g, '<time>')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

for (const file of files) {
  const blocks = blocksByFile.get(file) ?? [];
  const filePrograms = programsByFile.get(file)?.programs ?? [];
  const runnable = blocks.filter((b) => runs(b) && !b.markerError);
  if (runnable.length === 0) continue;

  describe(file, () => {
    let scratch: string;
    let background: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(() => {
      scratch = mkdtempSync(join(tmpdir(), 'sms-docs-'));
      background = join(scratch, '.background');
      mkdirSync(background);
      // The example config docs/relay.md runs from the repository root, and a relay.json
      // beside the code as packages/relay/README.md's snippets read it.
      mkdirSync(join(scratch, 'examples', 'relay'), { recursive: true });
      copyFileSync(
        join(repo, 'examples/relay/relay.json'),
        join(scratch, 'examples/relay/relay.json'),
      );
      copyFileSync(join(repo, 'examples/relay/relay.json'), join(scratch, 'relay.json'));
      env = {
        ...environment(background),
        // examples/relay/relay.json's placeholders, as examples/relay/README.md sets them
        WEBHOOK_URL: 'http://127.0.0.1:3000/hooks/sms',
        WEBHOOK_SECRET: secret,
      };
    });
    afterAll(async () => {
      if (background) await stopBackground(background);
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    for (const block of runnable) {
      if (block.kind !== 'code') continue;
      if (block.lang === 'sh') {
        test(`${block.where} (sh) runs`, async () => {
          const emulator = startsEmulator(block.code) ? undefined : await emulatorOn8080();
          try {
            const trap = `trap 'c=$?; echo "docs-test: ${block.file}:$((${block.line} + LINENO)) exited $c: $BASH_COMMAND" >&2' ERR; `;
            const result = await run('bash', ['-e', '-o', 'pipefail', '-c', trap + block.code], {
              cwd: scratch,
              env,
              // what the reader types at a prompt (`read -rs SMS_PASSWORD`)
              input: 'secret\n',
              timeoutMs: 90_000,
            });
            const { logs, died } = await stopBackground(background);
            if (result.code !== 0) {
              throw new Error(
                `${block.where}: the sh block exited ${result.code ?? result.signal}${result.timedOut ? ' (timed out)' : ''}:\n${result.output}${logs ? `\n[background]\n${logs}` : ''}`,
              );
            }
            if (died.length > 0) {
              throw new Error(
                `${block.where}: a command that runs until Ctrl-C stopped on its own:\n${died.join('\n')}`,
              );
            }
          } finally {
            await stopBackground(background);
            await emulator?.close();
          }
        }, 120_000);
      } else {
        const program = filePrograms.find((p) => p.blocks[0] === block);
        if (!program) continue; // a continuation: runs with its first block
        test(`${program.where} (${block.lang}) type-checks and runs`, async () => {
          const errors = typeErrors.get(program) ?? [];
          if (errors.length > 0)
            throw new Error(`${program.where} does not type-check:\n${errors.join('\n')}`);
          const emulator = await emulatorOn8080();
          try {
            const result = await run('node', [program.main], {
              cwd: scratch,
              env,
              timeoutMs: 90_000,
            });
            if (result.code !== 0) {
              throw new Error(
                `${program.where}: node exited ${result.code ?? result.signal}${result.timedOut ? ' (timed out)' : ''}:\n${result.output}`,
              );
            }
          } finally {
            await emulator.close();
          }
        }, 120_000);
      }
    }

    const transcripts = runnable.filter((b) => b.kind === 'transcript');
    if (transcripts.length > 0) {
      describe('transcripts', () => {
        let emulator: Emulator;
        beforeAll(async () => {
          emulator = await emulatorOn8080();
        });
        afterAll(async () => {
          await emulator?.close();
        });
        for (const block of transcripts) {
          // `$ command` lines, each followed by what it prints
          const steps: { command: string; expected: string[] }[] = [];
          for (const line of block.code.replace(/\n$/, '').split('\n')) {
            if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
            else steps.at(-1)?.expected.push(line);
          }
          test(`${block.where} prints what the page shows: ${steps.map((s) => s.command).join('; ')}`, async () => {
            emulator.reset(); // each transcript starts from the emulator's defaults
            for (const step of steps) {
              const result = await run('bash', ['-c', `exec 2>&1; ${step.command}`], {
                cwd: scratch,
                env,
                timeoutMs: 60_000,
              });
              expect(
                normalise(result.output),
                `${block.where}: \`${step.command}\` printed something else`,
              ).toBe(normalise(step.expected.join('\n')));
            }
          }, 90_000);
        }
      });
    }
  });
}
