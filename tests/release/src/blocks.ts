/** Code blocks of a markdown file, as a reader copies them. */
import { readFileSync } from 'node:fs';

export interface Block {
  lang: string;
  code: string;
  /** The line of the opening fence, 1-based. */
  line: number;
}

export function codeBlocks(file: string): Block[] {
  const blocks: Block[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  let open: { lang: string; line: number; code: string[] } | undefined;
  for (const [index, text] of lines.entries()) {
    const fence = /^```(\S*)\s*$/.exec(text);
    if (!open && fence) {
      open = { lang: fence[1] ?? '', line: index + 1, code: [] };
    } else if (open && text.trim() === '```') {
      blocks.push({ lang: open.lang, line: open.line, code: `${open.code.join('\n')}\n` });
      open = undefined;
    } else if (open) {
      open.code.push(text);
    }
  }
  return blocks;
}

/** The first TypeScript or JavaScript example of a README. */
export function firstExample(file: string): Block {
  const block = codeBlocks(file).find((b) => ['ts', 'typescript', 'js', 'mjs'].includes(b.lang));
  if (!block) throw new Error(`${file} has no ts or js example`);
  return block;
}
