import { invalid } from '../errors.js';

type JsonType = 'number' | 'string' | 'boolean' | 'null' | 'object' | 'array';

export interface InputSchema {
  fields: Map<string, JsonType>;
}

const typeOf = (v: unknown): JsonType => (v === null ? 'null' : Array.isArray(v) ? 'array' : (typeof v as JsonType));

/** The rows of a request in any accepted shape: an object, records, {"Input": …} or MLflow's keys. */
export function rowsOf(payload: unknown): Record<string, unknown>[] | undefined {
  if (Array.isArray(payload)) return payload.every((r) => typeOf(r) === 'object') ? (payload as Record<string, unknown>[]) : undefined;
  if (typeOf(payload) !== 'object') return undefined;
  const p = payload as Record<string, unknown>;
  if (typeOf(p.dataframe_split) === 'object') {
    const split = p.dataframe_split as { columns?: unknown; data?: unknown };
    if (!Array.isArray(split.columns) || !Array.isArray(split.data)) return undefined;
    const columns = split.columns as string[];
    return (split.data as unknown[]).map((row) => Object.fromEntries(columns.map((c, i) => [c, Array.isArray(row) ? row[i] : undefined])));
  }
  for (const key of ['dataframe_records', 'instances', 'inputs', 'Input']) if (key in p) return rowsOf(p[key]);
  return [p];
}

/** Field names and JSON types from the sample the deployment was created with; undefined when it has no rows. */
export function schemaFromSample(sample: unknown): InputSchema | undefined {
  const rows = rowsOf(sample);
  if (!rows?.length) return undefined;
  return { fields: new Map(Object.entries(rows[0]!).map(([k, v]) => [k, typeOf(v)])) };
}

/** Every row has every field of the sample, with the same JSON type (null allowed); 400 naming the first that does not. */
export function checkInput(schema: InputSchema, payload: unknown): void {
  const rows = rowsOf(payload);
  if (!rows)
    throw invalid('The input must be a JSON object, a list of records, {"Input": …}, or MLflow\'s dataframe_split / dataframe_records / instances / inputs.');
  if (rows.length === 0) throw invalid('The input has no rows.');
  rows.forEach((row, i) => {
    for (const [field, type] of schema.fields) {
      if (!(field in row)) throw invalid(`Row ${i}: field "${field}" is missing (the schema expects ${[...schema.fields.keys()].join(', ')}).`);
      const got = typeOf(row[field]);
      if (got !== type && got !== 'null' && type !== 'null')
        throw invalid(`Row ${i}: field "${field}" should be ${article(type)} ${type}, not ${article(got)} ${got}.`);
    }
  });
}

const article = (t: string) => (/^[aeiou]/.test(t) ? 'an' : 'a');
