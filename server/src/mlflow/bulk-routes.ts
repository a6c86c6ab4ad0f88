import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import { AppError } from '../errors.js';
import type { MetricBulkService, MetricWithRun } from '../tracking/metric-bulk.js';
import type { Route } from './routes.js';
import { input } from './wire.js';

/** MLflow's limits for these UI reads (mlflow/server/handlers.py). */
const MAX_RUN_IDS = 100;
const MAX_BULK_POINTS = 25_000;
const MAX_SAMPLED_PER_RUN = 2500;
const MAX_DATASET_EXPERIMENTS = 20;

const many = z.union([z.array(z.string()), z.string().transform((v) => [v])]);
const intLike = (field: string) =>
  z
    .union([z.number(), z.string()])
    .transform((v, ctx) => {
      const n = typeof v === 'number' ? v : /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n)) {
        ctx.addIssue({ code: 'custom', message: `Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: it must be a whole number.` });
        return z.NEVER;
      }
      return n;
    })
    .optional();

const HistoryBulk = z.object({ run_id: many.optional(), metric_key: z.string().optional(), max_results: intLike('max_results') });
const HistoryInterval = z.object({
  run_ids: many.optional(),
  metric_key: z.string().optional(),
  start_step: intLike('start_step'),
  end_step: intLike('end_step'),
  max_results: intLike('max_results'),
});
const SearchDatasets = z.object({ experiment_ids: many.optional() });

const bad = (message: string) => new AppError('INVALID_ARGUMENT', message);
/** MLflow's request-schema checks end their messages so. */
const badField = (message: string) => bad(`${message} See the API docs for more information about request parameters.`);
const wireMetricWithRun = (m: MetricWithRun) => ({ key: m.key, value: m.value, timestamp: m.timestamp, step: m.step, run_id: m.runId });

/** Reads the UI makes across many runs: metric histories for charts and the datasets of experiments. */
export function registerBulkRoutes(route: Route, s: { metricBulk: MetricBulkService }): void {
  route('GET', 'metrics/get-history-bulk', async (req) => {
    const b = parse(req, HistoryBulk);
    const runIds = b.run_id ?? [];
    if (runIds.length === 0) throw bad('GetMetricHistoryBulk request must specify at least one run_id.');
    if (runIds.length > MAX_RUN_IDS)
      throw bad(`GetMetricHistoryBulk request cannot specify more than ${MAX_RUN_IDS} run_ids. Received ${runIds.length} run_ids.`);
    if (b.metric_key === undefined) throw bad('GetMetricHistoryBulk request must specify a metric_key.');
    // MLflow lets a negative max_results through to SQL, where it means different things per database.
    if (b.max_results !== undefined && b.max_results < 0)
      throw bad(`Invalid value ${b.max_results} for parameter 'max_results' supplied: it must be 0 or more.`);
    const limit = Math.min(b.max_results ?? MAX_BULK_POINTS, MAX_BULK_POINTS);
    const metrics = await s.metricBulk.history(contextOf(req), runIds, b.metric_key, limit);
    return { metrics: metrics.map(wireMetricWithRun) };
  });

  route('GET', 'metrics/get-history-bulk-interval', async (req) => {
    const b = parse(req, HistoryInterval);
    const runIds = b.run_ids ?? [];
    if (runIds.length === 0) throw badField("Missing value for required parameter 'run_ids'.");
    if (runIds.length > MAX_RUN_IDS)
      throw badField(`GetMetricHistoryBulkInterval request must specify at most ${MAX_RUN_IDS} run_ids. Received ${runIds.length} run_ids.`);
    if (!b.metric_key) throw badField("Missing value for required parameter 'metric_key'.");
    const maxResults = b.max_results ?? MAX_SAMPLED_PER_RUN;
    if (maxResults < 1 || maxResults > MAX_SAMPLED_PER_RUN) throw badField(`max_results must be between 1 and ${MAX_SAMPLED_PER_RUN}.`);
    if ((b.start_step === undefined) !== (b.end_step === undefined)) throw bad('If either start step or end step are specified, both must be specified.');
    const range = b.start_step !== undefined && b.end_step !== undefined ? { start: b.start_step, end: b.end_step } : undefined;
    if (range && range.start > range.end) throw bad(`end_step must be greater than start_step. Found start_step=${range.start} and end_step=${range.end}.`);
    const metrics = await s.metricBulk.sampledHistory(contextOf(req), runIds, b.metric_key, maxResults, range);
    // Proto JSON, as MLflow answers this one: an empty list is left out.
    return metrics.length ? { metrics: metrics.map(wireMetricWithRun) } : {};
  });

  route('POST', 'experiments/search-datasets', async (req) => {
    const ids = parse(req, SearchDatasets).experiment_ids ?? [];
    if (ids.length === 0) throw bad('SearchDatasets request must specify at least one experiment_id.');
    if (ids.length > MAX_DATASET_EXPERIMENTS)
      throw bad(`SearchDatasets request cannot specify more than ${MAX_DATASET_EXPERIMENTS} experiment_ids. Received ${ids.length} experiment_ids.`);
    const summaries = await s.metricBulk.datasetSummaries(contextOf(req), ids, groupOf(req));
    if (summaries.length === 0) return {};
    return {
      dataset_summaries: summaries.map((d) => ({
        experiment_id: d.experimentId,
        name: d.name,
        digest: d.digest,
        ...(d.context !== null ? { context: d.context } : {}),
      })),
    };
  });
}

/** The request's fields; a field that is not a whole number is named in the error, as MLflow does. */
function parse<S extends z.ZodTypeAny>(req: FastifyRequest, schema: S): z.infer<S> {
  try {
    return input(req, schema);
  } catch (err) {
    const issue = err instanceof z.ZodError ? err.issues[0] : undefined;
    if (issue?.code === 'custom') throw bad(issue.message);
    throw err;
  }
}
