import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exitOf, type Launch, type Sandbox, type SandboxRun } from './sandbox.js';
import { killGroup, spawnUserProcess, type Limits } from './user-process.js';

/** The Python side of the protocol; the same relative place from src/ and dist/. */
export const WORKER_SCRIPT = fileURLToPath(new URL('../../runtime/forja_worker.py', import.meta.url));

export interface WorkerSpec extends Limits {
  /** Workers start in the sandbox once, when spawned: the predict path pays nothing for it. */
  sandbox: Sandbox;
  /** The deployment's group: a root server runs each group's workers as a user of its own. */
  groupId: string;
  /** What the worker may read besides its environment: the deployment's model and files. */
  readOnly: string[];
  /** Outbound network, when a group admin allowed it for the deployment. */
  network?: boolean;
  /** The environment's interpreter. */
  python: string;
  kind: 'script' | 'pyfunc' | 'pickle';
  /** The source file (script) or the model file/directory. */
  path: string;
  entrypoint?: string;
  method?: 'predict' | 'predict_proba';
  /** The working directory, inside the deployment's folder. */
  cwd: string;
  /** The only environment the model sees besides PATH, HOME and LANG: declared secrets and Neomaril's variables. */
  env?: Record<string, string>;
  /** A script whose preprocess(data, base_path) runs before the model on every request. */
  preprocess?: string;
  /** Where the worker's stderr (prints, tracebacks) goes. */
  onLog(line: string): void;
  /** How long loading the model may take. */
  startTimeoutMs?: number;
}

export type InputFormat = 'json' | 'csv' | 'parquet';

/** An answer under MLflow's scoring contract: the worker chooses the status and the content type. */
export interface Invocation {
  status: number;
  contentType: string;
  body: Buffer;
}

export type WorkerFailure = 'crashed' | 'timeout' | 'load-failed';

/** Why a call did not get an answer from the model: the pool maps it to 503 or 504. */
export class WorkerError extends Error {
  constructor(
    readonly failure: WorkerFailure,
    message: string,
  ) {
    super(message);
    this.name = 'WorkerError';
  }
}

/** The model answered with an error of its own (the scorer raised). */
export class ModelError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

/** The sandboxed process a worker of this spec runs; computed once per pool. */
export function workerRun(spec: WorkerSpec): SandboxRun {
  const argv = [spec.python, WORKER_SCRIPT, '--kind', spec.kind, '--path', spec.path, '--base-path', spec.cwd];
  if (spec.entrypoint) argv.push('--entrypoint', spec.entrypoint);
  if (spec.method) argv.push('--method', spec.method);
  if (spec.preprocess) argv.push('--preprocess', spec.preprocess);
  // HOME is the sandbox's private /tmp: the model's folder is read-only.
  return {
    groupId: spec.groupId,
    argv,
    cwd: spec.cwd,
    python: spec.python,
    env: { HOME: '/tmp', ...spec.env },
    readOnly: spec.readOnly,
    network: spec.network,
  };
}

interface Pending {
  resolve(frame: { header: Record<string, unknown>; body: Buffer }): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * One Python worker process speaking the framed protocol. It answers one call at a time; a call
 * that outlives its timeout kills the process (it may be stuck in C code), and a dead process
 * fails its call. Either way the pool replaces the worker.
 */
export class WorkerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  batchable = false;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  private nextId = 1;
  private exited = false;
  private killed = false;
  private exitReason: string | undefined;
  readonly ready: Promise<void>;

  constructor(spec: WorkerSpec, launch: Launch) {
    this.child = spawnUserProcess(launch, spec, 'pipe');
    let stderrTail = '';
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      const text = stderrTail + chunk;
      const lines = text.split('\n');
      stderrTail = lines.pop() ?? '';
      for (const line of lines) spec.onLog(line);
    });
    this.child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    this.child.stdin.on('error', () => undefined);
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.kill();
        reject(new WorkerError('timeout', `The model did not load within ${(spec.startTimeoutMs ?? 60_000) / 1000} s.`));
      }, spec.startTimeoutMs ?? 60_000);
      this.pending = {
        timer,
        resolve: ({ header }) => {
          clearTimeout(timer);
          if (header.ok) {
            this.batchable = header.batchable === true;
            resolve();
          } else {
            const e = header.error as { type: string; message: string };
            reject(new WorkerError('load-failed', `Loading the model failed: ${e.type}: ${e.message}`));
          }
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
    });
    this.ready.catch(() => undefined);
    // The interpreter itself could not start (its environment was removed): no exit event follows.
    this.child.on('error', (err) => {
      this.exited = true;
      this.exitReason ??= `could not start: ${err.message}`;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(new WorkerError('crashed', `The model's worker ${this.exitReason}.`));
    });
    this.child.on('exit', (exitCode, exitSignal) => {
      const { code, signal } = exitOf(exitCode, exitSignal);
      if (stderrTail) spec.onLog(stderrTail);
      this.exited = true;
      this.exitReason ??=
        signal === 'SIGKILL' ? 'was killed (out of memory, or by a time limit)' : signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(new WorkerError('crashed', `The model's worker ${this.exitReason}.`));
    });
  }

  /** False from the moment it is killed, before the exit arrives: nothing more is sent to it. */
  get alive(): boolean {
    return !this.exited && !this.killed;
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** One predict call; body is the request as bytes, in the given format. */
  async predict(body: Buffer, timeoutMs: number, format: InputFormat = 'json'): Promise<Buffer> {
    return (await this.call({ op: 'predict', format }, body, timeoutMs)).body;
  }

  /** Several requests in one model call (rows concatenated); one answer per request. */
  /** One MLflow /invocations call: the body as sent, of the given media type. */
  async invoke(body: Buffer, timeoutMs: number, contentType: string): Promise<Invocation> {
    const { header, body: out } = await this.call({ op: 'invoke', contentType }, body, timeoutMs);
    return { status: Number(header.status), contentType: String(header.contentType), body: out };
  }

  async predictMany(bodies: Buffer[], timeoutMs: number, formats: InputFormat[]): Promise<Buffer[]> {
    const { header, body } = await this.call({ op: 'predict_many', sizes: bodies.map((b) => b.length), formats }, Buffer.concat(bodies), timeoutMs);
    const sizes = header.sizes as number[];
    const out: Buffer[] = [];
    let start = 0;
    for (const size of sizes) {
      out.push(body.subarray(start, start + size));
      start += size;
    }
    return out;
  }

  private call(header: Record<string, unknown>, body: Buffer, timeoutMs: number): Promise<{ header: Record<string, unknown>; body: Buffer }> {
    if (!this.alive) return Promise.reject(new WorkerError('crashed', `The model's worker ${this.exitReason ?? 'has stopped'}.`));
    if (this.pending) return Promise.reject(new Error('worker is busy'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // The pool passes what is left of the request's time: 3,999 ms is the deployment's "4 s".
      const seconds = Math.round(timeoutMs / 100) / 10;
      const timer = setTimeout(() => {
        this.exitReason = `did not answer within ${seconds} s and was stopped`;
        const p = this.pending;
        this.pending = undefined;
        this.kill();
        p?.reject(new WorkerError('timeout', `The model did not answer within ${seconds} s.`));
      }, timeoutMs);
      this.pending = {
        timer,
        resolve: ({ header: h, body: b }) => {
          clearTimeout(timer);
          if (h.ok) resolve({ header: h, body: b });
          else {
            const e = h.error as { type: string; message: string };
            if (e.type === 'MemoryError') {
              // The worker stops itself after this answer; send it nothing more.
              this.exitReason = 'ran out of memory';
              this.kill();
              reject(new WorkerError('crashed', e.message));
            } else reject(new ModelError(e.type, e.message));
          }
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const h = Buffer.from(JSON.stringify({ ...header, id }));
      const frame = Buffer.allocUnsafe(8 + h.length + body.length);
      frame.writeUInt32BE(h.length, 0);
      h.copy(frame, 4);
      frame.writeUInt32BE(body.length, 4 + h.length);
      body.copy(frame, 8 + h.length);
      this.child.stdin.write(frame);
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.buffer.length < 4) return;
      const hlen = this.buffer.readUInt32BE(0);
      if (this.buffer.length < 8 + hlen) return;
      const blen = this.buffer.readUInt32BE(4 + hlen);
      const total = 8 + hlen + blen;
      if (this.buffer.length < total) return;
      const header = JSON.parse(this.buffer.subarray(4, 4 + hlen).toString('utf8')) as Record<string, unknown>;
      const body = Buffer.from(this.buffer.subarray(8 + hlen, total));
      this.buffer = this.buffer.subarray(total);
      const p = this.pending;
      this.pending = undefined;
      p?.resolve({ header, body });
    }
  }

  kill(): void {
    this.killed = true;
    if (!this.exited) killGroup(this.child, 'SIGKILL');
  }

  /** Closes stdin so the worker ends its loop, then makes sure it is gone. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.kill(), 2000);
    await gone;
    clearTimeout(timer);
  }
}
