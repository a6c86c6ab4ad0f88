import { z } from 'zod';
import type { Metric } from '@forja/contracts';
import {
  ExperimentColumnsSchema,
  ExperimentCreateSchema,
  ExperimentPageSchema,
  ExperimentSchema,
  ExperimentSearchSchema,
  ExperimentUpdateSchema,
  LogBatchSchema,
  MetricHistorySchema,
  RunMetricPointsSchema,
  MetricHistoriesSchema,
  MetricHistoriesSearchSchema,
  OkSchema,
  RunCreateSchema,
  RunInfoSchema,
  RunPageSchema,
  RunBulkSchema,
  RunBulkResultSchema,
  RunSchema,
  RunSearchSchema,
  RunUpdateSchema,
  DatasetInputSchema,
} from '@forja/contracts';
import { contextOf, groupOf } from '../http/auth-hooks.js';
import type { App } from '../http/types.js';
import type { MetricBulkService } from './metric-bulk.js';
import type { TrackingService } from './service.js';

const ExperimentParams = z.object({ experimentId: z.string().max(64) }).strict();
const ExperimentTagParams = z.object({ experimentId: z.string().max(64), key: z.string().max(250) }).strict();
const RunParams = z.object({ runId: z.string().max(256) }).strict();
const RunTagParams = z.object({ runId: z.string().max(256), key: z.string().max(250) }).strict();
const HistoryParams = z.object({ runId: z.string().max(256), key: z.string().max(250) }).strict();
const HistoryQuery = z.object({ maxResults: z.coerce.number().int().min(1).max(1_000_000).optional(), pageToken: z.string().max(500).optional() }).strict();

const PermanentQuery = z.object({ permanent: z.enum(['true', 'false']).default('false') }).strict();

const inGroup = (role: 'viewer' | 'editor') => ({ auth: { group: role } }) as const;
/** Resources named by id: the service checks the caller's role in the group that owns them. */
const byId = { auth: { authenticated: true } } as const;
const ok = { ok: true as const };

export function registerTrackingRoutes(app: App, s: { tracking: TrackingService; metricBulk: MetricBulkService }): void {
  const t = s.tracking;
  const tags = ['tracking'];

  app.post(
    '/api/v1/experiments',
    {
      config: inGroup('editor'),
      schema: { tags, summary: 'Create an experiment in the group', body: ExperimentCreateSchema, response: { 201: ExperimentSchema } },
    },
    async (req, reply) => reply.status(201).send(await t.createExperiment(contextOf(req), groupOf(req), req.body)),
  );
  app.post(
    '/api/v1/experiments/search',
    {
      config: inGroup('viewer'),
      schema: { tags, summary: "Search the group's experiments", body: ExperimentSearchSchema, response: { 200: ExperimentPageSchema } },
    },
    async (req) => t.searchExperiments(contextOf(req), groupOf(req), req.body),
  );
  app.get(
    '/api/v1/experiments/by-name/:name',
    {
      config: inGroup('viewer'),
      schema: {
        tags,
        summary: 'An experiment of the group by name',
        params: z.object({ name: z.string().max(500) }).strict(),
        response: { 200: ExperimentSchema },
      },
    },
    async (req) => t.getExperimentByName(contextOf(req), groupOf(req), req.params.name),
  );
  app.get(
    '/api/v1/experiments/:experimentId',
    { config: inGroup('viewer'), schema: { tags, summary: 'An experiment', params: ExperimentParams, response: { 200: ExperimentSchema } } },
    async (req) => t.getExperiment(contextOf(req), req.params.experimentId, groupOf(req)),
  );
  app.get(
    '/api/v1/experiments/:experimentId/columns',
    {
      config: inGroup('viewer'),
      schema: {
        tags,
        summary: "The metric, param and tag keys of an experiment's active runs: how many runs have each, how many values, last logged",
        params: ExperimentParams,
        response: { 200: ExperimentColumnsSchema },
      },
    },
    async (req) => t.experimentColumns(contextOf(req), req.params.experimentId, groupOf(req)),
  );
  app.patch(
    '/api/v1/experiments/:experimentId',
    {
      config: byId,
      schema: { tags, summary: 'Rename an experiment', params: ExperimentParams, body: ExperimentUpdateSchema, response: { 200: ExperimentSchema } },
    },
    async (req) => {
      await t.renameExperiment(contextOf(req), req.params.experimentId, req.body.name);
      return t.getExperiment(contextOf(req), req.params.experimentId);
    },
  );
  app.delete(
    '/api/v1/experiments/:experimentId',
    {
      config: byId,
      schema: {
        tags,
        summary: 'Delete an experiment and its runs (restorable); ?permanent=true on a deleted one removes it and its artifacts',
        params: ExperimentParams,
        querystring: PermanentQuery,
        response: { 200: OkSchema },
      },
    },
    async (req) => {
      if (req.query.permanent === 'true') await t.purgeExperiment(contextOf(req), req.params.experimentId);
      else await t.setExperimentStage(contextOf(req), req.params.experimentId, 'deleted');
      return ok;
    },
  );
  app.post(
    '/api/v1/experiments/:experimentId/restore',
    { config: byId, schema: { tags, summary: 'Restore a deleted experiment and its runs', params: ExperimentParams, response: { 200: OkSchema } } },
    async (req) => {
      await t.setExperimentStage(contextOf(req), req.params.experimentId, 'active');
      return ok;
    },
  );
  app.put(
    '/api/v1/experiments/:experimentId/tags/:key',
    {
      config: byId,
      schema: {
        tags,
        summary: 'Set an experiment tag',
        params: ExperimentTagParams,
        body: z.object({ value: z.string() }).strict(),
        response: { 200: OkSchema },
      },
    },
    async (req) => {
      await t.setExperimentTag(contextOf(req), req.params.experimentId, req.params.key, req.body.value);
      return ok;
    },
  );
  app.delete(
    '/api/v1/experiments/:experimentId/tags/:key',
    { config: byId, schema: { tags, summary: 'Delete an experiment tag', params: ExperimentTagParams, response: { 200: OkSchema } } },
    async (req) => {
      await t.deleteExperimentTag(contextOf(req), req.params.experimentId, req.params.key);
      return ok;
    },
  );

  app.post(
    '/api/v1/runs',
    { config: inGroup('viewer'), schema: { tags, summary: 'Start a run', body: RunCreateSchema, response: { 201: RunSchema } } },
    async (req, reply) => reply.status(201).send(await t.createRun(contextOf(req), groupOf(req), req.body)),
  );
  app.post(
    '/api/v1/runs/search',
    {
      config: inGroup('viewer'),
      schema: { tags, summary: 'Search runs (filter, order, projection)', body: RunSearchSchema, response: { 200: RunPageSchema } },
    },
    async (req) => t.searchRuns(contextOf(req), req.body, groupOf(req)),
  );
  app.post(
    '/api/v1/runs/bulk',
    {
      config: byId,
      schema: {
        tags,
        summary: 'Delete, restore or tag up to 1000 runs at once (all or nothing)',
        body: RunBulkSchema,
        response: { 200: RunBulkResultSchema },
      },
    },
    async (req) => t.bulkRuns(contextOf(req), req.body),
  );
  app.get(
    '/api/v1/runs/:runId',
    { config: byId, schema: { tags, summary: 'A run with its data', params: RunParams, response: { 200: RunSchema } } },
    async (req) => t.getRun(contextOf(req), req.params.runId),
  );
  app.patch(
    '/api/v1/runs/:runId',
    { config: byId, schema: { tags, summary: 'Update status, end time or name', params: RunParams, body: RunUpdateSchema, response: { 200: RunInfoSchema } } },
    async (req) => t.updateRun(contextOf(req), req.params.runId, req.body),
  );
  app.delete(
    '/api/v1/runs/:runId',
    {
      config: byId,
      schema: {
        tags,
        summary: 'Delete a run (restorable); ?permanent=true on a deleted one removes it and its artifacts',
        params: RunParams,
        querystring: PermanentQuery,
        response: { 200: OkSchema },
      },
    },
    async (req) => {
      if (req.query.permanent === 'true') await t.purgeRun(contextOf(req), req.params.runId);
      else await t.setRunStage(contextOf(req), req.params.runId, 'deleted');
      return ok;
    },
  );
  app.post(
    '/api/v1/runs/:runId/restore',
    { config: byId, schema: { tags, summary: 'Restore a deleted run', params: RunParams, response: { 200: OkSchema } } },
    async (req) => {
      await t.setRunStage(contextOf(req), req.params.runId, 'active');
      return ok;
    },
  );
  app.post(
    '/api/v1/runs/:runId/batch',
    {
      config: byId,
      schema: { tags, summary: 'Log metrics, params and tags in one transaction', params: RunParams, body: LogBatchSchema, response: { 200: OkSchema } },
    },
    async (req) => {
      await t.logBatch(contextOf(req), req.params.runId, req.body);
      return ok;
    },
  );
  app.delete(
    '/api/v1/runs/:runId/tags/:key',
    { config: byId, schema: { tags, summary: 'Delete a run tag', params: RunTagParams, response: { 200: OkSchema } } },
    async (req) => {
      await t.deleteTag(contextOf(req), req.params.runId, req.params.key);
      return ok;
    },
  );
  app.get(
    '/api/v1/runs/:runId/metrics/:key/history',
    {
      config: byId,
      schema: {
        tags,
        summary: 'Every logged value of a metric, by step',
        params: HistoryParams,
        querystring: HistoryQuery,
        response: { 200: MetricHistorySchema },
      },
    },
    async (req) => t.metricHistory(contextOf(req), req.params.runId, req.params.key, req.query.maxResults, req.query.pageToken),
  );
  app.get(
    '/api/v1/runs/:runId/metric-points',
    {
      config: byId,
      schema: {
        tags,
        summary: 'How many points each metric of a run has and over which steps: one point is a value, more are a history to chart',
        params: RunParams,
        response: { 200: RunMetricPointsSchema },
      },
    },
    async (req) => t.metricPoints(contextOf(req), req.params.runId),
  );
  app.post(
    '/api/v1/runs/metric-histories',
    {
      config: byId,
      schema: {
        tags,
        summary: "One metric's history in up to 100 runs, each sampled to maxResults points (its last point kept)",
        body: MetricHistoriesSearchSchema,
        response: { 200: MetricHistoriesSchema },
      },
    },
    async (req) => {
      const runIds = [...new Set(req.body.runIds)];
      const points = await s.metricBulk.sampledHistory(contextOf(req), runIds, req.body.key, req.body.maxResults);
      const byRun = new Map<string, Metric[]>();
      for (const { runId, ...metric } of points) {
        const list = byRun.get(runId) ?? [];
        list.push(metric);
        byRun.set(runId, list);
      }
      return { histories: runIds.filter((id) => byRun.has(id)).map((runId) => ({ runId, metrics: byRun.get(runId)! })) };
    },
  );
  app.post(
    '/api/v1/runs/:runId/inputs',
    {
      config: byId,
      schema: {
        tags,
        summary: 'Log dataset inputs',
        params: RunParams,
        body: z
          .object({
            datasets: z.array(DatasetInputSchema.extend({ dataset: DatasetInputSchema.shape.dataset.partial({ schema: true, profile: true }) })).max(100),
          })
          .strict(),
        response: { 200: OkSchema },
      },
    },
    async (req) => {
      await t.logInputs(contextOf(req), req.params.runId, req.body.datasets);
      return ok;
    },
  );
}
