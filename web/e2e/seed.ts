// A little of everything, made over the API, so a test can open every page of the app with
// something on it: an experiment with runs (one with a metric history), a registered model with
// a version, lake tables and a monitor on one of them. Nothing here builds a Python environment.
import type { ForjaClient } from '@forja/client';

export interface Seeded {
  experimentId: string;
  runIds: string[];
  runNames: string[];
  model: string;
  table: string;
  monitorId: string;
}

const DAY = 86_400_000;

export async function seedEverything(forja: ForjaClient): Promise<Seeded> {
  const experimentId = (await forja.experiments.create({ name: 'shell-sweep' })).experimentId;
  const runNames = ['sweep-1', 'sweep-2', 'sweep-3'];
  const runIds: string[] = [];
  const start = Date.now() - 60_000;
  for (const [i, runName] of runNames.entries()) {
    const run = await forja.runs.create({ experimentId, runName, startTime: start });
    await forja.runs.logBatch(run.info.runId, {
      params: [
        { key: 'lr', value: String(0.1 / (i + 1)) },
        { key: 'depth', value: String(4 + i) },
      ],
      metrics: Array.from({ length: 20 }, (_, step) => ({ key: 'loss', value: 1 / (step + 1 + i), step, timestamp: start + step * 1000 })),
      tags: [{ key: 'team', value: 'risk' }],
    });
    await forja.runs.update(run.info.runId, { status: 'FINISHED', endTime: start + 30_000 });
    runIds.push(run.info.runId);
  }

  const model = 'shell-classifier';
  await forja.models.create({ name: model, description: 'Tells churners from stayers.' });
  await forja.models.createVersion(model, { source: `runs:/${runIds[0]}/model`, runId: runIds[0] });
  await forja.models.transition(model, 1, 'Staging');

  const table = 'shell_scores';
  const rows = Array.from({ length: 40 }, (_, i) => `${new Date(Date.now() - (40 - i) * (DAY / 40)).toISOString()},${i % 7},${i % 2 === 0 ? 'a' : 'b'}`);
  await forja.lake.write(table, `ts,x,label\n${rows.join('\n')}\n`, { format: 'csv' });
  await forja.lake.write('shell_reference', `x,label\n${Array.from({ length: 30 }, (_, i) => `${i % 5},${i % 3 === 0 ? 'a' : 'b'}`).join('\n')}\n`, {
    format: 'csv',
  });
  const monitor = await forja.monitors.create({
    name: 'shell-drift',
    target: { table, timeColumn: 'ts' },
    reference: { kind: 'table', table: 'shell_reference' },
    period: 'day',
    scheduled: false,
  });
  return { experimentId, runIds, runNames, model, table, monitorId: monitor.id };
}
