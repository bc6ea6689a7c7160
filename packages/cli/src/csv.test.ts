import { describe, expect, it } from 'vitest';
import {
  parseCsv,
  parseCsvRows,
  readCsvRows,
  readRecipients,
  readRecipientsFrom,
  renderTemplate,
  templateFields,
} from './csv.js';

/** The text as a stream cut into `size`-byte chunks (cuts inside CRLF, quotes and UTF-8 too). */
async function* chunked(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

describe('parseCsv', () => {
  it('reads quotes, doubled quotes, embedded commas and newlines, CRLF and a BOM', () => {
    const text = '\uFEFFmobile,note\r\n13800138000,"a, b"\r\n13900139000,"say ""hi""\nthen go"\r\n';
    expect(parseCsv(text)).toEqual([
      ['mobile', 'note'],
      ['13800138000', 'a, b'],
      ['13900139000', 'say "hi"\nthen go'],
    ]);
  });

  it('skips blank lines, keeps a last line without newline, accepts ; and tab separators', () => {
    expect(parseCsv('a,b\n\n1,2')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(parseCsv('mobile;name\n13800138000;Li\n')).toEqual([
      ['mobile', 'name'],
      ['13800138000', 'Li'],
    ]);
    expect(parseCsv('mobile\tname\n13800138000\tLi\n')[1]).toEqual(['13800138000', 'Li']);
  });

  it('refuses an unclosed quote', () => {
    expect(() => parseCsv('mobile\n"13800138000\n')).toThrow(/not closed/);
  });

  it('keeps a stray quote inside a field as a character, like spreadsheets write it', () => {
    expect(parseCsv('mobile,item\n13800138000,5" screen\n')[1]).toEqual([
      '13800138000',
      '5" screen',
    ]);
  });
});

describe('CSV line numbers', () => {
  it('gives each row the file line it starts on, counting quoted line breaks, CRLF once and blank lines', () => {
    const text =
      '\uFEFFmobile,note\r\n13800138000,"a\r\nb"\r\n\r\n12345,x\r\n13900139000,"c\nd\ne"\n,\n13700137000,y';
    expect(parseCsvRows(text).map((row) => [row.line, row.cells[0]])).toEqual([
      [1, 'mobile'],
      [2, '13800138000'],
      [5, '12345'],
      [6, '13900139000'],
      [10, '13700137000'],
    ]);
  });

  it('names file line 4 for a bad number after a quoted two-line field (it said line 2)', () => {
    const table = readRecipients('mobile,note\n13800138000,"two\nlines"\n12345,x\n');
    expect(table.recipients.map((r) => [r.line, r.valid])).toEqual([
      [2, true],
      [4, false],
    ]);
  });

  it('names the line where an unclosed quote opens', () => {
    expect(() => parseCsv('mobile\n13800138000\n"13900139000\n13700137000\n')).toThrow(
      'CSV line 3: a quoted field is not closed',
    );
  });
});

describe('readCsvRows (streamed)', () => {
  const text =
    '\uFEFF手机号;备注\r\n13800138000;"多行\r\n备注"\r\n\r\n12345;"say ""hi"""\r\n13900139000;末行';

  it('gives the rows and lines of the string parser, however the bytes are cut', async () => {
    const expected = parseCsvRows(text);
    expect(expected.map((row) => row.line)).toEqual([1, 2, 5, 6]);
    expect(expected[1]!.cells).toEqual(['13800138000', '多行\r\n备注']);
    expect(expected[2]!.cells).toEqual(['12345', 'say "hi"']);
    for (const size of [1, 2, 3, 7, 64, 1 << 16])
      expect(await collect(readCsvRows(chunked(text, size)))).toEqual(expected);
  });

  it('detects the separator from a header line that arrives in pieces', async () => {
    const rows = await collect(readCsvRows(chunked('mobile\tname\n13800138000\tLi\n', 2)));
    expect(rows[1]!.cells).toEqual(['13800138000', 'Li']);
  });

  it('hands out rows before the source has ended (a large file is never one string)', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let ended = false;
    async function* source(): AsyncGenerator<string> {
      // The parser looks one byte past a line break (CRLF or not?) before ending a row.
      yield 'mobile,name\n13800138000,Li\n139';
      await held;
      yield '00139000,Wang\n';
      ended = true;
    }
    const rows = readCsvRows(source());
    expect((await rows.next()).value).toEqual({ line: 1, cells: ['mobile', 'name'] });
    expect((await rows.next()).value).toEqual({ line: 2, cells: ['13800138000', 'Li'] });
    expect(ended).toBe(false);
    release();
    expect((await rows.next()).value).toEqual({ line: 3, cells: ['13900139000', 'Wang'] });
    expect((await rows.next()).done).toBe(true);
    expect(ended).toBe(true);
  });

  it('stops reading the source when a row is refused', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<string> {
      try {
        yield 'mobile\n13800138000\n"unclosed\n';
        for (;;) yield 'x'.repeat(1024);
      } finally {
        closed = true;
      }
    }
    await expect(collect(readCsvRows(source()))).rejects.toThrow(
      /CSV line 3: a row is longer than/,
    );
    expect(closed).toBe(true);
  });

  it('readRecipientsFrom reads the same table as readRecipients', async () => {
    const csv = 'name,手机号\nLi,+86 138-0013-8000\nWang,"12\n345"\n';
    expect(await readRecipientsFrom(chunked(csv, 5))).toEqual(readRecipients(csv));
  });
});

describe('readRecipients', () => {
  it('finds the mobile column by name, wherever it is, and normalises numbers', () => {
    const table = readRecipients('name,手机号\nLi,+86 138-0013-8000\nWang,12345\n');
    expect(table.mobileColumn).toBe('手机号');
    expect(table.recipients.map((r) => [r.mobile, r.valid, r.fields['name']])).toEqual([
      ['13800138000', true, 'Li'],
      ['12345', false, 'Wang'],
    ]);
  });

  it('uses the first column of a header without a mobile column', () => {
    const table = readRecipients('tel_no,name\n13800138000,Li\n');
    expect(table.hasHeader).toBe(true);
    expect(table.recipients[0]!.mobile).toBe('13800138000');
  });

  it('treats a first row holding a valid number as data (no header)', () => {
    const table = readRecipients('13800138000,Li\n13900139000,Wang\n');
    expect(table.hasHeader).toBe(false);
    expect(table.columns).toEqual(['col1', 'col2']);
    expect(table.recipients).toHaveLength(2);
  });

  it('honours --mobile-column and refuses a missing or duplicated column', () => {
    expect(
      readRecipients('a,b\nx,13800138000\n', { mobileColumn: 'B' }).recipients[0]!.mobile,
    ).toBe('13800138000');
    expect(() => readRecipients('a,b\n', { mobileColumn: 'c' })).toThrow(/no column "c"/);
    expect(() => readRecipients('mobile,name,name\n13800138000,a,b\n')).toThrow(/twice/);
  });
});

describe('templates', () => {
  it('fills {fields}, trims names, and keeps {{ }} as literal braces', () => {
    expect(renderTemplate('【A】Hi { name }, code {{{code}}}', { name: 'Li', code: '42' })).toBe(
      '【A】Hi Li, code {42}',
    );
    expect(templateFields('{a} {b} {a} {{c}}')).toEqual(['a', 'b']);
  });

  it('refuses an unknown field instead of sending the braces', () => {
    expect(() => renderTemplate('Hi {nme}', { name: 'Li' })).toThrow(/no CSV column "nme"/);
  });
});
