import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownersOf, type OwnerNameLookups } from './owners.js';

test('a page of jobs is named with one lookup per kind of owner, each given every id once', async () => {
  const calls: Array<[string, string[]]> = [];
  const lookup =
    (kind: string, names: Record<string, string>) =>
    async (ids: string[]): Promise<Map<string, string>> => {
      calls.push([kind, [...ids].sort()]);
      return new Map(ids.filter((id) => names[id]).map((id) => [id, names[id]!]));
    };
  const lookups: OwnerNameLookups = {
    deployment: lookup('deployment', { d1: 'scorer', d2: 'ranker' }),
    project: lookup('project', {}),
    pipelineRun: lookup('pipelineRun', { r1: 'nightly' }),
    trainingRun: lookup('trainingRun', {}),
    monitor: lookup('monitor', { m1: 'drift-watch' }),
  };
  const jobs = [
    ...Array.from({ length: 50 }, (_, i) => ({ kind: 'deployment.build', params: { deploymentId: i % 2 ? 'd1' : 'd2', name: 'x' } })),
    { kind: 'deployment.execute', params: { executionId: 'e1', deploymentId: 'd1' } },
    ...Array.from({ length: 20 }, () => ({ kind: 'pipeline.step', params: { runId: 'r1', stepId: 's' } })),
    { kind: 'monitor.run', params: { runId: 'mr1', monitorId: 'm1' } },
    { kind: 'webhook.deliver', params: { deliveryId: 'x', webhook: 'to-slack' } },
    { kind: 'deployment.build', params: { deploymentId: 'gone' } },
    { kind: 'something.else', params: { deploymentId: 'd1' } },
  ];
  const owners = await ownersOf(jobs, lookups);
  assert.deepEqual(calls.sort(), [
    ['deployment', ['d1', 'd2', 'gone']],
    ['monitor', ['m1']],
    ['pipelineRun', ['r1']],
  ]);
  assert.deepEqual(owners[0], { type: 'deployment', id: 'd2', name: 'ranker', parentId: null });
  assert.deepEqual(owners[50], { type: 'deployment', id: 'd1', name: 'scorer', parentId: null });
  assert.deepEqual(owners[51], { type: 'pipeline_run', id: 'r1', name: 'nightly', parentId: null });
  assert.deepEqual(owners[71], { type: 'monitor_run', id: 'mr1', name: 'drift-watch', parentId: 'm1' });
  assert.deepEqual(owners[72], { type: 'webhook', id: 'to-slack', name: 'to-slack', parentId: null });
  assert.deepEqual(owners.slice(73), [null, null]);
});
