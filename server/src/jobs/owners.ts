import type { JobOwner } from '@forja/contracts';
import type { JobKind } from './catalog.js';

/** Owners' names by id: one query for every id of a page of jobs. */
export type NameLookup = (ids: string[]) => Promise<Map<string, string>>;

/** The names other domains keep; each lookup is called at most once per page of jobs. */
export interface OwnerNameLookups {
  deployment: NameLookup;
  project: NameLookup;
  /** The pipeline's name, by run id. */
  pipelineRun: NameLookup;
  trainingRun: NameLookup;
  /** By monitor id: a monitor run is named after its monitor. */
  monitor: NameLookup;
}

interface OwnerRef {
  type: JobOwner['type'];
  id: string;
  parentId: string | null;
  /** Where the name comes from: a lookup by an id, or the job's own parameters. */
  name: { lookup: keyof OwnerNameLookups; by: string } | string;
}

/** What a job of a catalog kind works for, read from the parameters it was queued with. */
function ownerRefOf(kind: string, params: Record<string, unknown>): OwnerRef | null {
  const param = (key: string) => {
    const v = params[key];
    return typeof v === 'string' && v !== '' ? v : null;
  };
  const looked = (type: JobOwner['type'], id: string | null, lookup: keyof OwnerNameLookups): OwnerRef | null =>
    id === null ? null : { type, id, parentId: null, name: { lookup, by: id } };
  switch (kind as JobKind) {
    case 'deployment.build':
    case 'deployment.execute':
      return looked('deployment', param('deploymentId'), 'deployment');
    case 'batch.build':
    case 'batch.run':
      return looked('project', param('projectId'), 'project');
    case 'pipeline.step':
      return looked('pipeline_run', param('runId'), 'pipelineRun');
    case 'training.run':
      return looked('training_run', param('trainingId'), 'trainingRun');
    case 'monitor.run': {
      const runId = param('runId');
      const monitorId = param('monitorId');
      return runId !== null && monitorId !== null ? { type: 'monitor_run', id: runId, parentId: monitorId, name: { lookup: 'monitor', by: monitorId } } : null;
    }
    case 'lake.batch_predict': {
      const table = param('outputTable');
      return table === null ? null : { type: 'lake_table', id: table, parentId: null, name: table };
    }
    case 'webhook.deliver': {
      const webhook = param('webhook');
      return webhook === null ? null : { type: 'webhook', id: webhook, parentId: null, name: webhook };
    }
    default:
      return null;
  }
}

/**
 * The owners of many jobs at once: their ids come from the jobs' parameters, their names from one
 * lookup per kind of owner (not one per job). An owner that no longer exists is null.
 */
export async function ownersOf(jobs: Array<{ kind: string; params: Record<string, unknown> }>, lookups: OwnerNameLookups): Promise<Array<JobOwner | null>> {
  const refs = jobs.map((j) => ownerRefOf(j.kind, j.params));
  const wanted = new Map<keyof OwnerNameLookups, Set<string>>();
  for (const r of refs) {
    if (r && typeof r.name !== 'string') {
      const ids = wanted.get(r.name.lookup) ?? new Set<string>();
      wanted.set(r.name.lookup, ids.add(r.name.by));
    }
  }
  const found = new Map(await Promise.all([...wanted].map(async ([lookup, ids]) => [lookup, await lookups[lookup]([...ids])] as const)));
  return refs.map((r) => {
    if (!r) return null;
    const name = typeof r.name === 'string' ? r.name : found.get(r.name.lookup)?.get(r.name.by);
    return name === undefined ? null : { type: r.type, id: r.id, name, parentId: r.parentId };
  });
}
