import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@forja/server/testing';
import { ForjaClient } from './client.js';
import { ForjaApiError } from './errors.js';

/** Answers the body it was sent, so the test sees what the SDK put on the wire; raises on "boom". */
const SCORER = `
import json

def score(data, base_path):
    body = json.loads(data)
    if "boom" in body:
        raise ValueError("boom")
    return {"got": body}
`;

describe('TypeScript SDK: MLflow /invocations', () => {
  let s: TestServer;
  let id: string;
  before(async () => {
    s = await startTestServer();
    const admin = new ForjaClient({ baseUrl: s.url, token: s.adminToken });
    const form = new FormData();
    form.append('name', 'echo');
    form.append('source', new Blob([SCORER]), 'scorer.py');
    const created = await admin.deployments.upload(form);
    id = created.deployment.id;
    let job = await admin.jobs.get(created.buildJobId);
    while (!['succeeded', 'failed'].includes(job.status)) job = await admin.jobs.get(created.buildJobId, { waitSeconds: 60 });
    assert.equal(job.status, 'succeeded', job.error ?? '');
    await admin.deployments.update(id, { public: true });
  });
  after(() => s.close());

  test('invocationsUrl and invoke, without a token on a public deployment; MLflow errors carry their error_code', async () => {
    const sdk = new ForjaClient({ baseUrl: s.url });
    assert.equal(sdk.deployments.invocationsUrl(id), `${s.url}/api/v1/deployments/${id}/invocations`);
    assert.deepEqual(await sdk.deployments.invoke(id, [{ x: 1, y: 'a' }, { y: 'b' }]), {
      got: {
        dataframe_split: {
          columns: ['x', 'y'],
          data: [
            [1, 'a'],
            [null, 'b'],
          ],
        },
      },
    });
    assert.deepEqual(await sdk.deployments.invoke(id, { columns: ['x'], data: [[1]] }), { got: { dataframe_split: { columns: ['x'], data: [[1]] } } });
    assert.deepEqual(await sdk.deployments.invoke(id, { x: [1, 2] }, { format: 'inputs', params: { k: 3 } }), {
      got: { inputs: { x: [1, 2] }, params: { k: 3 } },
    });
    assert.deepEqual(await sdk.deployments.invoke(id, [[1, 2]], { format: 'instances' }), { got: { instances: [[1, 2]] } });
    await assert.rejects(
      sdk.deployments.invoke(id, 1, { format: 'boom' as never }),
      (err: unknown) => err instanceof ForjaApiError && err.status === 400 && err.code === 'BAD_REQUEST' && /boom/.test(err.message),
    );
    await assert.rejects(sdk.deployments.invoke(id, [{ x: 1 }], { format: 'csv' }), TypeError);
  });
});
