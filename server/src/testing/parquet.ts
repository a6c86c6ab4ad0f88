import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** Runs `fn` with an in-memory DuckDB and a file path in a fresh temporary folder, then removes both. */
async function withScratch<T>(fn: (run: (sql: string) => Promise<Record<string, unknown>[]>, file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'forja-pq-'));
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    return await fn(async (sql) => (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[], path.join(dir, 'x.parquet'));
  } finally {
    c.closeSync();
    db.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Parquet bytes made by DuckDB from a SELECT, as pandas/pyarrow would send them. */
export function parquetOf(select: string): Promise<Uint8Array<ArrayBuffer>> {
  return withScratch(async (run, file) => {
    await run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
    return new Uint8Array(await readFile(file));
  });
}

/** The rows of Parquet bytes (as JSON values), read by DuckDB. */
export function parquetRows(bytes: ArrayBuffer | Uint8Array): Promise<Record<string, unknown>[]> {
  return withScratch(async (run, file) => {
    await writeFile(file, Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)));
    return run(`SELECT * FROM read_parquet('${file}')`);
  });
}
