// One of everything the API manages, so fuzzed requests reach real resources. Schemathesis takes
// ids and names from the responses it sees, and the runner also hands it what was made here, by
// path parameter, to draw from now and then.
import { dailyPipeline, PREP_SCRIPT, USE_SCRIPT } from '@forja/server/testing';

type File = { field: string; name: string; content: string };

/** What was made, by the path its routes start with, then by the path parameter that names it. */
export type Seeded = Record<string, Record<string, string[]>>;

/**
 * Makes the resources under names ending in `round`: each pass of the fuzz gets its own, since the
 * last one's may have been deleted or renamed by it.
 */
export async function seed(url: string, token: string, round: string): Promise<Seeded> {
  const n = {
    user: `fuzz-user-${round}`,
    group: `fuzz-group-${round}`,
    experiment: `fuzz-experiment-${round}`,
    model: `fuzz-model-${round}`,
    table: `fuzz_table_${round}`,
    batch: `fuzz-batch-${round}`,
    deployment: `fuzz-deployment-${round}`,
    pipeline: `fuzz-pipeline-${round}`,
  };
  // The group named every time: the fuzz before may have changed the admin's default group.
  const auth = { authorization: `Bearer ${token}`, 'x-forja-group': 'default' };
  async function send(method: string, path: string, expected: number, init: { json?: unknown; body?: BodyInit; type?: string } = {}): Promise<any> {
    const headers: Record<string, string> = { ...auth };
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    if (init.type) headers['content-type'] = init.type;
    const res = await fetch(url + path, { method, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`seeding: ${method} ${path} answered ${res.status}, not ${expected}: ${text.slice(0, 500)}`);
    return text ? JSON.parse(text) : undefined;
  }
  const json = (method: string, path: string, expected: number, body?: unknown) => send(method, path, expected, { json: body ?? {} });
  const form = (method: string, path: string, expected: number, fields: Record<string, string>, files: File[]) => {
    const fd = new FormData();
    for (const [k, v] of Object.entries(fields)) fd.append(k, v);
    for (const f of files) fd.append(f.field, new Blob([f.content]), f.name);
    return send(method, path, expected, { body: fd });
  };

  await json('POST', '/api/v1/users', 201, { username: n.user, password: 'fuzz-user-password' });
  await json('POST', '/api/v1/groups', 201, { name: n.group });
  await json('PUT', `/api/v1/groups/${n.group}/members/${n.user}`, 200, { role: 'viewer' });

  const { experimentId } = await json('POST', '/api/v1/experiments', 201, { name: n.experiment, tags: [{ key: 'team', value: 'fuzz' }] });
  const run = await json('POST', '/api/v1/runs', 201, { experimentId, runName: 'fuzz-run', tags: [{ key: 'team', value: 'fuzz' }] });
  const runId: string = run.info.runId;
  await json('POST', `/api/v1/runs/${runId}/batch`, 200, { metrics: [{ key: 'accuracy', value: 0.9, step: 1 }], params: [{ key: 'alpha', value: '0.5' }] });
  // A pickle of {} (protocol 2): it passes the safety scan, enough to queue scoring, which no worker will run.
  const pickle = new Uint8Array([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]);
  await send('PUT', `/api/v1/runs/${runId}/artifacts/file?path=model/model.pkl`, 200, { body: pickle, type: 'application/octet-stream' });
  const upload = await json('POST', `/api/v1/runs/${runId}/uploads`, 201, { path: 'chunks/data.bin', size: 16 });

  await json('POST', '/api/v1/models', 201, { name: n.model, tags: [{ key: 'team', value: 'fuzz' }] });
  await json('POST', `/api/v1/models/${n.model}/versions`, 201, { source: `runs:/${runId}/model` });
  await json('POST', `/api/v1/models/${n.model}/versions`, 201, { source: `runs:/${runId}/model` });
  await json('PUT', `/api/v1/models/${n.model}/aliases/champion`, 200, { version: '1' });
  await json('PUT', '/api/v1/registry/settings', 200, { approvalStages: ['Production'] });
  const transition = await json('POST', `/api/v1/models/${n.model}/versions/2/transition`, 202, { stage: 'Production' });

  await send('POST', `/api/v1/lake/tables/${n.table}/rows`, 201, { body: 'x,label\n1,a\n2,b\n3,a\n', type: 'text/csv' });

  // No job worker runs during the fuzz: builds, runs and deliveries stay queued, nothing executes.
  await json('POST', '/api/v1/batch/projects', 201, { name: n.batch });
  const batchDeploy = await form('POST', `/api/v1/batch/projects/${n.batch}/deploys`, 202, {}, [
    { field: 'source', name: 'job.py', content: 'print("batch")\n' },
  ]);
  const schedule = await json('POST', `/api/v1/batch/projects/${n.batch}/schedules`, 201, { cron: '0 3 * * *' });
  const deployment = await form('POST', '/api/v1/deployments', 201, { name: n.deployment }, [
    { field: 'source', name: 'scorer.py', content: 'def score(data, base_path):\n    return data\n' },
  ]);
  await form('PUT', `/api/v1/pipelines/${n.pipeline}`, 200, {}, [
    { field: 'definition', name: 'pipeline.yaml', content: dailyPipeline() },
    { field: 'file', name: 'prep.py', content: PREP_SCRIPT },
    { field: 'file', name: 'use.py', content: USE_SCRIPT },
  ]);
  const pipelineRun = await json('POST', `/api/v1/pipelines/${n.pipeline}/runs`, 202, {});
  const training = await form('POST', '/api/v1/training/runs', 202, { experimentName: `fuzz-training-${round}` }, [
    { field: 'source', name: 'train.py', content: 'def train_model(df, base_path):\n    return {}\n' },
    { field: 'data', name: 'data.csv', content: 'x,y\n1,0\n2,1\n' },
  ]);
  const hook = await json('POST', '/api/v1/webhooks', 201, { name: `fuzz-hook-${round}`, url: 'http://127.0.0.1:9/hook', events: ['model_version.created'] });
  const delivery = await json('POST', `/api/v1/webhooks/${hook.id}/ping`, 202);
  const scoring = await json('POST', '/api/v1/lake/batch-predictions', 202, {
    sourceTable: n.table,
    model: `models:/${n.model}/1`,
    outputTable: `fuzz_scores_${round}`,
  });

  return {
    '/api/v1/models/': { name: [n.model], version: ['1', '2'], alias: ['champion'], key: ['team'] },
    '/api/v1/approvals/': { id: [transition.approvalRequest.id] },
    '/api/v1/experiments/': { experimentId: [experimentId], name: [n.experiment], key: ['team'] },
    '/api/v1/runs/': { runId: [runId], key: ['team', 'accuracy'] },
    '/api/v1/uploads/': { uploadId: [upload.uploadId] },
    '/api/v1/lake/tables/': { name: [n.table] },
    '/api/v1/lake/batch-predictions/': { jobId: [scoring.jobId] },
    '/api/v1/batch/projects/': { name: [n.batch] },
    '/api/v1/schedules/': { id: [schedule.id] },
    '/api/v1/deployments/': { id: [deployment.deployment.id] },
    '/api/v1/pipelines/': { name: [n.pipeline] },
    '/api/v1/pipeline-runs/': { runId: [pipelineRun.id] },
    '/api/v1/training/runs/': { id: [training.id] },
    '/api/v1/webhooks/': { id: [hook.id], deliveryId: [delivery.id] },
    '/api/v1/jobs/': { id: [deployment.buildJobId, batchDeploy.buildJobId, training.jobId, scoring.jobId] },
    '/api/v1/groups/': { group: ['default', n.group], username: ['admin', n.user] },
    '/api/v1/users/': { username: ['admin', n.user] },
  };
}
