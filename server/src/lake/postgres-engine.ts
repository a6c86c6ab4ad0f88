import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { LakeColumn } from '@forja/contracts';
import { newId } from '../db/ids.js';
import { describeWithDuckDB, insertSelect } from './duckdb-engine.js';
import {
  CATALOG_DDL,
  fileLiteral,
  inTransaction,
  LAKE_SCHEMA,
  quoteIdent,
  toJsonValue,
  type FileFormat,
  type InsertSpec,
  type LakeConn,
  type LakeEngine,
} from './engine.js';

/** Values as JSON wants them: exact integers, dates and timestamps as the database prints them. */
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20 || oid === 1700) return (v: string) => toJsonValue(oid === 20 ? BigInt(v) : v);
    if (oid === 1082 || oid === 1114 || oid === 1184 || oid === 1083) return (v: string) => v;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

const TO_PG: Record<string, string> = {
  BOOLEAN: 'boolean',
  TINYINT: 'smallint',
  SMALLINT: 'smallint',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  FLOAT: 'real',
  DOUBLE: 'double precision',
  VARCHAR: 'text',
  DATE: 'date',
  TIME: 'time',
  UUID: 'uuid',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz',
};
const FROM_PG: Record<string, string> = {
  boolean: 'BOOLEAN',
  smallint: 'SMALLINT',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  real: 'FLOAT',
  'double precision': 'DOUBLE',
  text: 'VARCHAR',
  'character varying': 'VARCHAR',
  date: 'DATE',
  'time without time zone': 'TIME',
  uuid: 'UUID',
  'timestamp without time zone': 'TIMESTAMP',
  'timestamp with time zone': 'TIMESTAMP WITH TIME ZONE',
};

function connOf(client: pg.PoolClient): LakeConn & { client: pg.PoolClient } {
  return {
    client,
    async all(sql, params = []) {
      return (await client.query(sql, params)).rows;
    },
    async run(sql, params = []) {
      await client.query(sql, params);
    },
  };
}

/**
 * The lake in PostgreSQL. DuckDB (in memory, with no extensions) still does the file work: it reads
 * uploads into CSV that COPY takes, and turns query results into Parquet.
 */
export class PostgresLakeEngine implements LakeEngine {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private scratch: DuckDBInstance | undefined;

  constructor(
    url: string,
    private readonly tempDir: string,
  ) {
    this.pool = new pg.Pool({ connectionString: url, max: 8, types });
    // An idle client's network error must not bring the process down.
    this.pool.on('error', () => undefined);
  }

  async init(): Promise<void> {
    mkdirSync(this.tempDir, { recursive: true });
    this.scratch = await DuckDBInstance.create(':memory:', { temp_directory: this.tempDir, autoinstall_known_extensions: 'false' });
    const client = await this.pool.connect();
    try {
      // Two servers starting together both try to create the schema; the lock makes one wait.
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('forja_lake:init'))`);
      for (const ddl of CATALOG_DDL) await client.query(ddl);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
    this.scratch?.closeSync();
    this.scratch = undefined;
  }

  async read<T>(fn: (c: LakeConn) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await inTransaction(connOf(client), 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
    } finally {
      client.release();
    }
  }

  async write<T>(lockKey: string, fn: (c: LakeConn) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await inTransaction(connOf(client), 'BEGIN', async (c) => {
        await c.run('SELECT pg_advisory_xact_lock(hashtext($1))', [`forja_lake:${lockKey}`]);
        return fn(c);
      });
    } finally {
      client.release();
    }
  }

  ddlType(type: string): string {
    const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(type);
    if (decimal) return `numeric(${decimal[1]},${decimal[2]})`;
    const t = TO_PG[type];
    if (!t) throw new Error(`no PostgreSQL type for ${type}`);
    return t;
  }

  async columnsOf(c: LakeConn, physical: string): Promise<LakeColumn[]> {
    const [schema, table] = physical.split('.') as [string, string];
    const rows = await c.all(
      `SELECT column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [schema, table],
    );
    return rows.map((r) => ({
      name: String(r.column_name),
      type:
        r.data_type === 'numeric'
          ? `DECIMAL(${r.numeric_precision ?? 38},${r.numeric_scale ?? 0})`
          : (FROM_PG[String(r.data_type)] ?? String(r.data_type).toUpperCase()),
    }));
  }

  async totalBytes(c: LakeConn): Promise<number> {
    const rows = await c.all(
      `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS size FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
      [LAKE_SCHEMA],
    );
    return Number(rows[0]?.size ?? 0);
  }

  async sizeBytes(c: LakeConn, physical: string): Promise<number> {
    const rows = await c.all('SELECT pg_total_relation_size($1::regclass) AS size', [physical]);
    return Number(rows[0]?.size ?? 0);
  }

  private async withScratch<T>(fn: (c: Awaited<ReturnType<DuckDBInstance['connect']>>) => Promise<T>): Promise<T> {
    if (!this.scratch) throw new Error('the lake is not open');
    const c = await this.scratch.connect();
    try {
      return await fn(c);
    } finally {
      c.closeSync();
    }
  }

  describeFile(file: string, format: FileFormat, delimiter?: string): Promise<LakeColumn[]> {
    return this.withScratch((c) => describeWithDuckDB(c, file, format, delimiter));
  }

  async insertFile(c: LakeConn, physical: string, spec: InsertSpec): Promise<number> {
    // The client of this transaction: COPY has to run on it to be part of the all-or-nothing write.
    const client = (c as LakeConn & { client?: pg.PoolClient }).client;
    if (!client) throw new Error('insertFile needs the write transaction');
    const csv = path.join(this.tempDir, `${newId()}.csv`);
    try {
      const select = insertSelect(spec);
      const count = await this.withScratch(async (d) => {
        const reader = await d.runAndReadAll(`COPY (${select.sql}) TO ${fileLiteral(csv)} (FORMAT csv, HEADER false)`, select.params);
        return Number(reader.getRowObjects()[0]?.Count ?? 0);
      });
      const copy = client.query(copyFrom(`COPY ${physical} (${select.names.map(quoteIdent).join(', ')}) FROM STDIN WITH (FORMAT csv)`));
      await pipeline(createReadStream(csv), copy);
      return count;
    } finally {
      await rm(csv, { force: true });
    }
  }

  async exportQuery(sql: string, params: unknown[], columns: LakeColumn[], format: FileFormat, file: string): Promise<number> {
    const csv = path.join(this.tempDir, `${newId()}.csv`);
    const client = await this.pool.connect();
    let rows = 0;
    try {
      // COPY takes no bound parameters, but CREATE TABLE AS does: the filtered rows land in a
      // temporary table (in query order) that COPY then streams out as CSV.
      await client.query('BEGIN');
      const temp = `forja_export_${newId()}`;
      rows = (await client.query(`CREATE TEMP TABLE ${temp} ON COMMIT DROP AS ${sql}`, params)).rowCount ?? 0;
      await pipeline(client.query(copyTo(`COPY ${temp} TO STDOUT WITH (FORMAT csv)`)), createWriteStream(csv));
      await client.query('COMMIT');
      // Generic column names in the reader, the real ones (quoted) in the output.
      const spec = columns.map((col, i) => `'c${i}': '${col.type}'`).join(', ');
      const select = columns.map((col, i) => `c${i} AS ${quoteIdent(col.name)}`).join(', ');
      const options = format === 'parquet' ? '(FORMAT parquet, COMPRESSION zstd)' : '(FORMAT csv, HEADER true)';
      // DuckDB cannot read an empty CSV: no rows is an empty file with the right columns.
      const source =
        rows === 0
          ? `SELECT ${columns.map((col) => `CAST(NULL AS ${col.type}) AS ${quoteIdent(col.name)}`).join(', ')} LIMIT 0`
          : `SELECT ${select} FROM read_csv(${fileLiteral(csv)}, header=false, delim=',', quote='"', escape='"', allow_quoted_nulls=false, columns={${spec}})`;
      await this.withScratch((d) => d.run(`COPY (${source}) TO ${fileLiteral(file)} ${options}`, [] as DuckDBValue[]));
      return rows;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
      await rm(csv, { force: true });
    }
  }
}
