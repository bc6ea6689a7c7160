import { describe, expect, it } from 'vitest';
import { formatResultRow, neutralizeCell, restoreCell } from './results.js';

describe('results CSV: no formulas from the input or the platform', () => {
  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1'])('%j starts with a quote', (cell) => {
    expect(neutralizeCell(cell)).toBe(`'${cell}`);
  });

  it('leaves ordinary cells alone and still quotes for CSV', () => {
    expect(neutralizeCell('13800138000')).toBe('13800138000');
    expect(neutralizeCell('a=b')).toBe('a=b');
    expect(
      formatResultRow({
        mobile: '=HYPERLINK("http://evil.example","x")',
        status: 'invalid',
        errorCode: 'VALIDATION',
        detail: '\r=cmd|"/c calc"!A1',
      }),
    ).toBe(
      `"'=HYPERLINK(""http://evil.example"",""x"")",invalid,,VALIDATION,,"'\r=cmd|""/c calc""!A1",,`,
    );
  });

  it('names the source CSV and line last, and reads a guarded cell back as it was', () => {
    expect(
      formatResultRow({
        mobile: '13800138000',
        status: 'failed',
        chunk: 2,
        line: 4,
        source: '-in.csv',
      }),
    ).toBe("13800138000,failed,,,2,,4,'-in.csv");
    expect(restoreCell("'-in.csv")).toBe('-in.csv');
    expect(restoreCell("'quoted")).toBe("'quoted");
  });
});
