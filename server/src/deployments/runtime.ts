import { appendFileSync, mkdirSync, statSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkerPool, type PoolStats } from '../runtime/worker-pool.js';
import type { Sandbox } from '../runtime/sandbox.js';
import type { InputFormat, Invocation } from '../runtime/worker-process.js';
import type { DeploymentSettings } from '@forja/contracts';
import type { DeploymentRow } from './store.js';

const LOG_CAP_BYTES = 5 * 1024 * 1024;

export interface RuntimeSpec {
  row: DeploymentRow;
  python: string;
  folder: string;
  secrets: Record<string, string>;
}

/**
 * The worker pools of the deployments this server has answered for. A pool starts on the first
 * request and is replaced when the deployment changes (rebuild, new settings), keyed by its
 * `updated_at`.
 */
export class DeploymentRuntime {
  private readonly pools = new Map<string, { stamp: number; pool: Promise<WorkerPool> }>();

  constructor(private readonly sandbox: Sandbox) {}

  async predict(spec: RuntimeSpec, body: Buffer, format: InputFormat): Promise<Buffer> {
    return (await this.poolFor(spec)).predict(body, format);
  }

  async invoke(spec: RuntimeSpec, body: Buffer, contentType: string): Promise<Invocation> {
    return (await this.poolFor(spec)).invoke(body, contentType);
  }

  /** Starts a pool outside a request (the build's test call) and returns it; the caller stops it. */
  async startPool(spec: RuntimeSpec, overrides: Partial<DeploymentSettings> = {}): Promise<WorkerPool> {
    const settings = { ...(JSON.parse(spec.row.settings) as DeploymentSettings), ...overrides };
    const pool = new WorkerPool({
      minWorkers: settings.minWorkers,
      maxWorkers: settings.maxWorkers,
      maxQueue: settings.maxQueue,
      requestTimeoutMs: settings.timeoutMs,
      maxBatch: settings.maxBatch,
      spec: {
        sandbox: this.sandbox,
        groupId: spec.row.group_id,
        // The deployment's own files only: not its runtime log, nor any other deployment's folder.
        readOnly: [path.join(spec.folder, 'files')],
        network: settings.network,
        python: spec.python,
        kind: spec.row.kind,
        path: path.join(spec.folder, spec.row.model_path),
        entrypoint: spec.row.entrypoint ?? undefined,
        method: spec.row.predict_method,
        cwd: path.join(spec.folder, 'files'),
        memoryMb: settings.memoryMb,
        // Rows written before these settings existed have neither.
        cpuSeconds: settings.cpuSeconds || undefined,
        maxFiles: settings.maxFiles ?? 1024,
        preprocess: preprocessFileOf(spec.row) ? path.join(spec.folder, 'files', preprocessFileOf(spec.row)!) : undefined,
        env: { ...spec.secrets, BASE_PATH: path.join(spec.folder, 'files'), ...(modelFileOf(spec.row) ? { modelFileName: modelFileOf(spec.row)! } : {}) },
        onLog: runtimeLogger(spec.folder),
      },
    });
    await pool.start();
    return pool;
  }

  stats(id: string): Promise<PoolStats | undefined> {
    const entry = this.pools.get(id);
    return entry ? entry.pool.then((p) => p.stats()).catch(() => undefined) : Promise.resolve(undefined);
  }

  async stop(id: string): Promise<void> {
    const entry = this.pools.get(id);
    this.pools.delete(id);
    await entry?.pool.then((p) => p.stop()).catch(() => undefined);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.pools.keys()].map((id) => this.stop(id)));
  }

  private poolFor(spec: RuntimeSpec): Promise<WorkerPool> {
    const current = this.pools.get(spec.row.id);
    if (current && current.stamp === spec.row.updated_at) return current.pool;
    if (current) void this.stop(spec.row.id);
    const pool = this.startPool(spec);
    this.pools.set(spec.row.id, { stamp: spec.row.updated_at, pool });
    // A pool that could not start is not kept: the next request tries again.
    pool.catch(() => {
      if (this.pools.get(spec.row.id)?.pool === pool) this.pools.delete(spec.row.id);
    });
    return pool;
  }
}

/** The preprocessing script chained before the model, when the deployment has one. */
export function preprocessFileOf(row: DeploymentRow): string | undefined {
  return (JSON.parse(row.files) as Array<{ name: string; role: string }>).find((f) => f.role === 'preprocess')?.name;
}

/** Neomaril's `modelFileName`: the file uploaded as the script's model. */
function modelFileOf(row: DeploymentRow): string | undefined {
  const files = JSON.parse(row.files) as Array<{ name: string; role: string }>;
  return row.kind === 'script' ? files.find((f) => f.role === 'model')?.name : undefined;
}

/** The deployment's runtime log: what its workers print, capped (the older half dropped when full). */
export function runtimeLogger(folder: string): (line: string) => void {
  const dir = path.join(folder, 'logs');
  const file = path.join(dir, 'runtime.log');
  mkdirSync(dir, { recursive: true });
  return (line: string) => {
    try {
      appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
      if (statSync(file).size > LOG_CAP_BYTES) {
        const text = readFileSync(file, 'utf8');
        writeFileSync(file, text.slice(text.length / 2));
      }
    } catch {
      // A full disk must not take predictions down with it.
    }
  };
}

export function readRuntimeLog(folder: string, maxBytes = 256 * 1024): string {
  try {
    const text = readFileSync(path.join(folder, 'logs', 'runtime.log'), 'utf8');
    return text.length > maxBytes ? text.slice(text.length - maxBytes) : text;
  } catch {
    return '';
  }
}
