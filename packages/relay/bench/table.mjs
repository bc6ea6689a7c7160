// The benches' tables: a header and right-aligned columns, one row per object.
export function table(rows) {
  const columns = Object.keys(rows[0]);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => cells.map((cell, i) => String(cell).padStart(widths[i])).join('  ');
  return [line(columns), ...rows.map((r) => line(columns.map((c) => r[c])))].join('\n');
}
