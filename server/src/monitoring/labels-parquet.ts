import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { fileLiteral } from '../lake/engine.js';

export type ValueType = 'DOUBLE' | 'BOOLEAN' | 'VARCHAR' | 'INTEGER' | 'TIMESTAMP';
export interface Column {
  name: string;
  type: ValueType;
  values: readonly unknown[];
}

/** The column type JSON values fit: numbers, booleans, or text (mixed values become text). */
export function typeOfValues(values: readonly unknown[]): 'DOUBLE' | 'BOOLEAN' | 'VARCHAR' {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length && present.every((v) => typeof v === 'number')) return 'DOUBLE';
  if (present.length && present.every((v) => typeof v === 'boolean')) return 'BOOLEAN';
  return 'VARCHAR';
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Writes columns of JSON values (equal lengths) to a Parquet file with exactly the given types, by
 * way of newline-delimited JSON that DuckDB reads with those types (no sniffing: "007" stays text).
 */
export async function writeParquet(file: string, columns: Column[]): Promise<void> {
  const json = `${file}.ndjson`;
  try {
    const out = createWriteStream(json);
    const rows = columns[0]?.values.length ?? 0;
    for (let i = 0; i < rows; i++) {
      const row: Record<string, unknown> = {};
      for (const col of columns) {
        const v = col.values[i] ?? null;
        row[col.name] = v === null || col.type !== 'VARCHAR' ? v : String(v);
      }
      if (!out.write(`${JSON.stringify(row)}\n`)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'close');
    const types = columns.map((col) => `${sqlString(col.name)}: ${sqlString(col.type)}`).join(', ');
    await withDuckDB((c) =>
      c.run(
        `COPY (SELECT * FROM read_json(${fileLiteral(json)}, format = 'newline_delimited', columns = {${types}})) TO ${fileLiteral(file)} (FORMAT parquet)`,
      ),
    );
  } finally {
    await rm(json, { force: true });
  }
}

/** A private in-memory DuckDB for one piece of file work, closed after it. */
export async function withDuckDB<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const c = await db.connect();
  try {
    return await fn(c);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
