import type { Launch } from './sandbox.js';
import { ModelError, WorkerError, WorkerProcess, workerRun, type InputFormat, type Invocation, type WorkerSpec } from './worker-process.js';

export interface PoolOptions {
  spec: WorkerSpec;
  minWorkers: number;
  maxWorkers: number;
  /** Requests allowed to wait for a worker; one more is refused (back-pressure, not an unbounded queue). */
  maxQueue: number;
  /** From arrival to answer, waiting included. */
  requestTimeoutMs: number;
  /** Requests coalesced into one model call when the model takes frames. */
  maxBatch: number;
  /** A worker above the minimum that has been idle this long is stopped. */
  idleMs?: number;
}

/** The pool is full: callers should come back shortly (503 with Retry-After). */
export class OverloadedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OverloadedError';
  }
}

interface Request {
  body: Buffer;
  format: InputFormat;
  /** An MLflow /invocations call, with its media type: answered alone, never batched. */
  invoke?: string;
  deadline: number;
  resolve(out: Invocation): void;
  reject(err: Error): void;
}

const predicted = (body: Buffer): Invocation => ({ status: 200, contentType: 'application/json', body });
const remaining = (batch: Request[]) => Math.max(1, Math.min(...batch.map((r) => r.deadline)) - Date.now());

interface Slot {
  worker: WorkerProcess;
  ready: boolean;
  idleSince: number;
}

export interface PoolStats {
  workers: number;
  busy: number;
  queued: number;
  served: number;
  /** Model calls made: fewer than requests served when requests were batched. */
  calls: number;
  failed: number;
  restarts: number;
  pids: number[];
}

/**
 * Persistent Python workers for one deployment: requests queue (bounded) for an idle worker;
 * concurrent requests to a frame model go in one call; a worker that crashes or hangs fails only
 * the calls it held and is replaced.
 */
export class WorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Request[] = [];
  private stopped = false;
  private served = 0;
  private calls = 0;
  private failed = 0;
  private restarts = 0;
  private loadFailures = 0;
  private lastLoadError: Error | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private launch: Launch | undefined;

  constructor(private readonly o: PoolOptions) {}

  /** Starts the minimum number of workers and waits until one is ready (or the model fails to load). */
  async start(): Promise<void> {
    this.launch = await this.o.spec.sandbox.launch(workerRun(this.o.spec));
    const starting = Array.from({ length: Math.max(1, this.o.minWorkers) }, () => this.spawn());
    const idleMs = this.o.idleMs ?? 60_000;
    this.idleTimer = setInterval(() => this.shrink(idleMs), Math.max(500, idleMs / 2)).unref();
    await Promise.any(starting.map((s) => s.worker.ready)).catch(() => {
      throw this.lastLoadError ?? new WorkerError('load-failed', 'No worker could start.');
    });
  }

  predict(body: Buffer, format: InputFormat = 'json'): Promise<Buffer> {
    return this.enqueue(body, format).then((a) => a.body);
  }

  /** An MLflow /invocations body of the given media type; the worker answers with MLflow's status and body. */
  invoke(body: Buffer, contentType: string): Promise<Invocation> {
    return this.enqueue(body, 'json', contentType);
  }

  private enqueue(body: Buffer, format: InputFormat, invoke?: string): Promise<Invocation> {
    if (this.stopped) return Promise.reject(new WorkerError('crashed', 'The deployment is stopping.'));
    if (this.loadFailures >= 3 && this.lastLoadError) return Promise.reject(this.lastLoadError);
    if (this.queue.length >= this.o.maxQueue)
      return Promise.reject(
        new OverloadedError(`${this.queue.length} requests are already waiting for this deployment's ${this.slots.size} workers; retry shortly.`),
      );
    return new Promise((resolve, reject) => {
      this.queue.push({ body, format, invoke, deadline: Date.now() + this.o.requestTimeoutMs, resolve, reject });
      this.dispatch();
    });
  }

  stats(): PoolStats {
    const slots = [...this.slots];
    return {
      workers: slots.length,
      busy: slots.filter((s) => s.worker.busy && s.ready).length,
      queued: this.queue.length,
      served: this.served,
      calls: this.calls,
      failed: this.failed,
      restarts: this.restarts,
      pids: slots.map((s) => s.worker.pid ?? 0),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.idleTimer);
    for (const r of this.queue.splice(0)) r.reject(new WorkerError('crashed', 'The deployment was stopped.'));
    await Promise.all([...this.slots].map((s) => s.worker.stop()));
    this.slots.clear();
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new WorkerProcess(this.o.spec, this.launch!), ready: false, idleSince: Date.now() };
    this.slots.add(slot);
    slot.worker.ready.then(
      () => {
        slot.ready = true;
        this.loadFailures = 0;
        this.dispatch();
      },
      (err: Error) => {
        this.slots.delete(slot);
        this.loadFailures++;
        this.lastLoadError = err;
        // A model that cannot load will not load on the next try either: fail what waits.
        if (this.loadFailures >= 3 || ![...this.slots].length) for (const r of this.queue.splice(0)) r.reject(err);
        else this.dispatch();
      },
    );
    slot.worker.child.on('exit', () => {
      if (!this.slots.delete(slot) || this.stopped) return;
      this.restarts++;
      this.dispatch();
    });
    return slot;
  }

  private dispatch(): void {
    if (this.stopped) return;
    const now = Date.now();
    // Requests that waited past their deadline are answered now, not when a worker frees up.
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const r = this.queue[i]!;
      if (r.deadline <= now) {
        this.queue.splice(i, 1);
        this.failed++;
        r.reject(new WorkerError('timeout', `No worker was free within ${this.o.requestTimeoutMs / 1000} s.`));
      }
    }
    for (const slot of this.slots) {
      if (this.queue.length === 0) break;
      if (!slot.ready || slot.worker.busy || !slot.worker.alive) continue;
      const take = slot.worker.batchable ? Math.min(this.o.maxBatch, this.queue.length) : 1;
      void this.run(slot, this.queue.splice(0, take));
    }
    const starting = [...this.slots].filter((s) => !s.ready).length;
    const wanted = Math.min(this.o.maxWorkers, Math.max(this.o.minWorkers, this.slots.size + (this.queue.length > starting ? 1 : 0)));
    if (this.loadFailures < 3) for (let n = this.slots.size; n < wanted; n++) this.spawn();
  }

  private async run(slot: Slot, batch: Request[]): Promise<void> {
    let alone = batch;
    try {
      const plain = batch.filter((r) => r.invoke === undefined);
      if (plain.length > 1) {
        try {
          this.calls++;
          const outs = await slot.worker.predictMany(
            plain.map((r) => r.body),
            remaining(plain),
            plain.map((r) => r.format),
          );
          this.served += plain.length;
          for (const [i, r] of plain.entries()) r.resolve(predicted(outs[i]!));
          alone = batch.filter((r) => r.invoke !== undefined);
        } catch (err) {
          if (!(err instanceof ModelError)) throw err;
          // One bad request must not fail those it was batched with: answer each on its own.
        }
      }
      while (alone.length > 0) {
        const r = alone[0]!;
        try {
          this.calls++;
          r.resolve(
            r.invoke === undefined
              ? predicted(await slot.worker.predict(r.body, remaining([r]), r.format))
              : await slot.worker.invoke(r.body, remaining([r]), r.invoke),
          );
          this.served++;
        } catch (err) {
          if (!(err instanceof ModelError)) throw err;
          this.failed++;
          r.reject(err);
        }
        alone = alone.slice(1);
      }
    } catch (err) {
      // The worker died or hung: every request it still held fails with that reason.
      for (const r of alone) {
        this.failed++;
        r.reject(err as Error);
      }
    } finally {
      slot.idleSince = Date.now();
      this.dispatch();
    }
  }

  private shrink(idleMs: number): void {
    const now = Date.now();
    for (const slot of this.slots) {
      if (this.slots.size <= this.o.minWorkers) return;
      if (slot.ready && !slot.worker.busy && now - slot.idleSince > idleMs) {
        this.slots.delete(slot);
        void slot.worker.stop();
      }
    }
  }
}
