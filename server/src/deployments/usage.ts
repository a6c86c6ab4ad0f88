import { UsageQuerySchema, type UsageQuery, type UsageSeries } from '@forja/contracts';
import { invalid } from '../errors.js';
import { bucketOf, LATENCY_BUCKETS, quantileOf } from './usage-histogram.js';
import type { UsageDelta, UsageStore } from './usage-store.js';

const MINUTE = 60_000;
const STEPS = { minute: MINUTE, hour: 60 * MINUTE, day: 24 * 60 * MINUTE } as const;
/** A series longer than this is refused: ask for a bigger step. */
const MAX_POINTS = 10_000;

interface Counter {
  calls: number;
  errors: number;
  buckets: Uint32Array;
}

export interface UsageRecorderOptions {
  store: UsageStore;
  /** How often the counts go to the table (ms). */
  flushMs?: number;
  clock?: () => number;
  onError?: (err: unknown) => void;
}

/**
 * Counts every sync call of every deployment per minute, in memory (the predict path adds to a
 * counter and nothing else), and adds the counts to the table every ~10 s and on close.
 */
export class UsageRecorder {
  private counters = new Map<string, Counter>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly store: UsageStore;
  private readonly flushMs: number;
  private readonly clock: () => number;
  private readonly onError: (err: unknown) => void;

  constructor(options: UsageRecorderOptions) {
    this.store = options.store;
    this.flushMs = options.flushMs ?? 10_000;
    this.clock = options.clock ?? Date.now;
    this.onError = options.onError ?? (() => undefined);
  }

  /** One call: its deployment, when it ended, how long it took and whether it failed. */
  record(deploymentId: string, at: number, latencyMs: number, ok: boolean): void {
    const minute = at - (at % MINUTE);
    const key = `${minute}|${deploymentId}`;
    let c = this.counters.get(key);
    if (!c) this.counters.set(key, (c = { calls: 0, errors: 0, buckets: new Uint32Array(LATENCY_BUCKETS) }));
    c.calls++;
    if (!ok) c.errors++;
    c.buckets[bucketOf(latencyMs)]!++;
    this.timer ??= setInterval(() => void this.flush().catch(this.onError), this.flushMs).unref();
  }

  /** Writes what was counted since the last flush; counts a failed write could not store are kept for the next. */
  flush(): Promise<void> {
    this.flushing = this.flushing
      .catch(() => undefined)
      .then(async () => {
        if (this.counters.size === 0) return;
        const taken = this.counters;
        this.counters = new Map();
        const deltas: UsageDelta[] = [...taken].map(([key, c]) => {
          const bar = key.indexOf('|');
          return { minute: Number(key.slice(0, bar)), deploymentId: key.slice(bar + 1), calls: c.calls, errors: c.errors, buckets: c.buckets };
        });
        try {
          await this.store.add(deltas);
        } catch (err) {
          for (const [key, c] of taken) this.merge(key, c);
          throw err;
        }
      });
    return this.flushing;
  }

  private merge(key: string, c: Counter): void {
    const now = this.counters.get(key);
    if (!now) return void this.counters.set(key, c);
    now.calls += c.calls;
    now.errors += c.errors;
    for (let i = 0; i < LATENCY_BUCKETS; i++) now.buckets[i]! += c.buckets[i]!;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Forgets a deleted deployment's counts, stored and pending. */
  async remove(deploymentId: string): Promise<void> {
    for (const key of [...this.counters.keys()]) if (key.endsWith(`|${deploymentId}`)) this.counters.delete(key);
    await this.store.remove(deploymentId);
  }

  /** Calls, errors and percentiles per step over [from, to); this server's counts are flushed first so they show at once. */
  async series(deploymentId: string, rawQuery: UsageQuery): Promise<UsageSeries> {
    const q = UsageQuerySchema.parse(rawQuery);
    const now = this.clock();
    const to = q.to ?? now;
    // Never before the epoch: a `to` inside the first day would otherwise give negative bucket times.
    const from = q.from ?? Math.max(0, to - STEPS.day);
    if (from >= to) throw invalid(`from (${from}) must be before to (${to}).`);
    const step = q.step ?? (to - from <= 500 * STEPS.minute ? 'minute' : to - from <= 500 * STEPS.hour ? 'hour' : 'day');
    const stepMs = STEPS[step];
    const start = from - (from % stepMs);
    const count = Math.ceil((to - start) / stepMs);
    if (count > MAX_POINTS) throw invalid(`That window holds ${count} ${step}s; ask for at most ${MAX_POINTS} points (a bigger step, or a shorter window).`);
    await this.flush().catch(this.onError);
    const rows = new Map((await this.store.series(deploymentId, start, to, stepMs)).map((r) => [r.t, r]));
    const total = { calls: 0, errors: 0, buckets: new Array<number>(LATENCY_BUCKETS).fill(0) };
    const points: UsageSeries['points'] = [];
    for (let i = 0; i < count; i++) {
      const t = start + i * stepMs;
      const r = rows.get(t);
      if (r) {
        total.calls += r.calls;
        total.errors += r.errors;
        for (let b = 0; b < LATENCY_BUCKETS; b++) total.buckets[b]! += r.buckets[b]!;
      }
      points.push({ t, calls: r?.calls ?? 0, errors: r?.errors ?? 0, ...percentiles(r?.buckets ?? []) });
    }
    return {
      step,
      points,
      totals: { calls: total.calls, errors: total.errors, ...percentiles(total.buckets) },
      firstCallAt: await this.store.firstMinute(deploymentId),
    };
  }
}

function percentiles(buckets: number[]): { p50: number | null; p95: number | null; p99: number | null } {
  return { p50: quantileOf(buckets, 0.5), p95: quantileOf(buckets, 0.95), p99: quantileOf(buckets, 0.99) };
}
