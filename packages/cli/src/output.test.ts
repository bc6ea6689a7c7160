import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SmsError } from '@sms/core';
import { displayWidth, Output, renderTable, shouldColor } from './output.js';
import { renderProgress } from './progress.js';

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      text += String(chunk);
      callback();
    },
  });
  return { stream, text: () => text };
}

describe('tables', () => {
  it('aligns columns by terminal width, counting CJK characters double', () => {
    expect(displayWidth('短信ab')).toBe(6);
    expect(displayWidth('\x1b[32mok\x1b[39m')).toBe(2);
    const table = renderTable(
      [
        { a: '退订', b: '1' },
        { a: 'stop', b: '22' },
      ],
      [
        { header: 'content', value: (r) => r.a },
        { header: 'n', value: (r) => r.b, align: 'right' },
      ],
    );
    expect(table).toBe('content   n\n退订      1\nstop     22\n');
  });
});

describe('colour', () => {
  it('only on a TTY, never with NO_COLOR, always with FORCE_COLOR', () => {
    expect(shouldColor({ isTTY: true }, {})).toBe(true);
    expect(shouldColor({ isTTY: false }, {})).toBe(false);
    expect(shouldColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(shouldColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(shouldColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
});

describe('Output', () => {
  it('masks known secrets everywhere, errors included', () => {
    const out = sink();
    const err = sink();
    const output = new Output({
      stdout: out.stream,
      stderr: err.stream,
      json: false,
      color: false,
      colorErr: false,
    });
    output.addSecret('Hunter2-Secret');
    output.print('password is Hunter2-Secret');
    output.error(
      new SmsError('echo Hunter2-Secret', {
        code: 'AUTH_FAILED',
        platformMessage: 'x Hunter2-Secret',
      }),
      3,
    );
    expect(out.text() + err.text()).not.toContain('Hunter2-Secret');
    expect(out.text()).toContain('***');
  });

  it('writes errors as one JSON document on stdout with --json', () => {
    const out = sink();
    const err = sink();
    const output = new Output({
      stdout: out.stream,
      stderr: err.stream,
      json: true,
      color: false,
      colorErr: false,
    });
    output.error(new SmsError('refused', { code: 'ILLEGAL_KEYWORD', words: ['赌博'] }), 3);
    expect(JSON.parse(out.text())).toMatchObject({
      ok: false,
      exitCode: 3,
      error: { code: 'ILLEGAL_KEYWORD', words: ['赌博'] },
    });
    expect(err.text()).toBe('');
  });
});

describe('renderProgress', () => {
  it('fits the terminal and shows counts', () => {
    const line = renderProgress(
      { chunksDone: 1, chunksTotal: 4, numbersDone: 250, numbersTotal: 1000, failed: 0 },
      80,
      3200,
    );
    expect(line).toMatch(/^\[#+\.+\]\s+25%\s+250\/1000 numbers\s+1\/4 chunks\s+0 failed\s+3s$/);
    expect(line.length).toBeLessThan(80);
    expect(
      renderProgress(
        { chunksDone: 0, chunksTotal: 1, numbersDone: 0, numbersTotal: 1, failed: 0 },
        30,
        0,
      ).length,
    ).toBeLessThan(30);
  });
});
