import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

// int8 (bigint) columns hold millisecond timestamps and counts, all well inside 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
// numeric is used for nothing that needs more than double precision.
pg.types.setTypeParser(1700, (v) => Number(v));

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: Dialect;
  /**
   * The raw SQLite handle, for the few hot paths where a cached prepared statement beats building
   * SQL per call. It shares Kysely's single connection, so it runs inside Kysely's transactions.
   */
  readonly sqlite?: SQLite.Database;
  /** Runs fn in one transaction; on SQLite this is a BEGIN IMMEDIATE so writers never deadlock-upgrade. */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  ping(): Promise<boolean>;
  /** The bytes the database takes: SQLite's pages in use and free, PostgreSQL's pg_database_size. */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

export function openDatabase(url: string): Db {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  return openPostgres(url);
}

function openSqlite(file: string): Db {
  const raw = new SQLite(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  // LIKE is case-sensitive on PostgreSQL; make SQLite agree, as MLflow does (ILIKE is the case-blind one).
  raw.pragma('case_sensitive_like = ON');
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) });
  return {
    kysely,
    dialect: 'sqlite',
    sqlite: raw,
    transaction: (fn) => kysely.transaction().execute(fn),
    ping: async () => {
      try {
        raw.prepare('select 1').get();
        return true;
      } catch {
        return false;
      }
    },
    sizeBytes: async () => (raw.pragma('page_count', { simple: true }) as number) * (raw.pragma('page_size', { simple: true }) as number),
    close: () => kysely.destroy(),
  };
}

function openPostgres(url: string): Db {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle client that loses its connection must not crash the process.
  pool.on('error', () => undefined);
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    dialect: 'postgres',
    transaction: (fn) => kysely.transaction().execute(fn),
    ping: async () => {
      try {
        await sql`select 1`.execute(kysely);
        return true;
      } catch {
        return false;
      }
    },
    sizeBytes: async () => {
      const { rows } = await sql<{ size: number }>`select pg_database_size(current_database()) as size`.execute(kysely);
      return Number(rows[0]?.size ?? 0);
    },
    close: () => kysely.destroy(),
  };
}

/**
 * Kysely prepares every query afresh; on the hot paths the same SQL text comes back thousands of
 * times a second, so keep the prepared statements (bounded, oldest dropped first).
 */
function withStatementCache(raw: SQLite.Database, max = 500) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => raw.close(),
    prepare: (text: string) => {
      let stmt = cache.get(text);
      if (stmt) {
        cache.delete(text);
      } else {
        stmt = raw.prepare(text);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
}

/** True when err is a unique-constraint violation on either database. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | undefined;
  return e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === '23505';
}
