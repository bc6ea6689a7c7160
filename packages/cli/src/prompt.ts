import { CliError, ExitCode } from './exit.js';

export interface TtyInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?: (mode: boolean) => unknown;
}

/**
 * Asks for a secret on a terminal without echoing it. Raw mode, so we see every key:
 * Enter finishes, Backspace edits, Ctrl-C aborts (exit 130), Ctrl-D on an empty line aborts.
 */
export function promptHidden(
  question: string,
  input: TtyInput,
  output: NodeJS.WritableStream,
): Promise<string> {
  if (!input.isTTY || typeof input.setRawMode !== 'function') {
    return Promise.reject(new CliError('cannot prompt: stdin is not a terminal'));
  }
  const setRawMode = input.setRawMode.bind(input);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: Error) => {
      input.removeListener('data', onData);
      setRawMode(false);
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string | Buffer) => {
      for (const char of String(chunk)) {
        if (char === '\r' || char === '\n') return finish();
        if (char === '\u0003') {
          return finish(
            new CliError('interrupted', { exitCode: ExitCode.INTERRUPTED, code: 'INTERRUPTED' }),
          );
        }
        if (char === '\u0004') {
          if (value === '') return finish(new CliError('no password entered'));
          return finish();
        }
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('');
        else if (char >= ' ') value += char;
      }
    };
    // Raw mode before the question appears: nothing typed after it can be echoed.
    setRawMode(true);
    output.write(question);
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
  });
}

/** Reads stdin to its end once and hands out its lines (for --password-stdin and friends). */
export class StdinLines {
  #lines: Promise<string[]> | undefined;
  #next = 0;

  constructor(private readonly input: NodeJS.ReadableStream) {}

  async next(what: string): Promise<string> {
    this.#lines ??= readAll(this.input).then((text) => text.split(/\r?\n/));
    const lines = await this.#lines;
    const line = lines[this.#next++];
    if (line === undefined || line === '') throw new CliError(`${what}: stdin has no line for it`);
    return line;
  }
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of input)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
