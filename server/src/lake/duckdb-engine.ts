import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { LakeColumn } from '@forja/contracts';
import { AppError, invalid } from '../errors.js';
import {
  CATALOG_DDL,
  csvReader,
  fileLiteral,
  inTransaction,
  quoteIdent,
  ROW_ID,
  toJsonValue,
  type FileFormat,
  type InsertSpec,
  type LakeConn,
  type LakeEngine,
} from './engine.js';

/** Calls for one key run one after another; calls for other keys do not wait. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(fn);
    this.tails.set(key, mine);
    try {
      return await mine;
    } finally {
      if (this.tails.get(key) === mine) this.tails.delete(key);
    }
  }
}

function connOf(c: DuckDBConnection): LakeConn {
  return {
    async all(sql, params = []) {
      const reader = await c.runAndReadAll(sql, params as DuckDBValue[]);
      return reader.getRowObjects().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, toJsonValue(v)])));
    },
    async run(sql, params = []) {
      await c.run(sql, params as DuckDBValue[]);
    },
  };
}

/** Reads a file DuckDB is asked to parse; its complaint becomes a 400 the user can act on. */
export async function describeWithDuckDB(c: DuckDBConnection, file: string, format: FileFormat, delimiter?: string): Promise<LakeColumn[]> {
  const source = format === 'parquet' ? `read_parquet(${fileLiteral(file)})` : csvReader(file, delimiter);
  try {
    const reader = await c.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    return reader.getRowObjects().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } catch (err) {
    const first = (err as Error).message.split('\n')[0]!.replace(/'\/[^']*'/g, 'the upload');
    throw invalid(format === 'parquet' ? `The upload is not a readable Parquet file: ${first}` : `The upload is not a readable CSV file: ${first}`);
  }
}

function readerOf(spec: Pick<InsertSpec, 'file' | 'format' | 'delimiter'>): string {
  return spec.format === 'parquet' ? `read_parquet(${fileLiteral(spec.file)}, file_row_number=true)` : csvReader(spec.file, spec.delimiter);
}

/** The SELECT that turns an upload into a table's rows: its columns, the constants and the row ids. */
export function insertSelect(spec: InsertSpec): { sql: string; params: DuckDBValue[]; names: string[] } {
  const params: DuckDBValue[] = [];
  const bind = (v: DuckDBValue) => {
    params.push(v);
    return `$${params.length}`;
  };
  const items = [
    ...spec.columns.map((c) => `CAST(${quoteIdent(c.source)} AS ${c.type})`),
    ...spec.constants.map((k) => `CAST(${bind(k.value)} AS ${k.type})`),
    // Parquet numbers its rows as it reads them; a window over a CSV would hold every row to number it.
    spec.format === 'parquet' ? `CAST(${bind(spec.ridBase + 1)} AS BIGINT) + file_row_number` : `CAST(${bind(spec.ridBase)} AS BIGINT) + row_number() OVER ()`,
  ];
  const names = [...spec.columns.map((c) => c.target), ...spec.constants.map((k) => k.name), ROW_ID];
  return { sql: `SELECT ${items.join(', ')} FROM ${readerOf(spec)}`, params, names };
}

export class DuckDBLakeEngine implements LakeEngine {
  readonly kind = 'duckdb' as const;
  private opening: Promise<DuckDBInstance> | undefined;
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly file: string,
    private readonly tempDir: string,
    /** False in a standalone worker: the file has one writing process, the server. */
    private readonly opens = true,
  ) {}

  /**
   * Opens the file if it can. A file held by another process (a second server on the same data
   * directory) does not stop this one starting: lake calls answer 503 until the file is free.
   */
  async init(): Promise<void> {
    if (!this.opens) return;
    await this.open().catch((err: unknown) => {
      if (!(err instanceof AppError)) throw err;
    });
  }

  private open(): Promise<DuckDBInstance> {
    return (this.opening ??= this.create().catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    }));
  }

  private async create(): Promise<DuckDBInstance> {
    mkdirSync(path.dirname(this.file), { recursive: true });
    mkdirSync(this.tempDir, { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(this.file, { temp_directory: this.tempDir, autoinstall_known_extensions: 'false' });
    } catch (err) {
      const holder = /Conflicting lock is held in (.*?)\./.exec((err as Error).message);
      if (!holder) throw err;
      throw new AppError(
        'UNAVAILABLE',
        `The lake file ${this.file} is in use by another process (${holder[1]}). One server owns a DuckDB lake: give each server its own data directory, or share a PostgreSQL lake with FORJA_LAKE_URL.`,
      );
    }
    const c = await instance.connect();
    try {
      for (const ddl of CATALOG_DDL) await c.run(ddl);
    } finally {
      c.closeSync();
    }
    return instance;
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    (await opening?.catch(() => undefined))?.closeSync();
  }

  private async withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    if (!this.opens) throw new Error('this process does not open the lake file');
    const c = await (await this.open()).connect();
    try {
      return await fn(c);
    } finally {
      c.closeSync();
    }
  }

  read<T>(fn: (c: LakeConn) => Promise<T>): Promise<T> {
    return this.withConnection((c) => inTransaction(connOf(c), 'BEGIN TRANSACTION', fn));
  }

  write<T>(lockKey: string, fn: (c: LakeConn) => Promise<T>): Promise<T> {
    // One process owns the file, so an in-process lock is the whole story.
    return this.locks.run(lockKey, () => this.withConnection((raw) => inTransaction(connOf(raw), 'BEGIN TRANSACTION', fn)));
  }

  ddlType(type: string): string {
    return type;
  }

  async columnsOf(c: LakeConn, physical: string): Promise<LakeColumn[]> {
    const rows = await c.all(`DESCRIBE ${physical}`);
    return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  }

  async totalBytes(c: LakeConn): Promise<number> {
    // As sizeBytes: recent writes count once the write-ahead log is folded into the file.
    await c.run('CHECKPOINT').catch(() => undefined);
    const rows = await c.all('SELECT total_blocks * block_size AS size FROM pragma_database_size() WHERE database_name = current_database()');
    return Number(rows[0]?.size ?? 0);
  }

  async sizeBytes(c: LakeConn, physical: string): Promise<number> {
    const [schema, table] = physical.split('.') as [string, string];
    // Blocks are counted once written to the file: fold the write-ahead log in first (cheap when
    // nothing changed; skipped while another transaction runs).
    await c.run('CHECKPOINT').catch(() => undefined);
    const rows = await c
      .all(`SELECT count(DISTINCT block_id) AS blocks FROM pragma_storage_info($1) WHERE persistent`, [`${schema}.${table}`])
      .catch(() => [{ blocks: 0 }]);
    return Number(rows[0]?.blocks ?? 0) * 262_144;
  }

  describeFile(file: string, format: FileFormat, delimiter?: string): Promise<LakeColumn[]> {
    return this.withConnection((c) => describeWithDuckDB(c, file, format, delimiter));
  }

  async insertFile(c: LakeConn, physical: string, spec: InsertSpec): Promise<number> {
    const select = insertSelect(spec);
    const rows = await c.all(`INSERT INTO ${physical} (${select.names.map(quoteIdent).join(', ')}) ${select.sql}`, select.params);
    return Number(rows[0]?.Count ?? rows[0]?.count ?? 0);
  }

  async exportQuery(sql: string, params: unknown[], _columns: LakeColumn[], format: FileFormat, file: string): Promise<number> {
    return this.withConnection(async (c) => {
      const options = format === 'parquet' ? '(FORMAT parquet, COMPRESSION zstd)' : '(FORMAT csv, HEADER true)';
      const rows = await connOf(c).all(`COPY (${sql}) TO ${fileLiteral(file)} ${options}`, params);
      return Number(rows[0]?.Count ?? rows[0]?.count ?? 0);
    });
  }
}
