import type { Metric } from '@forja/contracts';
import type { RequestContext } from '../auth/principal.js';
import { AppError } from '../errors.js';
import { toMetric, type TrackingService } from './service.js';
import type { SampledMetricRow as SampledRow, TrackingStore } from './store.js';

export interface MetricWithRun extends Metric {
  runId: string;
}

export interface DatasetSummary {
  experimentId: string;
  name: string;
  digest: string;
  context: string | null;
}

/** MLflow's cap on summaries per search-datasets answer. */
const MAX_DATASET_SUMMARIES = 1000;

export interface MetricBulkServiceOptions {
  store: TrackingStore;
  tracking: TrackingService;
}

/**
 * Reads across many runs at once, as MLflow's UI asks for charts and dataset lists: metric histories
 * of up to 100 runs, the same downsampled, and the datasets logged in experiments. Runs and
 * experiments the caller cannot read contribute nothing, exactly as unknown ids do in MLflow.
 */
export class MetricBulkService {
  private readonly store: TrackingStore;
  private readonly tracking: TrackingService;

  constructor(options: MetricBulkServiceOptions) {
    this.store = options.store;
    this.tracking = options.tracking;
  }

  /** Every point of `key` in the runs, ordered by run id, timestamp, step and value; at most `limit` in all. */
  async history(ctx: RequestContext, runIds: string[], key: string, limit: number): Promise<MetricWithRun[]> {
    const ids = await this.readableRunIds(ctx, runIds);
    if (ids.length === 0 || limit === 0) return [];
    const rows = await this.store.metricHistories(ids, key, limit);
    return rows.map((r) => ({ ...toMetric(r), runId: r.run_id }));
  }

  /**
   * Up to `maxResults` points of `key` per run, in the runs' order, sampled as MLflow 3's SQL store
   * does: the run's points (within [startStep, endStep] if given) ordered by step, timestamp, value
   * and NaN-ness are cut into `maxResults` NTILE buckets, the first point of each is kept, and the
   * run's last point always ends the list (replacing the last kept one when the list is full).
   */
  async sampledHistory(
    ctx: RequestContext,
    runIds: string[],
    key: string,
    maxResults: number,
    range?: { start: number; end: number },
  ): Promise<MetricWithRun[]> {
    const ids = await this.readableRunIds(ctx, runIds);
    if (ids.length === 0) return [];
    const rows = await this.store.sampledMetricHistories(ids, key, maxResults, range);
    const byRun = new Map<string, SampledRow[]>();
    for (const r of rows) {
      const list = byRun.get(r.run_id) ?? [];
      list.push(r);
      byRun.set(r.run_id, list);
    }
    // The caller's order, repeated ids included, as MLflow answers.
    return runIds.flatMap((id) => sampleOf(byRun.get(id) ?? [], maxResults).map((r) => ({ ...toMetric(r), runId: id })));
  }

  /** Distinct (experiment, dataset name, digest, context) of the inputs logged in the experiments. */
  async datasetSummaries(
    ctx: RequestContext,
    experimentIds: string[],
    scope: Parameters<TrackingService['readableExperimentIds']>[2],
  ): Promise<DatasetSummary[]> {
    const ids = await this.tracking.readableExperimentIds(ctx, experimentIds, scope);
    if (ids.length === 0) return [];
    const rows = await this.store.datasetSummaries(ids, MAX_DATASET_SUMMARIES);
    return rows.map((r) => ({ experimentId: r.experiment_id, name: r.name, digest: r.digest, context: r.context }));
  }

  /** The distinct ids among `runIds` that name a run the caller may read; the rest name nothing. */
  private async readableRunIds(ctx: RequestContext, runIds: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const id of new Set(runIds)) {
      try {
        out.push((await this.tracking.readableRun(ctx, id, 'viewer')).id);
      } catch (err) {
        // Another group's run is reported like a missing one; an id of the wrong shape names no run.
        if (!(err instanceof AppError && (err.code === 'NOT_FOUND' || err.code === 'INVALID_ARGUMENT'))) throw err;
      }
    }
    return out;
  }
}

/** The bucket starts, then MLflow's rule for the run's last point. */
function sampleOf(rows: SampledRow[], maxResults: number): SampledRow[] {
  const kept = rows.filter((r) => Number(r.rn) === 1);
  const last = rows.find((r) => Number(r.rev) === 1);
  if (!last) return kept;
  const tail = kept[kept.length - 1];
  if (tail && sameKey(tail, last)) return kept;
  if (kept.length >= maxResults) kept[kept.length - 1] = last;
  else kept.push(last);
  return kept;
}

const sameKey = (a: SampledRow, b: SampledRow) =>
  a.step === b.step && a.timestamp === b.timestamp && a.is_nan === b.is_nan && (a.is_nan ? true : a.value === b.value);
