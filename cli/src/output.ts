/** Prints rows as an aligned table, or as JSON with --json. */
export function printList<T extends object>(rows: T[], columns: { header: string; value: (row: T) => unknown }[], json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cells = rows.map((r) => columns.map((c) => format(c.value(r))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write([line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n');
}

export function printObject(value: unknown, json: boolean): void {
  if (json || typeof value !== 'object' || value === null) {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    return;
  }
  const entries = Object.entries(value);
  const width = Math.max(...entries.map(([k]) => k.length));
  for (const [k, v] of entries) process.stdout.write(`${k.padEnd(width)}  ${format(v)}\n`);
}

function format(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number' && value > 1e12 && value < 1e13) return new Date(value).toISOString().replace('.000Z', 'Z');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
