import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { InferenceLogInfo, InferenceLogSettings, LakeColumn } from '@forja/contracts';
import { newId } from '../db/ids.js';
import { fileLiteral, sqlTimestamp, toJsonValue, typeFamily } from '../lake/engine.js';
import type { LakeService } from '../lake/service.js';
import { csvFrame, inputFrame, loggedRows, outputFrame, outputFrameOfTable, MAX_LOGGED_ROWS, type Frame, type LoggedRows } from './inference-log-rows.js';

/** The lake table (in the deployment's group) a deployment's inference log goes to. */
export function inferenceTableOf(deployment: { id: string }): string {
  return `inference__${deployment.id}`;
}

export type LoggedFormat = 'json' | 'csv' | 'parquet';

/** What the predict path hands over: references to the bytes, no parsing. */
export interface SampledCall {
  deploymentId: string;
  groupId: string;
  requestId: string;
  /** When the call ended (ms). */
  at: number;
  latencyMs: number;
  modelVersion: string | null;
  body: Buffer;
  format: LoggedFormat;
  answer: Buffer;
}

/** An async execution's files, read in the background (the execution id is the request id). */
export interface LoggedExecution {
  deploymentId: string;
  groupId: string;
  executionId: string;
  at: number;
  latencyMs: number;
  modelVersion: string | null;
  input: string;
  output: string;
}

type Pending = { kind: 'call'; call: SampledCall } | { kind: 'execution'; execution: LoggedExecution };

export interface InferenceLogOptions {
  lake: LakeService;
  /** How often the buffer goes to the lake (ms). */
  flushMs?: number;
  /** Pending calls that start a write before the timer does. */
  flushCalls?: number;
  /** The buffer's cap: bytes of pending bodies and answers, and pending calls; beyond it calls are dropped and counted. */
  maxBytes?: number;
  maxCalls?: number;
  /** False in a standalone worker that cannot open the server's DuckDB lake: it writes no log and sweeps nothing. */
  lakeHere?: boolean;
  clock?: () => number;
  onError?: (err: unknown) => void;
}

/** A JSON execution file larger than this is not read into the log (CSV and Parquet are read by DuckDB, first rows only). */
const MAX_JSON_FILE = 64 * 1024 * 1024;
const FIXED_TYPES: Record<string, string> = {
  request_id: 'VARCHAR',
  logged_at: 'TIMESTAMP',
  latency_ms: 'DOUBLE',
  model_version: 'VARCHAR',
  row_index: 'INTEGER',
};
const DAY = 86_400_000;

/**
 * Every deployment's sampled calls on their way to the lake. The predict path only appends a
 * reference to the bytes it already has (`capture`); parsing, flattening and the lake write happen
 * in a background pass every ~2 s (or sooner once many calls wait), one append per deployment.
 * Memory is capped: past it, calls are dropped and counted, never queued without bound.
 */
export class InferenceLog {
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private readonly dropped = new Map<string, number>();
  private readonly pendingOf = new Map<string, number>();
  /** Column types of each deployment's table as last seen, so a batch's values fit the table. */
  private readonly types = new Map<string, Map<string, LakeColumn>>();
  private timer: NodeJS.Timeout | undefined;
  private retention: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private scheduled = false;
  private scratch: Promise<DuckDBInstance> | undefined;
  private readonly lake: LakeService;
  private readonly flushMs: number;
  private readonly flushCalls: number;
  private readonly maxBytes: number;
  private readonly maxCalls: number;
  private readonly clock: () => number;
  private readonly onError: (err: unknown) => void;
  private readonly lakeHere: boolean;
  private warnedNoLake = false;

  constructor(options: InferenceLogOptions) {
    this.lakeHere = options.lakeHere ?? true;
    this.lake = options.lake;
    this.flushMs = options.flushMs ?? 2_000;
    this.flushCalls = options.flushCalls ?? 5_000;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.maxCalls = options.maxCalls ?? 50_000;
    this.clock = options.clock ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
  }

  /** The predict path's whole cost when a call is sampled: a push, or a count when the buffer is full. */
  capture(call: SampledCall): void {
    const bytes = call.body.length + call.answer.length;
    if (this.pending.length >= this.maxCalls || this.pendingBytes + bytes > this.maxBytes) {
      this.dropped.set(call.deploymentId, (this.dropped.get(call.deploymentId) ?? 0) + 1);
      return;
    }
    this.pendingBytes += bytes;
    this.enqueue(call.deploymentId, { kind: 'call', call });
  }

  captureExecution(execution: LoggedExecution): void {
    if (!this.lakeHere) {
      if (!this.warnedNoLake)
        this.onError(
          new Error('This worker cannot open the DuckDB lake, so it logs no async execution rows: share a PostgreSQL lake (FORJA_LAKE_URL) to log them.'),
        );
      this.warnedNoLake = true;
    }
    if (!this.lakeHere || this.pending.length >= this.maxCalls) {
      this.dropped.set(execution.deploymentId, (this.dropped.get(execution.deploymentId) ?? 0) + 1);
      return;
    }
    this.enqueue(execution.deploymentId, { kind: 'execution', execution });
  }

  private enqueue(deploymentId: string, item: Pending): void {
    this.pending.push(item);
    this.pendingOf.set(deploymentId, (this.pendingOf.get(deploymentId) ?? 0) + 1);
    this.timer ??= setInterval(() => this.schedule(), this.flushMs).unref();
    if (this.pending.length >= this.flushCalls) this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush().catch(this.onError);
    });
  }

  /** Writes every pending call to its deployment's table now (one pass at a time). */
  flush(): Promise<void> {
    this.flushing = this.flushing.catch(() => undefined).then(() => this.writePending());
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const taken = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const byDeployment = new Map<string, Pending[]>();
    for (const item of taken) {
      const id = item.kind === 'call' ? item.call.deploymentId : item.execution.deploymentId;
      let list = byDeployment.get(id);
      if (!list) byDeployment.set(id, (list = []));
      list.push(item);
    }
    for (const [deploymentId, items] of byDeployment) {
      try {
        await this.writeDeployment(deploymentId, items);
      } catch (err) {
        this.types.delete(deploymentId);
        this.dropped.set(deploymentId, (this.dropped.get(deploymentId) ?? 0) + items.length);
        this.onError(err);
      } finally {
        const left = (this.pendingOf.get(deploymentId) ?? 0) - items.length;
        if (left > 0) this.pendingOf.set(deploymentId, left);
        else this.pendingOf.delete(deploymentId);
      }
    }
  }

  private async writeDeployment(deploymentId: string, items: Pending[]): Promise<void> {
    const groupId = items[0]!.kind === 'call' ? items[0]!.call.groupId : items[0]!.execution.groupId;
    const batches: LoggedRows[] = [];
    for (const item of items) {
      const rows = await this.rowsOf(item).catch((err: unknown) => {
        this.dropped.set(deploymentId, (this.dropped.get(deploymentId) ?? 0) + 1);
        this.onError(err);
        return undefined;
      });
      if (rows) batches.push(rows);
    }
    if (batches.length === 0) return;
    const table = inferenceTableOf({ id: deploymentId });
    let known = this.types.get(deploymentId);
    if (!known) {
      const span = await this.lake.span(groupId, table, 'logged_at');
      known = new Map((span?.columns ?? []).map((c) => [c.name.toLowerCase(), c]));
      this.types.set(deploymentId, known);
    }
    // The batch's columns: the union of its calls', each with the table's type or one read from the values.
    const index = new Map<string, number>();
    const names: string[] = [];
    for (const b of batches)
      for (const c of b.columns)
        if (!index.has(c.toLowerCase())) {
          index.set(c.toLowerCase(), names.length);
          names.push(c);
        }
    const rows: unknown[][] = [];
    for (const b of batches) {
      const at = b.columns.map((c) => index.get(c.toLowerCase())!);
      for (const r of b.rows) {
        const row = new Array<unknown>(names.length).fill(null);
        for (let j = 0; j < r.length; j++) row[at[j]!] = r[j];
        rows.push(row);
      }
    }
    const columns = names.map((name, j) => known.get(name.toLowerCase()) ?? { name, type: FIXED_TYPES[name] ?? typeOfValues(rows, j) });
    await mkdir(this.lake.tempDir, { recursive: true });
    const base = path.join(this.lake.tempDir, `inference-${newId()}`);
    try {
      await writeFile(`${base}.csv`, csvOf(columns, rows));
      await this.withScratch((c) =>
        c.run(`COPY (SELECT * FROM ${typedCsv(`${base}.csv`, columns)}) TO ${fileLiteral(`${base}.parquet`)} (FORMAT parquet, COMPRESSION zstd)`),
      );
      await this.lake.writeRows(
        { groupId, createdBy: 'inference-log', evolve: true },
        table,
        { file: `${base}.parquet`, format: 'parquet' },
        { mode: 'append' },
      );
    } finally {
      await rm(`${base}.csv`, { force: true });
      await rm(`${base}.parquet`, { force: true });
    }
    for (const c of columns) known.set(c.name.toLowerCase(), c);
  }

  private async rowsOf(item: Pending): Promise<LoggedRows> {
    if (item.kind === 'call') {
      const { call } = item;
      return loggedRows(
        { requestId: call.requestId, loggedAt: sqlTimestamp(call.at), latencyMs: call.latencyMs, modelVersion: call.modelVersion },
        await this.frameOf(call.body, call.format),
        outputFrame(parseJson(call.answer)),
      );
    }
    const e = item.execution;
    return loggedRows(
      { requestId: e.executionId, loggedAt: sqlTimestamp(e.at), latencyMs: e.latencyMs, modelVersion: e.modelVersion },
      await this.frameOfFile(e.input, false),
      await this.frameOfFile(e.output, true),
    );
  }

  private async frameOf(body: Buffer, format: LoggedFormat): Promise<Frame> {
    if (format === 'json') return inputFrame(parseJson(body));
    if (format === 'csv') return csvFrame(body.toString('utf8'));
    await mkdir(this.lake.tempDir, { recursive: true });
    const file = path.join(this.lake.tempDir, `inference-${newId()}.parquet`);
    try {
      await writeFile(file, body);
      return await this.readFile(file, 'parquet');
    } finally {
      await rm(file, { force: true });
    }
  }

  /** An execution's input or output file: CSV and Parquet through DuckDB (first rows only), JSON parsed; other files log no columns. */
  private async frameOfFile(file: string, isOutput: boolean): Promise<Frame> {
    const ext = path.extname(file).toLowerCase();
    let frame: Frame = { columns: [], rows: [] };
    if (ext === '.csv' || ext === '.parquet') frame = await this.readFile(file, ext === '.csv' ? 'csv' : 'parquet');
    else if (ext === '.json' && (await stat(file)).size <= MAX_JSON_FILE) {
      const payload = parseJson(await readFile(file));
      return isOutput ? outputFrame(payload) : inputFrame(payload);
    }
    return isOutput ? outputFrameOfTable(frame) : frame;
  }

  private readFile(file: string, format: 'csv' | 'parquet'): Promise<Frame> {
    return this.withScratch(async (c) => {
      const source = format === 'csv' ? `read_csv(${fileLiteral(file)}, header=true)` : `read_parquet(${fileLiteral(file)})`;
      const reader = await c.runAndReadAll(`SELECT * FROM ${source} LIMIT ${MAX_LOGGED_ROWS}`);
      const columns = reader.columnNames();
      return { columns, rows: reader.getRows().map((r) => r.map(toJsonValue)) };
    });
  }

  /** DuckDB in memory, for the file work (CSV to typed Parquet, reading Parquet bodies): never the lake itself. */
  private async withScratch<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    this.scratch ??= DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', temp_directory: this.lake.tempDir });
    const c = await (await this.scratch).connect();
    try {
      return await fn(c);
    } finally {
      c.closeSync();
    }
  }

  /** Table, settings, rows and dates of a deployment's log, with this server's dropped and pending counts. */
  async info(deployment: { id: string; groupId: string; settings: InferenceLogSettings }): Promise<InferenceLogInfo> {
    const table = inferenceTableOf(deployment);
    const span = await this.lake.span(deployment.groupId, table, 'logged_at');
    return {
      table,
      settings: deployment.settings,
      rows: span?.rows ?? 0,
      firstAt: span?.first ?? null,
      lastAt: span?.last ?? null,
      dropped: this.dropped.get(deployment.id) ?? 0,
      pending: this.pendingOf.get(deployment.id) ?? 0,
    };
  }

  /** Deletes rows older than each deployment's retention (0 keeps them); returns the rows deleted. */
  async sweep(targets: Array<{ id: string; groupId: string; retentionDays: number }>, now = this.clock()): Promise<number> {
    let deleted = 0;
    for (const t of targets) {
      if (t.retentionDays <= 0) continue;
      try {
        deleted += await this.lake.deleteBefore(t.groupId, inferenceTableOf(t), 'logged_at', now - t.retentionDays * DAY);
      } catch (err) {
        this.onError(err);
      }
    }
    return deleted;
  }

  /** Runs the retention sweep now and then every `everyMs` over the deployments `targets` lists. */
  startRetention(targets: () => Promise<Array<{ id: string; groupId: string; retentionDays: number }>>, everyMs: number): void {
    if (this.retention || !this.lakeHere) return;
    const run = () => void targets().then((t) => this.sweep(t), this.onError);
    this.retention = setInterval(run, everyMs).unref();
    run();
  }

  stopRetention(): void {
    clearInterval(this.retention);
    this.retention = undefined;
  }

  /** Writes what is pending, then closes the scratch DuckDB; later captures are still taken and written by a later flush. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush().catch(this.onError);
    const scratch = this.scratch;
    this.scratch = undefined;
    (await scratch?.catch(() => undefined))?.closeSync();
  }
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The type a new column takes from its values: all numbers DOUBLE, all booleans BOOLEAN, anything else VARCHAR. */
function typeOfValues(rows: unknown[][], j: number): string {
  let numbers = true;
  let booleans = true;
  for (const r of rows) {
    const v = r[j];
    if (v === null || v === undefined) continue;
    if (typeof v !== 'number') numbers = false;
    if (typeof v !== 'boolean') booleans = false;
  }
  if (numbers) return 'DOUBLE';
  return booleans ? 'BOOLEAN' : 'VARCHAR';
}

/** One CSV field of a value for a column of `type`; a value that does not fit its column is NULL (empty, unquoted). */
function field(v: unknown, type: string): string {
  if (v === null || v === undefined) return '';
  const family = typeFamily(type);
  if (family === 'integer' || family === 'float') {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'boolean' ? Number(v) : Number.NaN;
    if (!Number.isFinite(n)) return '';
    return String(family === 'integer' ? Math.trunc(n) : n);
  }
  if (family === 'timestamp') return typeof v === 'string' ? v : '';
  if (type === 'BOOLEAN') return v === true || v === 'true' ? 'true' : v === false || v === 'false' ? 'false' : '';
  const text = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return `"${text.replace(/"/g, '""')}"`;
}

function csvOf(columns: LakeColumn[], rows: unknown[][]): string {
  const header = columns.map((c) => `"${c.name.replace(/"/g, '""')}"`).join(',');
  const lines = [header];
  for (const r of rows) lines.push(columns.map((c, j) => field(r[j], c.type)).join(','));
  return `${lines.join('\n')}\n`;
}

/** The CSV we wrote, read with the types we chose (no sniffing: a batch of whole numbers stays DOUBLE). */
function typedCsv(file: string, columns: LakeColumn[]): string {
  const types = columns.map((c) => `'${c.name.replace(/'/g, "''")}': '${c.type.replace(/'/g, "''")}'`).join(', ');
  return `read_csv(${fileLiteral(file)}, header=true, auto_detect=false, delim=',', quote='"', escape='"', allow_quoted_nulls=false, columns={${types}})`;
}
