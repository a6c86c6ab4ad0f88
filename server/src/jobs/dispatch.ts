import type { Capability } from './catalog.js';
import type { Executor, JobsStore } from './store.js';

/** "Job X, carrying token T, may run now." The engine claims the row; a stale token claims nothing. */
export interface Dispatch {
  jobId: string;
  token: string;
  /** The queue engine's own handle on this dispatch, kept on the row to clean up after a dead worker. */
  ref: string | null;
}

/**
 * Tells workers which job to look at. The job row stays the record; a dispatcher only delivers
 * "look at this row now", at least once, to one worker at a time.
 */
export interface Dispatcher {
  readonly name: 'table' | 'graphile-worker';
  /** Prepares what the queue engine needs (its schema); called once before anything is queued. */
  init(): Promise<void>;
  /**
   * Makes the queue engine aware of a queued row, inside the transaction that queued it. A job that
   * needs a capability is delivered only to workers that have it.
   */
  enqueue(trx: Executor, job: { id: string; token: string; runAt: number; priority: number; needs?: Capability }): Promise<void>;
  /** After commit: local workers should look now rather than at their next poll. */
  wake(): void;
  start(concurrency: number, run: (d: Dispatch) => Promise<void>): Promise<void>;
  /** Stops taking new work; resolves once the dispatcher's own loops have ended. */
  stop(): Promise<void>;
  /** Drops what the queue engine still holds for a dispatch whose worker died. */
  release(ref: string): Promise<void>;
}

/**
 * The embedded dispatcher: the jobs table is the queue. One process owns a SQLite database, so a
 * poll plus an in-process wake-up is all it takes; claims are still guarded UPDATEs.
 */
export class TableDispatcher implements Dispatcher {
  readonly name = 'table';
  private stopped = true;
  private wakeUp: (() => void) | undefined;
  private pending = false;
  private loop: Promise<void> | undefined;
  private readonly active = new Set<string>();

  constructor(
    private readonly store: JobsStore,
    private readonly clock: () => number,
    /** Kinds needing a capability this worker lacks: the poll leaves them queued for one that has it. */
    private readonly skipKinds: readonly string[],
    private readonly pollMs = 1000,
  ) {}

  async init(): Promise<void> {
    // The jobs table is all there is.
  }

  async enqueue(): Promise<void> {
    // The row itself is what the poll finds.
  }

  wake(): void {
    this.pending = true;
    this.wakeUp?.();
  }

  async start(concurrency: number, run: (d: Dispatch) => Promise<void>): Promise<void> {
    this.stopped = false;
    this.loop = this.runLoop(concurrency, run);
  }

  private async runLoop(concurrency: number, run: (d: Dispatch) => Promise<void>): Promise<void> {
    while (!this.stopped) {
      this.pending = false;
      const free = concurrency - this.active.size;
      let nextAt: number | undefined;
      let filled = false;
      try {
        if (free > 0) {
          const now = this.clock();
          const due = await this.store.due(now, free, this.active, this.skipKinds);
          for (const d of due) {
            this.active.add(d.id);
            void run({ jobId: d.id, token: d.token, ref: null }).finally(() => {
              this.active.delete(d.id);
              this.wake();
            });
          }
          // Every free slot taken: more may be due, and a finishing job wakes the loop anyway.
          filled = due.length === free;
          if (!filled) nextAt = await this.store.nextRunAt(now, this.skipKinds);
        }
      } catch {
        // The database was busy or closing; the next round tries again.
      }
      if (this.stopped || this.pending || filled) {
        if (filled) await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      // Sleep until the next job falls due (a millisecond past it, so the clock has reached it), at most one poll.
      const wait = nextAt !== undefined ? Math.max(1, Math.min(this.pollMs, nextAt - this.clock() + 1)) : this.pollMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
  }

  async release(): Promise<void> {
    // Nothing is held outside the row.
  }
}
