// The test form of a deployment is generated from its schema sample, the input the build's test
// call was made with. The server accepts the same shapes as here (server/src/deployments/schema-check.ts).

export type FieldKind = 'number' | 'string' | 'boolean' | 'json';
export interface SampleField {
  name: string;
  kind: FieldKind;
  /** The sample's value, the form's starting value. */
  initial: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const WRAPPERS = ['dataframe_records', 'instances', 'inputs', 'Input'] as const;

/** The first row of a sample in any accepted shape: an object, records, {"Input": …} or MLflow's keys. */
export function firstRow(sample: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(sample)) return isRecord(sample[0]) ? sample[0] : undefined;
  if (!isRecord(sample)) return undefined;
  const split = sample.dataframe_split;
  if (isRecord(split)) {
    const { columns, data } = split;
    if (!Array.isArray(columns) || !Array.isArray(data) || !Array.isArray(data[0])) return undefined;
    const row = data[0] as unknown[];
    return Object.fromEntries(columns.map((c, i) => [String(c), row[i]]));
  }
  for (const key of WRAPPERS) if (key in sample) return firstRow(sample[key]);
  return sample;
}

export function fieldsOf(sample: unknown): SampleField[] {
  const row = firstRow(sample);
  if (!row) return [];
  return Object.entries(row).map(([name, v]) => ({
    name,
    initial: v,
    kind: typeof v === 'number' ? 'number' : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'boolean' : 'json',
  }));
}

/** `row` in the sample's own shape (the scorer was tested with that shape), as one row. */
export function shapeLike(sample: unknown, row: Record<string, unknown>): unknown {
  if (Array.isArray(sample)) return [row];
  if (!isRecord(sample)) return row;
  const split = sample.dataframe_split;
  if (isRecord(split) && Array.isArray(split.columns)) {
    const columns = split.columns.map(String);
    return { ...sample, dataframe_split: { ...split, columns, data: [columns.map((c) => row[c] ?? null)] } };
  }
  for (const key of WRAPPERS) if (key in sample) return { ...sample, [key]: shapeLike(sample[key], row) };
  return row;
}

/** A form value as text, for the inputs. */
export function initialText(field: SampleField): string {
  if (field.kind === 'number' || field.kind === 'string') return String(field.initial);
  if (field.kind === 'boolean') return field.initial ? 'true' : 'false';
  return JSON.stringify(field.initial);
}

/** The typed value of a field's text; throws with the field's name when it cannot be read. */
export function fieldValue(field: SampleField, text: string): unknown {
  switch (field.kind) {
    case 'number': {
      // An empty number is sent as null, which the server's schema check lets through to the model.
      if (text.trim() === '') return null;
      const n = Number(text);
      if (!Number.isFinite(n)) throw new Error(`Field "${field.name}" is not a number.`);
      return n;
    }
    case 'string':
      return text;
    case 'boolean':
      return text === 'true';
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new Error(`Field "${field.name}" must be JSON (e.g. null, [1, 2] or {"a": 1}).`);
      }
  }
}
