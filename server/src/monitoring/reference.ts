import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  LAKE_CREATED_AT_COLUMN,
  LAKE_MODEL_NAME_COLUMN,
  LAKE_MODEL_VERSION_COLUMN,
  LAKE_VERSION_COLUMN,
  type LakeColumn,
  type MonitorReference,
} from '@forja/contracts';
import type { ArtifactsService } from '../artifacts/service.js';
import type { GroupScope, RequestContext } from '../auth/principal.js';
import { newId } from '../db/ids.js';
import { invalid } from '../errors.js';
import { fileLiteral, quoteIdent } from '../lake/engine.js';
import type { LakeService } from '../lake/service.js';
import type { TrackingService } from '../tracking/service.js';
import type { TrainingService } from '../training/service.js';

/** Where a reference's rows are: a lake table (with a filter or VERSION), or a file on the server. */
export type ReferenceSource = { table: string; filter?: string; version?: number | 'latest' } | { file: string };

/** The columns the lake adds to versioned writes: never features. */
export const LAKE_SYSTEM_COLUMNS = [LAKE_VERSION_COLUMN, LAKE_CREATED_AT_COLUMN, LAKE_MODEL_NAME_COLUMN, LAKE_MODEL_VERSION_COLUMN];

/** The lake table an uploaded reference file is kept in (one per monitor, in its group). */
export const uploadedReferenceTable = (monitorId: string) => `monitor_ref_${monitorId}`;

/** Dataset source types of a tracking run's logged inputs that name a lake table. */
const LAKE_SOURCE_TYPES = new Set(['lake', 'forja_lake', 'forja-lake']);

export interface ReferenceDeps {
  lake: LakeService;
  tracking: TrackingService;
  artifacts: ArtifactsService;
  training: TrainingService;
  /** Scratch space for run artifacts copied out to be read. */
  tempDir: string;
}

/** A reference's columns and whether it has any row (a reference with none is refused). */
export interface ReferenceProbe {
  columns: LakeColumn[];
  hasRows: boolean;
}

const formatOf = (file: string): 'parquet' | 'csv' => {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.csv' || ext === '.txt') return 'csv';
  throw invalid(`The reference file ${path.basename(file)} is neither Parquet (.parquet) nor CSV (.csv).`);
};
const readerOf = (file: string) => (formatOf(file) === 'parquet' ? `read_parquet(${fileLiteral(file)})` : `read_csv(${fileLiteral(file)}, header=true)`);

/** A throwaway in-memory DuckDB for reading files (no extensions, nothing kept). */
async function withDuckDB<T>(fn: (all: (sql: string) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const c = await db.connect();
  try {
    return await fn(async (sql) => (await c.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[]);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/**
 * Turns a monitor's reference (as the user named it) into rows the monitor can read: resolves
 * tracking datasets and training runs to their lake table or file, probes columns and row counts,
 * and exports the chosen columns to Parquet for a run.
 */
export class ReferenceResolver {
  constructor(private readonly deps: ReferenceDeps) {}

  /** Where the reference's rows are. `ctx` decides what the caller may read (the system in jobs). */
  async source(ctx: RequestContext, scope: GroupScope, monitorId: string, ref: MonitorReference): Promise<ReferenceSource> {
    switch (ref.kind) {
      case 'table':
        return { table: ref.table, ...(ref.filter ? { filter: ref.filter } : {}), ...(ref.version !== undefined ? { version: ref.version } : {}) };
      case 'file':
        return { table: uploadedReferenceTable(monitorId) };
      case 'training':
        return this.deps.training.dataOf(scope, ref.trainingId);
      case 'run':
        return this.runDataset(ctx, scope, ref.runId, ref.dataset);
    }
  }

  /**
   * A tracking run's logged dataset (mlflow.log_input): source type `lake` with a JSON source
   * `{"table", "filter"?, "version"?}`, or any source whose `uri` (or the source itself) is a path
   * among the run's artifacts (`runs:/<run>/data/train.parquet` or `data/train.parquet`).
   */
  private async runDataset(ctx: RequestContext, scope: GroupScope, runId: string, name: string | undefined): Promise<ReferenceSource> {
    const run = await this.deps.tracking.getRun(ctx, runId);
    const experiment = await this.deps.tracking.getExperiment(ctx, run.info.experimentId);
    if (experiment.group !== scope.name) throw invalid(`Run ${runId} belongs to another group; a monitor's reference must be in its own group.`);
    const inputs = run.inputs.datasetInputs;
    if (inputs.length === 0) throw invalid(`Run ${runId} logged no dataset (mlflow.log_input): name a lake table or upload the reference instead.`);
    const input = name === undefined ? inputs[0]! : inputs.find((i) => i.dataset.name === name);
    if (!input)
      throw invalid(`Run ${runId} logged no dataset named ${JSON.stringify(name)}; it logged ${inputs.map((i) => JSON.stringify(i.dataset.name)).join(', ')}.`);
    const { sourceType, source } = input.dataset;
    let parsed: Record<string, unknown> | undefined;
    try {
      const value = JSON.parse(source) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) parsed = value as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
    if (LAKE_SOURCE_TYPES.has(sourceType.toLowerCase())) {
      if (typeof parsed?.table !== 'string')
        throw invalid(`Dataset ${input.dataset.name} of run ${runId} has source type ${sourceType} but its source is not {"table": …}.`);
      return {
        table: parsed.table,
        ...(typeof parsed.filter === 'string' ? { filter: parsed.filter } : {}),
        ...(typeof parsed.version === 'number' || parsed.version === 'latest' ? { version: parsed.version as number | 'latest' } : {}),
      };
    }
    const uri = typeof parsed?.uri === 'string' ? parsed.uri : source;
    const prefix = `runs:/${runId}/`;
    const artifact = uri.startsWith(prefix) ? uri.slice(prefix.length) : /^[\w./-]+$/.test(uri) && !uri.includes('..') ? uri : undefined;
    if (!artifact)
      throw invalid(
        `Dataset ${input.dataset.name} of run ${runId} comes from ${JSON.stringify(uri.slice(0, 200))}, which this server cannot read: log it from a lake table (source type "lake") or as an artifact of the run.`,
      );
    formatOf(artifact);
    await mkdir(this.deps.tempDir, { recursive: true });
    const file = path.join(this.deps.tempDir, `${newId()}${path.extname(artifact).toLowerCase()}`);
    const { stream } = await this.deps.artifacts.openRunFile(ctx, runId, artifact);
    await pipeline(stream, createWriteStream(file));
    return { file };
  }

  /** The source's columns (without the lake's own) and whether it has a row. */
  async probe(scope: GroupScope, source: ReferenceSource): Promise<ReferenceProbe> {
    if ('file' in source) {
      return withDuckDB(async (all) => {
        const described = await all(`DESCRIBE SELECT * FROM ${readerOf(source.file)}`);
        const [count] = await all(`SELECT count(*) AS n FROM (SELECT 1 FROM ${readerOf(source.file)} LIMIT 1)`);
        return {
          columns: described.map((d) => ({ name: String(d.column_name), type: String(d.column_type) })),
          hasRows: Number(count?.n ?? 0) > 0,
        };
      }).catch((err: unknown) => {
        throw invalid(`The reference file could not be read: ${(err as Error).message.split('\n')[0]!.replace(/(['"])\/[^'"]*\1/g, 'the file')}`);
      });
    }
    const table = await this.deps.lake.describe(scope, source.table);
    const columns = table.columns.filter((c) => !LAKE_SYSTEM_COLUMNS.includes(c.name));
    const page = await this.deps.lake.rows(scope, source.table, {
      filter: source.filter,
      version: source.version,
      limit: 1,
      columns: [table.columns[0]!.name],
    });
    return { columns, hasRows: page.rows.length > 0 };
  }

  /** Writes the source's rows, these columns only, to a Parquet file; the row count. */
  async export(groupId: string, source: ReferenceSource, columns: string[], file: string): Promise<number> {
    if ('table' in source) return this.deps.lake.exportForJob(groupId, source.table, { filter: source.filter, version: source.version, columns }, file);
    return withDuckDB(async (all) => {
      const [row] = await all(
        `COPY (SELECT ${columns.map(quoteIdent).join(', ')} FROM ${readerOf(source.file)}) TO ${fileLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      return Number(row?.Count ?? row?.count ?? 0);
    });
  }

  /** Removes what `source` copied out for a run dataset (files of training runs stay). */
  async release(source: ReferenceSource): Promise<void> {
    if ('file' in source && source.file.startsWith(this.deps.tempDir + path.sep)) await rm(source.file, { force: true });
  }
}
