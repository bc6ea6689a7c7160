/**
 * What the docs hold: every fenced block a reader would run (`ts`, `js`, `sh`) and every
 * transcript (a block whose first line is `$ command`), with the marker above it, if any.
 *
 * A block that cannot run says so in the markdown, on the line right above its fence:
 *   <!-- docs-test: skip (the reason) -->          not run; the reason is required
 *   <!-- docs-test: continues the block above -->  joined to the previous ts/js block (one program)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type Block, codeBlocks } from '../../release/src/blocks.js';

export const repo = join(import.meta.dirname, '..', '..', '..');

export const RUNNABLE = ['ts', 'js', 'sh'] as const;
export type Lang = (typeof RUNNABLE)[number];

export interface DocBlock extends Block {
  /** The markdown file, relative to the repository root. */
  file: string;
  /** `docs/cli.md:142`: the opening fence, for messages. */
  where: string;
  kind: 'code' | 'transcript';
  marker?: { kind: 'skip'; reason: string } | { kind: 'continues' };
  /** A marker line that does not parse, or a skip without a reason. */
  markerError?: string;
}

/** README.md, docs/*.md and packages/*\/README.md, in that order. */
export function docFiles(): string[] {
  const files = ['README.md'];
  for (const name of readdirSync(join(repo, 'docs')).sort()) {
    if (name.endsWith('.md')) files.push(`docs/${name}`);
  }
  for (const name of readdirSync(join(repo, 'packages')).sort()) {
    try {
      readFileSync(join(repo, 'packages', name, 'README.md'));
      files.push(`packages/${name}/README.md`);
    } catch {
      // a folder without a README
    }
  }
  return files;
}

const MARKER = /^<!--\s*docs-test:(.*?)-->\s*$/;

/** The blocks of one file the test looks at: runnable languages and transcripts. */
export function docBlocks(file: string): DocBlock[] {
  const path = join(repo, file);
  const lines = readFileSync(path, 'utf8').split('\n');
  const found: DocBlock[] = [];
  for (const block of codeBlocks(path)) {
    const transcript = block.code.startsWith('$ ');
    const runnable = (RUNNABLE as readonly string[]).includes(block.lang);
    if (!runnable && !transcript) continue;
    const doc: DocBlock = {
      ...block,
      file: relative(repo, path),
      where: `${file}:${block.line}`,
      kind: runnable ? 'code' : 'transcript',
    };
    const above = lines[block.line - 2] ?? '';
    const marker = MARKER.exec(above.trim());
    if (marker) {
      const text = (marker[1] ?? '').trim();
      const skip = /^skip\s*(?:\((.*)\))?$/.exec(text);
      if (skip) {
        const reason = (skip[1] ?? '').trim();
        if (reason) doc.marker = { kind: 'skip', reason };
        else doc.markerError = `${doc.where}: "docs-test: skip" needs a reason: skip (why)`;
      } else if (text === 'continues the block above') {
        doc.marker = { kind: 'continues' };
      } else {
        doc.markerError = `${doc.where}: unknown docs-test marker "${text}" (skip (why) or continues the block above)`;
      }
    } else if (above.includes('docs-test')) {
      doc.markerError = `${doc.where}: a docs-test marker must be one line: <!-- docs-test: … -->`;
    }
    found.push(doc);
  }
  return found;
}

/** Host parts of the addresses in a block that are not this machine's. */
export function foreignAddresses(code: string): string[] {
  const hosts = new Set<string>();
  for (const match of code.matchAll(
    /\b[a-z][a-z0-9+.-]*:\/\/(?:[^@/\s'"`]*@)?([^/:\s'"`?#)]+)/gi,
  )) {
    hosts.add(match[1] ?? '');
  }
  for (const match of code.matchAll(/(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(?![\d.])/g)) {
    hosts.add(match[1] ?? '');
  }
  // `http://IP:8888` in a comment is a placeholder, not an address.
  return [...hosts].filter(
    (host) => !['127.0.0.1', 'localhost', '[::1]'].includes(host) && !/^[A-Z]+$/.test(host),
  );
}
