import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { LabelsPostSchema, type Deployment, type LabelsPost, type LabelsResult } from '@forja/contracts';
import { requireScopeRole } from '../auth/access.js';
import type { AuditLog } from '../auth/audit.js';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import type { DeploymentsService } from '../deployments/service.js';
import { newId } from '../db/ids.js';
import { AppError, invalid } from '../errors.js';
import { fileLiteral, quoteIdent, sqlTimestamp } from '../lake/engine.js';
import type { LakeService } from '../lake/service.js';
import { typeOfValues, withDuckDB, writeParquet } from './labels-parquet.js';

/** The labels of an inference log live next to it: `<log table>__labels`. */
export const labelsTableOf = (logTable: string) => `${logTable}__labels`;

/** How many unknown ids an error names before it only counts the rest. */
const NAMED = 5;

export interface LabelsServiceOptions {
  lake: LakeService;
  deployments: DeploymentsService;
  audit: AuditLog;
  /** The lake table of a deployment's inference log (the inference log module's `inferenceTableOf`). */
  logTableOf: (deployment: Deployment) => string;
  tempDir: string;
  clock?: () => number;
}

/** A key as both sides compare it: numbers by value (42, 42.0 and "42" meet), anything else as text. */
const keyExpr = (col: string) =>
  `CASE WHEN TRY_CAST(${col} AS DOUBLE) IS NOT NULL THEN CAST(TRY_CAST(${col} AS DOUBLE) AS VARCHAR) ELSE CAST(${col} AS VARCHAR) END`;

/**
 * Ground truth that arrives after the predictions, appended to the labels table beside a
 * deployment's inference log. Every label is tied to a logged row (request id and row): labels by
 * a key column are resolved to the logged rows carrying that key when posted, so a label for
 * something never logged is a 400 naming it. Posting a row's label again adds a newer one; reads
 * take the latest (`labelled`).
 */
export class LabelsService {
  private readonly clock: () => number;

  constructor(private readonly options: LabelsServiceOptions) {
    this.clock = options.clock ?? Date.now;
  }

  async post(ctx: RequestContext, scope: GroupScope, deploymentId: string, input: LabelsPost): Promise<LabelsResult> {
    requireScopeRole(scope, 'editor');
    const body = LabelsPostSchema.parse(input);
    const deployment = await this.options.deployments.get(scope, deploymentId);
    const logTable = this.options.logTableOf(deployment);
    const table = labelsTableOf(logTable);
    const key = 'key' in body ? body.key : undefined;
    await mkdir(this.options.tempDir, { recursive: true });
    const files = { log: this.temp(), given: this.temp(), out: this.temp() };
    try {
      try {
        await this.options.lake.exportForJob(scope.id, logTable, { columns: ['request_id', 'row_index', ...(key ? [key] : [])] }, files.log);
      } catch (err) {
        if (err instanceof AppError && err.code === 'NOT_FOUND')
          throw invalid(
            `Deployment ${deployment.name} has no inference log yet (lake table ${logTable}): set settings.inferenceLog.sampleRate above 0 and send predictions, then post their labels.`,
          );
        if (err instanceof AppError && key && /No column/.test(err.message))
          throw invalid(`The inference log of ${deployment.name} has no column ${JSON.stringify(key)} to match labels by: ${err.message}`);
        throw err;
      }
      let labelColumn = 'label';
      if ('table' in body) {
        labelColumn = body.labelColumn;
        await this.options.lake.exportForJob(scope.id, body.table, { filter: body.filter, columns: [body.key, body.labelColumn] }, files.given);
      } else if ('key' in body) {
        const keys = body.labels.map((l) => l.key);
        const labels = body.labels.map((l) => l.label);
        await writeParquet(files.given, [
          { name: body.key, type: typeOfValues(keys), values: keys },
          { name: 'label', type: typeOfValues(labels), values: labels },
        ]);
      } else {
        const labels = body.labels.map((l) => l.label);
        await writeParquet(files.given, [
          { name: 'request_id', type: 'VARCHAR', values: body.labels.map((l) => l.requestId) },
          { name: 'row_index', type: 'INTEGER', values: body.labels.map((l) => l.row) },
          { name: 'label', type: typeOfValues(labels), values: labels },
        ]);
      }
      const rows = await this.resolve(files, key, labelColumn, sqlTimestamp(this.clock()));
      if (rows === 0) throw invalid('No labels to add: every label given was empty.');
      const written = await this.options.lake.writeRows(
        { groupId: scope.id, createdBy: ctx.principal.name },
        table,
        { file: files.out, format: 'parquet' },
        { mode: 'append' },
      );
      await this.options.audit.record(ctx, {
        action: 'deployment.labels',
        resourceType: 'deployment',
        resourceId: deployment.id,
        groupId: scope.id,
        details: { table, rows: written.rowsWritten, by: 'table' in body ? `table ${body.table}` : (key ?? 'request id') },
      });
      return { accepted: written.rowsWritten, table };
    } finally {
      await Promise.all(Object.values(files).map((f) => rm(f, { force: true })));
    }
  }

  /**
   * The logged rows of a deployment that have labels, each with its latest label (the last posted
   * wins), written to a Parquet file: the log's `columns` plus `label`. `filter` picks rows of the
   * log (a window of logged_at). Returns the row count; 0 when nothing was labelled yet.
   */
  async labelled(groupId: string, logTable: string, query: { filter?: string; columns: string[] }, file: string): Promise<number> {
    await mkdir(this.options.tempDir, { recursive: true });
    const log = this.temp();
    const labels = this.temp();
    try {
      try {
        await this.options.lake.exportForJob(groupId, labelsTableOf(logTable), { columns: ['request_id', 'row_index', 'label', 'labelled_at'] }, labels);
      } catch (err) {
        if (err instanceof AppError && err.code === 'NOT_FOUND') return 0;
        throw err;
      }
      const columns = [...new Set(['request_id', 'row_index', ...query.columns])];
      await this.options.lake.exportForJob(groupId, logTable, { filter: query.filter, columns }, log);
      return await withDuckDB(async (c) => {
        const latest = `SELECT request_id, row_index, arg_max(label, [epoch_us(labelled_at), file_row_number]) AS label FROM read_parquet(${fileLiteral(labels)}, file_row_number = true) GROUP BY ALL`;
        const picked = query.columns.map((n) => `l.${quoteIdent(n)}`).join(', ');
        await c.run(
          `COPY (SELECT ${picked}, b.label FROM read_parquet(${fileLiteral(log)}) l JOIN (${latest}) b ON b.request_id = l.request_id AND b.row_index = l.row_index) TO ${fileLiteral(file)} (FORMAT parquet)`,
        );
        const [r] = (await c.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${fileLiteral(file)})`)).getRowObjects();
        return Number(r!.n);
      });
    } finally {
      await rm(log, { force: true });
      await rm(labels, { force: true });
    }
  }

  /**
   * Matches the given labels to logged rows (a 400 names the ones that match nothing), keeps the
   * last label given for a row, and writes `request_id, row_index, label, labelled_at` to `out`.
   */
  private resolve(files: { log: string; given: string; out: string }, key: string | undefined, labelColumn: string, at: string): Promise<number> {
    return withDuckDB(async (c) => {
      const log = `read_parquet(${fileLiteral(files.log)})`;
      const given = `(SELECT *, file_row_number AS seq FROM read_parquet(${fileLiteral(files.given)}, file_row_number = true) WHERE ${quoteIdent(labelColumn)} IS NOT NULL)`;
      let matched: string;
      if (key) {
        const k = quoteIdent(key);
        const unknown = await c.runAndReadAll(
          `SELECT DISTINCT CAST(g.${k} AS VARCHAR) AS k FROM ${given} g WHERE ${keyExpr(`g.${k}`)} NOT IN (SELECT ${keyExpr(k)} FROM ${log} WHERE ${k} IS NOT NULL) OR g.${k} IS NULL ORDER BY 1 NULLS FIRST`,
        );
        const missing = unknown.getRowObjects().map((r) => (r.k === null ? 'an empty key' : String(r.k)));
        if (missing.length)
          throw invalid(`${missing.length} ${key} value${missing.length > 1 ? 's are' : ' is'} not in the inference log: ${named(missing)}.`, [
            { path: 'labels', message: `unknown ${key}: ${named(missing)}` },
          ]);
        matched = `SELECT l.request_id, l.row_index, g.${quoteIdent(labelColumn)} AS label, g.seq FROM ${given} g JOIN ${log} l ON ${keyExpr(`g.${k}`)} = ${keyExpr(`l.${k}`)}`;
      } else {
        const unknown = await c.runAndReadAll(
          `SELECT request_id, row_index, EXISTS (SELECT 1 FROM ${log} l WHERE l.request_id = g.request_id) AS known FROM ${given} g
           WHERE NOT EXISTS (SELECT 1 FROM ${log} l WHERE l.request_id = g.request_id AND l.row_index = g.row_index) ORDER BY 1, 2`,
        );
        const rows = unknown.getRowObjects();
        if (rows.length) {
          const ids = [...new Set(rows.filter((r) => !r.known).map((r) => String(r.request_id)))];
          const badRows = rows.filter((r) => r.known).map((r) => `${String(r.request_id)} row ${String(r.row_index)}`);
          const parts = [
            ids.length ? `${ids.length} request id${ids.length > 1 ? 's are' : ' is'} not in the inference log: ${named(ids)}` : '',
            badRows.length ? `${badRows.length} row${badRows.length > 1 ? 's were' : ' was'} not logged: ${named(badRows)}` : '',
          ].filter(Boolean);
          throw invalid(`${parts.join('; ')}. Label the X-Request-Id a prediction answered with (and its row, from 0), for a call the log sampled.`, [
            { path: 'labels', message: parts.join('; ') },
          ]);
        }
        matched = `SELECT request_id, row_index, label, seq FROM ${given} g`;
      }
      await c.run(
        `COPY (SELECT request_id, CAST(row_index AS INTEGER) AS row_index, arg_max(label, seq) AS label, TIMESTAMP '${at}' AS labelled_at FROM (${matched}) GROUP BY request_id, row_index ORDER BY request_id, row_index) TO ${fileLiteral(files.out)} (FORMAT parquet)`,
      );
      const [r] = (await c.runAndReadAll(`SELECT count(*) AS n FROM read_parquet(${fileLiteral(files.out)})`)).getRowObjects();
      return Number(r!.n);
    });
  }

  private temp(): string {
    return path.join(this.options.tempDir, `${newId()}.parquet`);
  }
}

/** The first few of a list, then how many more. */
function named(values: string[]): string {
  const shown = values.slice(0, NAMED).map((v) => JSON.stringify(v));
  return values.length > NAMED ? `${shown.join(', ')} and ${values.length - NAMED} more` : shown.join(', ');
}
