import { describe, expect, it } from 'vitest';
import { parseCsv, readRecipients, renderTemplate, templateFields } from './csv.js';

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
