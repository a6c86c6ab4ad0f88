// An MLflow model's input example as a table, when it is tabular: pandas "split" ({columns, data}),
// "records" ([{…}, …]), either wrapped as MLflow's serving input does (dataframe_split,
// dataframe_records), or a plain list of rows. Tensors and anything else stay JSON text.

export interface ExampleTable {
  header: string[];
  rows: string[][];
}

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function fromSplit(v: Record<string, unknown>): ExampleTable | null {
  if (!Array.isArray(v.data) || !v.data.every(Array.isArray)) return null;
  const rows = v.data as unknown[][];
  const width = Math.max(0, ...rows.map((r) => r.length));
  const header = Array.isArray(v.columns) ? v.columns.map(cell) : Array.from({ length: width }, (_c, i) => String(i));
  return { header, rows: rows.map((r) => r.map(cell)) };
}

function fromRecords(v: unknown[]): ExampleTable | null {
  if (v.length === 0) return null;
  if (v.every(isRecord)) {
    const header = [...new Set(v.flatMap((r) => Object.keys(r)))];
    return { header, rows: v.map((r) => header.map((h) => cell(r[h]))) };
  }
  if (v.every(Array.isArray)) return fromSplit({ data: v });
  return null;
}

export function exampleTable(value: unknown): ExampleTable | null {
  if (Array.isArray(value)) return fromRecords(value);
  if (!isRecord(value)) return null;
  if (isRecord(value.dataframe_split)) return fromSplit(value.dataframe_split);
  if (Array.isArray(value.dataframe_records)) return fromRecords(value.dataframe_records);
  if ('data' in value) return fromSplit(value);
  return null;
}
