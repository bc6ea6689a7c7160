import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { maskSecrets } from '@sms/core';
import { spellings } from './test-utils/spellings.js';

describe('maskSecrets', () => {
  const secrets = ['Top Secret&99', '密码 "x"\\y+1', 'Abc%41', 'plain-Secret_1'];

  it.each(secrets)('masks every spelling of %s, in text and inside JSON', (secret) => {
    for (const spelled of spellings(secret)) {
      const text = `password=${spelled}&account=demo`;
      expect(maskSecrets(text, [secret]), spelled).toBe('password=***&account=demo');
      // printJson escapes what it prints once more (a JSON-escaped echo twice: not covered).
      if (spelled !== secret && spelled.includes('\\')) continue;
      const json = JSON.stringify({ excerpt: text });
      expect(maskSecrets(json, [secret]), spelled).not.toContain(
        JSON.stringify(spelled).slice(1, -1),
      );
    }
  });

  it('masks the form the CLI was reported printing: Top%20Secret%2699', () => {
    expect(maskSecrets('password=Top%20Secret%2699', ['Top Secret&99'])).toBe('password=***');
    expect(maskSecrets('password=Top%20Secret%2699', ['Top Secret&99'])).not.toContain('Secret');
  });

  it('masks mixed-case hex and partly encoded forms', () => {
    expect(maskSecrets('Top%20Secret%2699 Top Secret%26%39%39', ['Top Secret&99'])).toBe('*** ***');
    expect(maskSecrets('Top%20Secret%2f', ['Top Secret/'])).toBe('***');
  });

  it('masks the start of a secret where an excerpt was cut off', () => {
    for (const cut of ['Top%20Sec…', 'Top%2…', 'Top%20Secret%26…', 'Top…', 'Top Secret&am…']) {
      expect(maskSecrets(`<p>password=${cut}`, ['Top Secret&99']), cut).toBe('<p>password=***…');
    }
    for (const cut of ['Top%20Secret%26%E5%A…', 'Top%20Secret%26%C3%…', 'Top Secret&密…']) {
      expect(maskSecrets(`password=${cut}`, ['Top Secret&密99']), cut).toBe('password=***…');
    }
    // Not followed by the cut mark: ordinary text.
    expect(maskSecrets('Top of the page', ['Top Secret&99'])).toBe('Top of the page');
  });

  it('stays linear on a long hostile text', () => {
    const text = `${'Top%20Sec'.repeat(20_000)}x`;
    const started = performance.now();
    maskSecrets(text, ['Top Secret&99']);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('SMS_DEBUG stacks', () => {
  it('an internal error that holds the encoded password prints its stack masked', async () => {
    const { run } = await import('./run.js');
    let printed = '';
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        printed += String(chunk);
        callback();
      },
    });
    const code = await run(['balance'], {
      stdin: Readable.from([]),
      stdout: sink,
      stderr: sink,
      env: {
        SMS_BASE_URL: 'http://127.0.0.1:1',
        SMS_ACCOUNT: 'acme',
        SMS_PASSWORD: 'Top Secret&99',
        SMS_DEBUG: '1',
      },
      cwd: process.cwd(),
      createClient: () => {
        throw new Error('echo: password=Top%20Secret%2699 / Top+Secret%2699');
      },
    });
    expect(code).toBe(1);
    expect(printed).toContain('at ');
    expect(printed).toContain('password=***');
    expect(printed).not.toMatch(/Secret/);
  });
});
