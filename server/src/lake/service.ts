import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  LAKE_CREATED_AT_COLUMN,
  LAKE_MODEL_NAME_COLUMN,
  LAKE_MODEL_VERSION_COLUMN,
  LAKE_VERSION_COLUMN,
  LakeQuerySchema,
  LakeTableNameSchema,
  LakeWriteQuerySchema,
  type DriftOptions,
  type DriftReport,
  type LakeColumn,
  type LakeQuery,
  type LakeRows,
  type LakeTable,
  type LakeTableSummary,
  type LakeWriteQuery,
  type LakeWriteResult,
} from '@forja/contracts';
import { requireScopeRole } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import { newId } from '../db/ids.js';
import { alreadyExists, invalid, notFound } from '../errors.js';
import {
  appendable,
  physicalTable,
  quoteIdent,
  ROW_ID,
  sqlTimestamp,
  storedType,
  typeFamily,
  LAKE_SCHEMA,
  type FileFormat,
  type LakeConn,
  type LakeEngine,
} from './engine.js';
import { compileFilter, parseFilter, type SqlBuilder } from './filter.js';
import { computeDrift } from '../monitoring/stats/index.js';

interface CatalogRow {
  id: string;
  group_id: string;
  name: string;
  name_key: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  /** Kept by writes; NULL (with latest_version) in a lake made before they were, until the next write. */
  row_count: number | string | null;
  latest_version: number | string | null;
}

export interface StagedFile {
  file: string;
  format: FileFormat;
  delimiter?: string;
}

/** Where a write comes from when it is not a request: a job's own work. */
export interface WriteOrigin {
  groupId: string;
  createdBy: string | null;
  /** Makes the write happen once: a retried job finds its earlier write instead of adding the rows again. */
  idempotencyKey?: string;
  /**
   * An append from the server's own logs (the inference log): columns the table lacks are added
   * (older rows read NULL), and columns the rows lack stay NULL, instead of a 400.
   */
  evolve?: boolean;
}

const SYSTEM_COLUMNS = [LAKE_VERSION_COLUMN, LAKE_CREATED_AT_COLUMN, LAKE_MODEL_NAME_COLUMN, LAKE_MODEL_VERSION_COLUMN];
const SYSTEM_TYPES: Record<string, string> = {
  [LAKE_VERSION_COLUMN]: 'BIGINT',
  [LAKE_CREATED_AT_COLUMN]: 'TIMESTAMP',
  [LAKE_MODEL_NAME_COLUMN]: 'VARCHAR',
  [LAKE_MODEL_VERSION_COLUMN]: 'VARCHAR',
};
const JSON_PAGE_DEFAULT = 100;
const JSON_PAGE_MAX = 10_000;
const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

const keyOf = (name: string) => name.toLowerCase();
/** One side of a drift comparison: a table, a filter, a VERSION. */
export interface DriftTableSide {
  table: string;
  filter?: string;
  version?: number | 'latest';
}
const list = (names: string[]) => names.map((n) => JSON.stringify(n)).join(', ');

/** Finds a column the way users write it: exactly, else ignoring case. */
function resolver(columns: LakeColumn[]) {
  return (name: string): LakeColumn => {
    const found = columns.find((c) => c.name === name) ?? columns.find((c) => keyOf(c.name) === keyOf(name));
    if (!found) throw invalid(`No column ${JSON.stringify(name)}; the table has ${list(columns.map((c) => c.name))}.`);
    return found;
  };
}

/** A filter value checked against its column's type before it is bound. */
function checkedValue(value: unknown, column: string, type: string): unknown {
  const family = typeFamily(type);
  const bad = (what: string) => invalid(`Column ${JSON.stringify(column)} holds ${what}; ${JSON.stringify(value)} is not one.`);
  if (family === 'integer' || family === 'float') {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(n)) throw bad('numbers');
    if (family === 'integer' && !Number.isInteger(n)) throw bad('whole numbers');
    return n;
  }
  if (type === 'BOOLEAN') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'false') return value === 'true';
    throw bad('TRUE or FALSE');
  }
  if (family === 'timestamp' || type === 'DATE') {
    if (typeof value !== 'string' || !TIMESTAMP_TEXT.test(value)) throw bad("dates or timestamps written like '2026-11-23' or '2026-11-23 14:30:00'");
    return value;
  }
  if (typeof value === 'boolean') throw bad('text');
  return String(value);
}

const PRIOR_WRITE = `SELECT w.version, w.rows_written, t.name FROM ${LAKE_SCHEMA}.writes w JOIN ${LAKE_SCHEMA}.tables t ON t.id = w.table_id WHERE w.key = $1`;
const writeOf = (r: Record<string, unknown>): LakeWriteResult => ({
  table: String(r.name),
  created: false,
  rowsWritten: Number(r.rows_written),
  version: r.version === null ? null : Number(r.version),
});

interface PageToken {
  v: unknown;
  r: number;
  f: string;
}

export interface LakeServiceOptions {
  engine: LakeEngine;
  audit: AuditLog;
  /** Scratch space for uploads and exports. */
  tempDir: string;
  maxUploadBytes: number;
  clock?: () => number;
}

export class LakeService {
  readonly engine: LakeEngine;
  private readonly audit: AuditLog;
  readonly tempDir: string;
  readonly maxUploadBytes: number;
  private readonly clock: () => number;

  constructor(options: LakeServiceOptions) {
    this.engine = options.engine;
    this.audit = options.audit;
    this.tempDir = options.tempDir;
    this.maxUploadBytes = options.maxUploadBytes;
    this.clock = options.clock ?? Date.now;
  }

  private async catalog(c: LakeConn, groupId: string, name: string): Promise<CatalogRow | undefined> {
    const rows = await c.all(`SELECT * FROM ${LAKE_SCHEMA}.tables WHERE group_id = $1 AND name_key = $2`, [groupId, keyOf(name)]);
    return rows[0] as CatalogRow | undefined;
  }

  private async require(c: LakeConn, groupId: string, name: string): Promise<CatalogRow> {
    const row = await this.catalog(c, groupId, name);
    if (!row) throw notFound('Table', name);
    return row;
  }

  /** The table's columns as users see them (without the hidden row id). */
  private async userColumns(c: LakeConn, row: CatalogRow): Promise<LakeColumn[]> {
    return (await this.engine.columnsOf(c, physicalTable(row.id))).filter((col) => col.name !== ROW_ID);
  }

  /** Row count and newest VERSION: from the catalog, or counted for a table last written before it kept them. */
  private async stats(c: LakeConn, row: CatalogRow, versioned: boolean): Promise<{ rows: number; latest: number | null }> {
    if (row.row_count !== null) return { rows: Number(row.row_count), latest: row.latest_version === null ? null : Number(row.latest_version) };
    const [counted] = await c.all(`SELECT count(*) AS n${versioned ? `, max(${quoteIdent(LAKE_VERSION_COLUMN)}) AS v` : ''} FROM ${physicalTable(row.id)}`);
    return { rows: Number(counted?.n ?? 0), latest: versioned && counted?.v !== null && counted?.v !== undefined ? Number(counted.v) : null };
  }

  private async summary(c: LakeConn, row: CatalogRow, scope: GroupScope, shape: { columnCount: number; versioned: boolean }): Promise<LakeTableSummary> {
    const { rows, latest } = await this.stats(c, row, shape.versioned);
    return {
      name: row.name,
      group: scope.name,
      rowCount: rows,
      columnCount: shape.columnCount,
      latestVersion: latest,
      createdBy: row.created_by,
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
    };
  }

  /** The whole lake's engine and size, for system administrators. */
  async storage(): Promise<{ engine: LakeEngine['kind']; sizeBytes: number }> {
    return { engine: this.engine.kind, sizeBytes: await this.engine.read((c) => this.engine.totalBytes(c)) };
  }

  async list(scope: GroupScope): Promise<LakeTableSummary[]> {
    requireScopeRole(scope, 'viewer');
    return this.engine.read(async (c) => {
      const rows = (await c.all(`SELECT * FROM ${LAKE_SCHEMA}.tables WHERE group_id = $1 ORDER BY name_key`, [scope.id])) as unknown as CatalogRow[];
      // Every table's shape in one query, not a DESCRIBE each.
      const shapes = await c.all(
        `SELECT table_name AS t, count(*) AS n, max(CASE WHEN column_name = $2 THEN 1 ELSE 0 END) AS versioned FROM information_schema.columns WHERE table_schema = $1 AND column_name <> $3 GROUP BY table_name`,
        [LAKE_SCHEMA, LAKE_VERSION_COLUMN, ROW_ID],
      );
      const byTable = new Map(shapes.map((r) => [String(r.t), { columnCount: Number(r.n), versioned: Number(r.versioned) === 1 }]));
      const out: LakeTableSummary[] = [];
      for (const row of rows)
        out.push(await this.summary(c, row, scope, byTable.get(physicalTable(row.id).split('.')[1]!) ?? { columnCount: 0, versioned: false }));
      return out;
    });
  }

  async describe(scope: GroupScope, name: string): Promise<LakeTable> {
    requireScopeRole(scope, 'viewer');
    return this.engine.read(async (c) => {
      const row = await this.require(c, scope.id, name);
      const columns = await this.userColumns(c, row);
      const t = physicalTable(row.id);
      const has = (n: string) => columns.some((col) => col.name === n);
      const versions = has(LAKE_VERSION_COLUMN)
        ? await c.all(
            `SELECT ${quoteIdent(LAKE_VERSION_COLUMN)} AS version, count(*) AS n, ${has(LAKE_CREATED_AT_COLUMN) ? `CAST(min(${quoteIdent(LAKE_CREATED_AT_COLUMN)}) AS VARCHAR)` : 'NULL'} AS created_at, ${
              has(LAKE_MODEL_NAME_COLUMN) ? `min(${quoteIdent(LAKE_MODEL_NAME_COLUMN)})` : 'NULL'
            } AS model_name, ${has(LAKE_MODEL_VERSION_COLUMN) ? `min(${quoteIdent(LAKE_MODEL_VERSION_COLUMN)})` : 'NULL'} AS model_version FROM ${t} WHERE ${quoteIdent(LAKE_VERSION_COLUMN)} IS NOT NULL GROUP BY 1 ORDER BY 1 DESC LIMIT 100`,
          )
        : [];
      return {
        ...(await this.summary(c, row, scope, { columnCount: columns.length, versioned: has(LAKE_VERSION_COLUMN) })),
        engine: this.engine.kind,
        columns,
        sizeBytes: await this.engine.sizeBytes(c, t),
        versions: versions.map((v) => ({
          version: Number(v.version),
          rows: Number(v.n),
          createdAt: v.created_at ? Date.parse(`${String(v.created_at).replace(' ', 'T')}Z`) || null : null,
          modelName: (v.model_name as string | null) ?? null,
          modelVersion: v.model_version === null || v.model_version === undefined ? null : String(v.model_version),
        })),
      };
    });
  }

  /** A write from a request: the caller needs the editor role in the group. */
  async write(ctx: RequestContext, scope: GroupScope, name: string, staged: StagedFile, query: LakeWriteQuery): Promise<LakeWriteResult> {
    requireScopeRole(scope, 'editor');
    const result = await this.writeRows({ groupId: scope.id, createdBy: ctx.principal.name }, name, staged, query);
    await this.audit.record(ctx, {
      action: result.created ? 'lake.table.create' : 'lake.table.write',
      resourceType: 'lake_table',
      resourceId: result.table,
      groupId: scope.id,
      details: { mode: LakeWriteQuerySchema.parse(query).mode, rows: result.rowsWritten, version: result.version },
    });
    return result;
  }

  /** The one write path, for requests and jobs: all-or-nothing, VERSION assigned under the table's lock. */
  async writeRows(origin: WriteOrigin, rawName: string, staged: StagedFile, rawQuery: LakeWriteQuery): Promise<LakeWriteResult> {
    const name = LakeTableNameSchema.safeParse(rawName);
    if (!name.success) throw invalid(`Bad table name ${JSON.stringify(rawName.slice(0, 100))}: ${name.error.issues[0]!.message}.`);
    const q = LakeWriteQuerySchema.parse(rawQuery);
    if (q.mode === 'replace' && !q.confirmReplace)
      throw invalid(
        `mode "replace" deletes every row of ${name.data} before writing: confirm it with confirmReplace=true (force_replace_delete_itens_in_table=True in the Python SDK).`,
      );
    if ((q.modelName || q.modelVersion) && !q.versioned) throw invalid('modelName and modelVersion go with a versioned write (versioned=true).');

    const incoming = await this.engine.describeFile(staged.file, staged.format, staged.delimiter);
    this.checkIncoming(incoming);
    const system = q.versioned
      ? SYSTEM_COLUMNS.filter(
          (n) =>
            n === LAKE_VERSION_COLUMN ||
            n === LAKE_CREATED_AT_COLUMN ||
            (q.modelName && n === LAKE_MODEL_NAME_COLUMN) ||
            (q.modelVersion && n === LAKE_MODEL_VERSION_COLUMN),
        )
      : [];
    // A versioned write sets these itself: the same columns in the upload are replaced, not kept.
    const data = incoming.filter((col) => !system.some((s) => keyOf(s) === keyOf(col.name)));
    const now = this.clock();

    return this.engine
      .write(`${origin.groupId}:${keyOf(name.data)}`, async (c) => {
        if (origin.idempotencyKey) {
          const [done] = await c.all(PRIOR_WRITE, [origin.idempotencyKey]);
          if (done) return writeOf(done);
        }
        let row = await this.catalog(c, origin.groupId, name.data);
        if (row && q.mode === 'fail')
          throw alreadyExists(
            `Table ${row.name} already exists: append to it (mode "append", if_exists="append" in the SDK) or replace its rows (mode "replace" with confirmReplace).`,
          );
        let created = false;
        let hadVersions = false;
        let targets: LakeColumn[];
        if (!row) {
          row = {
            id: newId(),
            group_id: origin.groupId,
            name: name.data,
            name_key: keyOf(name.data),
            created_by: origin.createdBy,
            created_at: now,
            updated_at: now,
            row_count: 0,
            latest_version: null,
          };
          targets = data.map((col) => ({ name: col.name, type: storedType(col) }));
          const ddl = [...targets, ...system.map((n) => ({ name: n, type: SYSTEM_TYPES[n]! })), { name: ROW_ID, type: 'BIGINT' }];
          await c.run(`CREATE TABLE ${physicalTable(row.id)} (${ddl.map((col) => `${quoteIdent(col.name)} ${this.engine.ddlType(col.type)}`).join(', ')})`);
          await c.run(
            `INSERT INTO ${LAKE_SCHEMA}.tables (id, group_id, name, name_key, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
            [row.id, row.group_id, row.name, row.name_key, row.created_by, now, now],
          );
          created = true;
        } else {
          const existing = await this.userColumns(c, row);
          hadVersions = existing.some((col) => col.name === LAKE_VERSION_COLUMN);
          if (origin.evolve)
            for (const col of data.filter((d) => !existing.some((e) => keyOf(e.name) === keyOf(d.name)))) {
              const added = { name: col.name, type: storedType(col) };
              await c.run(`ALTER TABLE ${physicalTable(row.id)} ADD COLUMN ${quoteIdent(added.name)} ${this.engine.ddlType(added.type)}`);
              existing.push(added);
            }
          targets = this.matchSchema(row.name, existing, data, system, origin.evolve);
          for (const n of system) {
            // Versions asked of a table written without them: add the columns, older rows keep NULL.
            if (!existing.some((col) => col.name === n))
              await c.run(`ALTER TABLE ${physicalTable(row.id)} ADD COLUMN ${quoteIdent(n)} ${this.engine.ddlType(SYSTEM_TYPES[n]!)}`);
          }
          if (q.mode === 'replace') await c.run(`DELETE FROM ${physicalTable(row.id)}`);
        }
        const t = physicalTable(row.id);
        const [{ v, r } = { v: 0, r: 0 }] = await c.all(
          `SELECT ${q.versioned ? `coalesce(max(${quoteIdent(LAKE_VERSION_COLUMN)}), 0)` : '0'} AS v, coalesce(max(${quoteIdent(ROW_ID)}), 0) AS r FROM ${t}`,
        );
        const version = q.versioned ? Number(v) + 1 : null;
        const constants: { name: string; type: string; value: string | number }[] = [];
        if (q.versioned)
          constants.push(
            { name: LAKE_VERSION_COLUMN, type: 'BIGINT', value: version! },
            { name: LAKE_CREATED_AT_COLUMN, type: 'TIMESTAMP', value: sqlTimestamp(now) },
          );
        if (q.versioned && q.modelName) constants.push({ name: LAKE_MODEL_NAME_COLUMN, type: 'VARCHAR', value: q.modelName });
        if (q.versioned && q.modelVersion) constants.push({ name: LAKE_MODEL_VERSION_COLUMN, type: 'VARCHAR', value: q.modelVersion });
        const byTarget = new Map(targets.map((col) => [keyOf(col.name), col]));
        const rowsWritten = await this.engine.insertFile(c, t, {
          ...staged,
          columns: data.map((col) => {
            const target = byTarget.get(keyOf(col.name))!;
            return { source: col.name, target: target.name, type: target.type };
          }),
          constants,
          ridBase: Number(r),
        });
        const after =
          created || q.mode === 'replace'
            ? { rows: rowsWritten, latest: version }
            : row.row_count === null
              ? await this.stats(c, row, hadVersions || q.versioned)
              : { rows: Number(row.row_count) + rowsWritten, latest: q.versioned ? version : row.latest_version === null ? null : Number(row.latest_version) };
        await c.run(`UPDATE ${LAKE_SCHEMA}.tables SET updated_at = $1, row_count = $2, latest_version = $3 WHERE id = $4`, [
          now,
          after.rows,
          after.latest,
          row.id,
        ]);
        if (origin.idempotencyKey)
          await c.run(`INSERT INTO ${LAKE_SCHEMA}.writes (key, table_id, version, rows_written) VALUES ($1, $2, $3, $4)`, [
            origin.idempotencyKey,
            row.id,
            version,
            rowsWritten,
          ]);
        return { table: row.name, created, rowsWritten, version };
      })
      .catch((err: unknown) => {
        throw this.asClientError(err, true);
      });
  }

  /** The write a job made under this key, if it committed (a retry then has nothing to do). */
  async priorWrite(key: string): Promise<LakeWriteResult | undefined> {
    const [done] = await this.engine.read((c) => c.all(PRIOR_WRITE, [key]));
    return done ? writeOf(done) : undefined;
  }

  /** Engine errors a bad upload causes (a value that does not fit its column) are the caller's to fix. */
  private asClientError(err: unknown, upload = false): unknown {
    const message = (err as Error)?.message ?? '';
    const fault = upload
      ? /Conversion Error|Could not convert|invalid input syntax|out of range|CSV Error|Invalid Input Error/i
      : /Conversion Error|Could not convert|invalid input syntax|out of range/i;
    if (fault.test(message))
      return invalid(
        `${upload ? 'The rows do not fit the table' : 'A value does not fit its column'}: ${message.split('\n')[0]!.replace(/(['"])\/[^'"]*\1/g, 'the file')}`,
      );
    return err;
  }

  private checkIncoming(columns: LakeColumn[]): void {
    if (columns.length === 0) throw invalid('The upload has no columns.');
    const seen = new Map<string, string>();
    for (const col of columns) {
      if (!col.name || col.name.length > 255 || /[\u0000-\u001f]/.test(col.name))
        throw invalid(`Bad column name ${JSON.stringify(col.name.slice(0, 100))}: 1 to 255 characters, no control characters.`);
      if (keyOf(col.name) === ROW_ID) throw invalid(`Column name ${ROW_ID} is reserved for the lake's row ids; rename that column.`);
      const twin = seen.get(keyOf(col.name));
      if (twin !== undefined)
        throw invalid(`Columns ${JSON.stringify(twin)} and ${JSON.stringify(col.name)} differ only in case; lake column names ignore case.`);
      seen.set(keyOf(col.name), col.name);
      storedType(col);
    }
  }

  /** An append must bring the table's columns with types that fit; a 400 lists every difference. */
  private matchSchema(table: string, existing: LakeColumn[], incoming: LakeColumn[], system: string[], missingAllowed = false): LakeColumn[] {
    const have = new Map(existing.map((col) => [keyOf(col.name), col]));
    const got = new Map(incoming.map((col) => [keyOf(col.name), col]));
    const optional = new Set(SYSTEM_COLUMNS.map(keyOf));
    const missing = missingAllowed ? [] : existing.filter((col) => !got.has(keyOf(col.name)) && !optional.has(keyOf(col.name)) && !system.includes(col.name));
    const extra = incoming.filter((col) => !have.has(keyOf(col.name)));
    const mismatched = incoming.filter((col) => have.has(keyOf(col.name)) && !appendable(col.type, have.get(keyOf(col.name))!.type));
    const problems = [
      missing.length ? `missing columns ${list(missing.map((c) => c.name))}` : '',
      extra.length ? `columns the table does not have ${list(extra.map((c) => c.name))}` : '',
      ...mismatched.map((col) => `${JSON.stringify(col.name)} is ${col.type} in the upload but ${have.get(keyOf(col.name))!.type} in the table`),
    ].filter(Boolean);
    if (problems.length)
      throw invalid(
        `The rows do not match table ${table}: ${problems.join('; ')}.`,
        problems.map((message) => ({ path: 'body', message })),
      );
    return incoming.map((col) => have.get(keyOf(col.name))!);
  }

  async rename(ctx: RequestContext, scope: GroupScope, name: string, newName: string): Promise<LakeTable> {
    requireScopeRole(scope, 'editor');
    const parsed = LakeTableNameSchema.parse(newName);
    await this.engine.write(`${scope.id}:${keyOf(name)}`, async (c) => {
      const row = await this.require(c, scope.id, name);
      const clash = await this.catalog(c, scope.id, parsed);
      if (clash && clash.id !== row.id) throw alreadyExists(`Table ${clash.name} already exists.`);
      await c.run(`UPDATE ${LAKE_SCHEMA}.tables SET name = $1, name_key = $2, updated_at = $3 WHERE id = $4`, [parsed, keyOf(parsed), this.clock(), row.id]);
    });
    await this.audit.record(ctx, { action: 'lake.table.rename', resourceType: 'lake_table', resourceId: parsed, groupId: scope.id, details: { from: name } });
    return this.describe(scope, parsed);
  }

  async drop(ctx: RequestContext, scope: GroupScope, name: string): Promise<void> {
    requireScopeRole(scope, 'editor');
    const dropped = await this.engine.write(`${scope.id}:${keyOf(name)}`, async (c) => {
      const row = await this.require(c, scope.id, name);
      await c.run(`DROP TABLE ${physicalTable(row.id)}`);
      await c.run(`DELETE FROM ${LAKE_SCHEMA}.writes WHERE table_id = $1`, [row.id]);
      await c.run(`DELETE FROM ${LAKE_SCHEMA}.tables WHERE id = $1`, [row.id]);
      return row;
    });
    await this.audit.record(ctx, { action: 'lake.table.drop', resourceType: 'lake_table', resourceId: dropped.name, groupId: scope.id });
  }

  /** Builds the SELECT of a read: only bound values and quoted real column names reach the SQL. */
  private async plan(c: LakeConn, groupId: string, name: string, query: LakeQuery) {
    const q = LakeQuerySchema.parse(query);
    const row = await this.require(c, groupId, name);
    const columns = await this.userColumns(c, row);
    const column = resolver(columns);
    const selected = q.columns?.length ? q.columns.map(column) : columns;
    const params: unknown[] = [];
    const bind = (value: unknown, type: string) => {
      params.push(value);
      return `CAST($${params.length} AS ${this.engine.ddlType(type)})`;
    };
    const builder: SqlBuilder = {
      column: (n) => {
        const col = column(n);
        return { sql: quoteIdent(col.name), type: col.type };
      },
      param: (value, type, columnName) => bind(checkedValue(value, columnName, type), type),
    };
    const where: string[] = [];
    const tree = q.filter ? parseFilter(q.filter) : undefined;
    if (tree) where.push(compileFilter(tree, builder));
    const t = physicalTable(row.id);
    if (q.version !== undefined) {
      if (!columns.some((col) => col.name === LAKE_VERSION_COLUMN))
        throw invalid(`Table ${row.name} has no ${LAKE_VERSION_COLUMN} column: it was never written with versioned=true.`);
      const v = quoteIdent(LAKE_VERSION_COLUMN);
      where.push(q.version === 'latest' ? `${v} = (SELECT max(${v}) FROM ${t})` : `${v} = ${bind(q.version, 'BIGINT')}`);
    }
    const order = q.orderBy?.[0] ? { col: column(q.orderBy[0].column), desc: q.orderBy[0].desc } : undefined;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([row.id, q.filter ?? '', q.version ?? null, order?.col.name ?? null, order?.desc ?? false]))
      .digest('base64url')
      .slice(0, 16);
    const rid = quoteIdent(ROW_ID);
    if (q.pageToken) {
      let token: PageToken;
      try {
        token = JSON.parse(Buffer.from(q.pageToken, 'base64url').toString('utf8')) as PageToken;
      } catch {
        throw invalid('pageToken is not one this server gave out.');
      }
      if (token.f !== fingerprint || typeof token.r !== 'number')
        throw invalid('pageToken belongs to another query (table, filter, order or version changed): start again without it.');
      if (!order) where.push(`${rid} > ${bind(token.r, 'BIGINT')}`);
      else {
        const o = quoteIdent(order.col.name);
        const after = `${rid} > ${bind(token.r, 'BIGINT')}`;
        where.push(
          token.v === null
            ? `(${o} IS NULL AND ${after})`
            : `(${o} ${order.desc ? '<' : '>'} ${bind(checkedValue(token.v, order.col.name, order.col.type), order.col.type)} OR ${o} IS NULL OR (${o} = ${bind(checkedValue(token.v, order.col.name, order.col.type), order.col.type)} AND ${after}))`,
        );
      }
    }
    const orderSql = order ? `ORDER BY ${quoteIdent(order.col.name)} ${order.desc ? 'DESC' : 'ASC'} NULLS LAST, ${rid}` : `ORDER BY ${rid}`;
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return { q, row, t, selected, params, whereSql, orderSql, order, fingerprint };
  }

  /** One page of rows as JSON, with a keyset token for the next. */
  async rows(scope: GroupScope, name: string, query: LakeQuery): Promise<LakeRows> {
    requireScopeRole(scope, 'viewer');
    return this.engine
      .read(async (c) => {
        const p = await this.plan(c, scope.id, name, query);
        const limit = Math.min(p.q.limit ?? JSON_PAGE_DEFAULT, JSON_PAGE_MAX);
        const extra = [`${quoteIdent(ROW_ID)} AS "__rid"`, ...(p.order ? [`${quoteIdent(p.order.col.name)} AS "__order"`] : [])];
        const rows = await c.all(
          `SELECT ${[...p.selected.map((col) => quoteIdent(col.name)), ...extra].join(', ')} FROM ${p.t} ${p.whereSql} ${p.orderSql} LIMIT ${limit + 1}`,
          p.params,
        );
        const more = rows.length > limit;
        const page = rows.slice(0, limit);
        const last = page[page.length - 1];
        const token: PageToken | null = more && last ? { v: p.order ? last.__order : null, r: Number(last.__rid), f: p.fingerprint } : null;
        return {
          columns: p.selected,
          rows: page.map((r) => Object.fromEntries(p.selected.map((col) => [col.name, r[col.name] ?? null]))),
          nextPageToken: token ? Buffer.from(JSON.stringify(token)).toString('base64url') : null,
        };
      })
      .catch((err: unknown) => {
        throw this.asClientError(err);
      });
  }

  /** A whole read (or export) streamed into a Parquet or CSV file the caller sends and deletes. */
  async export(scope: GroupScope, name: string, query: LakeQuery, format: FileFormat): Promise<{ file: string; rows: number; table: string }> {
    requireScopeRole(scope, 'viewer');
    await mkdir(this.tempDir, { recursive: true });
    const file = path.join(this.tempDir, `${newId()}.${format}`);
    try {
      const p = await this.engine.read((c) => this.plan(c, scope.id, name, query));
      const limit = p.q.limit ? ` LIMIT ${p.q.limit}` : '';
      const rows = await this.engine.exportQuery(
        `SELECT ${p.selected.map((col) => quoteIdent(col.name)).join(', ')} FROM ${p.t} ${p.whereSql} ${p.orderSql}${limit}`,
        p.params,
        p.selected,
        format,
        file,
      );
      return { file, rows, table: p.row.name };
    } catch (err) {
      await rm(file, { force: true });
      throw this.asClientError(err);
    }
  }

  /** Checks that a filter parses and names real columns of a table (before a job is queued). */
  async checkFilter(groupId: string, name: string, filter: string | undefined, columns?: string[]): Promise<LakeColumn[]> {
    return this.engine.read(async (c) => {
      const p = await this.plan(c, groupId, name, { filter, columns });
      return p.selected;
    });
  }

  /**
   * How far the current rows drifted from the reference rows, column by column (the statistics of
   * monitoring/stats). Both sides are read through the same bound filters as any read, at a VERSION
   * if asked; columns default to those both tables share, without the lake's own, and named columns
   * missing from either side are refused by name.
   */
  async drift(groupId: string, reference: DriftTableSide, current: DriftTableSide, options: DriftOptions = {}): Promise<DriftReport> {
    const refCols = await this.checkFilter(groupId, reference.table, reference.filter);
    const curCols = await this.checkFilter(groupId, current.table, current.filter);
    const inCurrent = (name: string) => curCols.some((d) => keyOf(d.name) === keyOf(name));
    const shared = refCols.filter((c) => !SYSTEM_COLUMNS.includes(c.name) && inCurrent(c.name));
    const absent = (options.columns ?? []).filter((n) => !refCols.some((c) => keyOf(c.name) === keyOf(n)) || !inCurrent(n));
    if (absent.length) throw invalid(`Columns not in both ${reference.table} and ${current.table}: ${absent.join(', ')}.`);
    const wanted = options.columns ? shared.filter((c) => options.columns!.some((n) => keyOf(n) === keyOf(c.name))) : shared;
    if (wanted.length === 0) throw invalid(`Tables ${reference.table} and ${current.table} share no columns to compare.`);
    await mkdir(this.tempDir, { recursive: true });
    const refFile = path.join(this.tempDir, `${newId()}.parquet`);
    const curFile = path.join(this.tempDir, `${newId()}.parquet`);
    try {
      const names = wanted.map((c) => c.name);
      const referenceRows = await this.exportForJob(
        groupId,
        reference.table,
        { filter: reference.filter, version: reference.version, columns: names },
        refFile,
      );
      const currentRows = await this.exportForJob(groupId, current.table, { filter: current.filter, version: current.version, columns: names }, curFile);
      if (referenceRows === 0)
        throw invalid(
          `The reference (${reference.table}${reference.filter ? ` where ${reference.filter}` : ''}) has no rows: drift needs rows to compare with.`,
        );
      if (currentRows === 0) throw invalid(`The current data (${current.table}${current.filter ? ` where ${current.filter}` : ''}) has no rows to compare.`);
      return await computeDrift(refFile, curFile, wanted, { ...options, columns: names });
    } finally {
      await rm(refFile, { force: true });
      await rm(curFile, { force: true });
    }
  }

  /**
   * A table's columns, row count and the range of one timestamp column, for the server's own
   * tables (the inference log); undefined when the table does not exist yet.
   */
  async span(
    groupId: string,
    name: string,
    column: string,
  ): Promise<{ columns: LakeColumn[]; rows: number; first: number | null; last: number | null } | undefined> {
    return this.engine.read(async (c) => {
      const row = await this.catalog(c, groupId, name);
      if (!row) return undefined;
      const columns = await this.userColumns(c, row);
      if (!columns.some((col) => col.name === column)) return { columns, rows: (await this.stats(c, row, false)).rows, first: null, last: null };
      const q = quoteIdent(column);
      const [r] = await c.all(`SELECT count(*) AS n, CAST(min(${q}) AS VARCHAR) AS first, CAST(max(${q}) AS VARCHAR) AS last FROM ${physicalTable(row.id)}`);
      const at = (v: unknown) => (v === null || v === undefined ? null : Date.parse(`${String(v).replace(' ', 'T').slice(0, 23)}Z`) || null);
      return { columns, rows: Number(r?.n ?? 0), first: at(r?.first), last: at(r?.last) };
    });
  }

  /** Deletes the rows whose timestamp `column` is before `before` (ms), for retention; returns how many went. */
  async deleteBefore(groupId: string, name: string, column: string, before: number): Promise<number> {
    return this.engine.write(`${groupId}:${keyOf(name)}`, async (c) => {
      const row = await this.catalog(c, groupId, name);
      if (!row) return 0;
      const t = physicalTable(row.id);
      const [old] = await c.all(`SELECT count(*) AS n FROM ${t} WHERE ${quoteIdent(column)} < CAST($1 AS TIMESTAMP)`, [sqlTimestamp(before)]);
      const n = Number(old?.n ?? 0);
      if (n === 0) return 0;
      await c.run(`DELETE FROM ${t} WHERE ${quoteIdent(column)} < CAST($1 AS TIMESTAMP)`, [sqlTimestamp(before)]);
      const [left] = await c.all(`SELECT count(*) AS n FROM ${t}`);
      await c.run(`UPDATE ${LAKE_SCHEMA}.tables SET updated_at = $1, row_count = $2 WHERE id = $3`, [this.clock(), Number(left?.n ?? 0), row.id]);
      return n;
    });
  }

  /** Exports rows for a job (no request scope: the job's group is the scope). */
  async exportForJob(groupId: string, name: string, query: LakeQuery, file: string): Promise<number> {
    const p = await this.engine.read((c) => this.plan(c, groupId, name, query));
    return this.engine.exportQuery(
      `SELECT ${p.selected.map((col) => quoteIdent(col.name)).join(', ')} FROM ${p.t} ${p.whereSql} ${p.orderSql}`,
      p.params,
      p.selected,
      'parquet',
      file,
    );
  }
}
