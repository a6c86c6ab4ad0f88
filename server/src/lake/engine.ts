import type { LakeColumn } from '@forja/contracts';
import { invalid } from '../errors.js';

/** A connection inside one engine call: values come back JSON-ready (see toJsonValue). */
export interface LakeConn {
  all(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  run(sql: string, params?: unknown[]): Promise<void>;
}

/** Runs `fn` between `begin` and COMMIT on one connection, rolling back when it throws. */
export async function inTransaction<T>(c: LakeConn, begin: string, fn: (c: LakeConn) => Promise<T>): Promise<T> {
  await c.run(begin);
  try {
    const out = await fn(c);
    await c.run('COMMIT');
    return out;
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export type FileFormat = 'parquet' | 'csv';

export interface InsertSpec {
  file: string;
  format: FileFormat;
  /** CSV only: the delimiter found in the header. */
  delimiter?: string;
  /** The file's columns to take (source), the table's column each goes to (target) and its type. */
  columns: { source: string; target: string; type: string }[];
  /** Constant columns every row gets (VERSION, CREATED_AT, model name and version). */
  constants: { name: string; type: string; value: string | number }[];
  /** Row ids continue from here. */
  ridBase: number;
}

/** The embedded DuckDB file or a PostgreSQL database: one interface, the same tests. */
export interface LakeEngine {
  readonly kind: 'duckdb' | 'postgres';
  init(): Promise<void>;
  close(): Promise<void>;
  /**
   * Reads in one snapshot: a read looks up a table's columns, then selects them, and a write that
   * adds columns between the two must not be half seen (rows of the write without its columns).
   */
  read<T>(fn: (c: LakeConn) => Promise<T>): Promise<T>;
  /**
   * One all-or-nothing transaction holding the lock of `lockKey` (a table of a group), so creating a
   * table and assigning its next VERSION never race, across processes on PostgreSQL.
   */
  write<T>(lockKey: string, fn: (c: LakeConn) => Promise<T>): Promise<T>;
  /** The engine's DDL type for a neutral (DuckDB-named) type. */
  ddlType(type: string): string;
  columnsOf(c: LakeConn, physical: string): Promise<LakeColumn[]>;
  sizeBytes(c: LakeConn, physical: string): Promise<number>;
  /** The whole lake's bytes: the DuckDB file's blocks, or the PostgreSQL lake schema's relations. */
  totalBytes(c: LakeConn): Promise<number>;
  /** The columns of an uploaded file, or a 400 when it is not what it claims to be. */
  describeFile(file: string, format: FileFormat, delimiter?: string): Promise<LakeColumn[]>;
  insertFile(c: LakeConn, physical: string, spec: InsertSpec): Promise<number>;
  /** Streams a query's rows into a Parquet or CSV file without holding them in memory; returns the row count. */
  exportQuery(sql: string, params: unknown[], columns: LakeColumn[], format: FileFormat, file: string): Promise<number>;
}

export const LAKE_SCHEMA = 'forja_lake';
/** Every table's hidden row id: keyset paging and a stable order. */
export const ROW_ID = '_rid';

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The lake's own tables, made and brought up to date whenever an engine opens (the SQL suits both
 * engines). `row_count` and `latest_version` are kept by every write, so listing tables scans
 * nothing; they are NULL in lakes made before them until the table's next write.
 */
export const CATALOG_DDL = [
  `CREATE SCHEMA IF NOT EXISTS ${LAKE_SCHEMA}`,
  `CREATE TABLE IF NOT EXISTS ${LAKE_SCHEMA}.tables (id VARCHAR PRIMARY KEY, group_id VARCHAR NOT NULL, name VARCHAR NOT NULL, name_key VARCHAR NOT NULL, created_by VARCHAR, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, UNIQUE (group_id, name_key))`,
  `CREATE TABLE IF NOT EXISTS ${LAKE_SCHEMA}.writes (key VARCHAR PRIMARY KEY, table_id VARCHAR NOT NULL, version BIGINT, rows_written BIGINT NOT NULL)`,
  `ALTER TABLE ${LAKE_SCHEMA}.tables ADD COLUMN IF NOT EXISTS row_count BIGINT`,
  `ALTER TABLE ${LAKE_SCHEMA}.tables ADD COLUMN IF NOT EXISTS latest_version BIGINT`,
];

export function physicalTable(id: string): string {
  if (!/^[a-z0-9]+$/.test(id)) throw new Error(`bad table id ${id}`);
  return `${LAKE_SCHEMA}.t_${id}`;
}

/** Paths we made ourselves, embedded as SQL literals (DuckDB's table functions take constants). */
export function fileLiteral(file: string): string {
  if (!/^[\w/.:-]+$/.test(file)) throw new Error(`unexpected characters in a staging path: ${file}`);
  return `'${file}'`;
}

/** CSV dialect both engines read and write: RFC 4180 quoting, a header, "" is an empty string. */
export function csvReader(file: string, delimiter = ','): string {
  if (![',', ';', '\t', '|'].includes(delimiter)) throw new Error('bad delimiter');
  return `read_csv(${fileLiteral(file)}, header=true, delim='${delimiter === '\t' ? '\\t' : delimiter}', quote='"', escape='"', strict_mode=true, allow_quoted_nulls=false)`;
}

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|HUGEINT)$/;
const FLOAT = /^(FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?)$/;
const TIMESTAMP = /^(TIMESTAMP|TIMESTAMP_NS|TIMESTAMP_MS|TIMESTAMP_S|TIMESTAMP WITH TIME ZONE)$/;
const SUPPORTED = /^(BOOLEAN|VARCHAR|DATE|TIME|UUID|"NULL"|NULL)$/;

export function typeFamily(type: string): 'integer' | 'float' | 'timestamp' | 'other' | 'null' {
  if (INTEGER.test(type)) return 'integer';
  if (FLOAT.test(type)) return 'float';
  if (TIMESTAMP.test(type)) return 'timestamp';
  if (type === 'NULL' || type === '"NULL"') return 'null';
  return 'other';
}

/** The type a new table gets for an incoming column; nested and binary columns are refused. */
export function storedType(column: LakeColumn): string {
  const t = column.type;
  if (INTEGER.test(t)) return t === 'UBIGINT' || t === 'HUGEINT' ? 'DECIMAL(38,0)' : t.startsWith('U') ? 'BIGINT' : t;
  if (FLOAT.test(t)) return t === 'REAL' ? 'FLOAT' : t;
  if (TIMESTAMP.test(t)) return t === 'TIMESTAMP WITH TIME ZONE' ? t : 'TIMESTAMP';
  if (t === 'NULL' || t === '"NULL"') return 'VARCHAR';
  if (SUPPORTED.test(t)) return t;
  throw invalid(
    `Column ${JSON.stringify(column.name)} has type ${t}, which lake tables do not hold: use numbers, booleans, strings, dates or timestamps (turn lists and structs into strings first).`,
  );
}

/** Can a column of type `incoming` be appended to a column of type `stored`? */
export function appendable(incoming: string, stored: string): boolean {
  const a = typeFamily(incoming);
  const b = typeFamily(stored);
  if (a === 'null') return true;
  if (a === 'integer') return b === 'integer' || b === 'float';
  if (a === 'float' || a === 'timestamp') return a === b;
  return storedType({ name: '', type: incoming }) === stored;
}

/** Integers JSON can carry exactly become numbers, the rest strings; dates and the like their text. */
export function toJsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  const text = String(value);
  return /^-?\d+(\.\d+)?$/.test(text) && text.length < 16 ? Number(text) : text;
}

/** A server timestamp as both engines parse it: UTC, no zone suffix. */
export function sqlTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
