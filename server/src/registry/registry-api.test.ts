import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../testing/databases.js';
import { http, startTestServer, type TestServer } from '../testing/server.js';

for (const dialect of DIALECTS) {
  describe(`model registry on ${dialect}`, () => {
    let s: TestServer;
    let runId: string;
    const call = (method: string, p: string, body?: unknown, token?: string) => http(s.url, method, p, { token: token ?? s.adminToken, body });
    const ml = (method: string, p: string, body?: unknown) => call(method, `/api/2.0/mlflow/${p}`, body);

    before(async () => {
      s = await startTestServer({ dialect });
      const exp = (await call('POST', '/api/v1/experiments', { name: 'reg' })).body.experimentId;
      runId = (await call('POST', '/api/v1/runs', { experimentId: exp })).body.info.runId;
    });
    after(() => s.close());

    test('register, version from a run path, describe, tag; names are unique per group', async () => {
      const created = await call('POST', '/api/v1/models', { name: 'churn model', description: 'predicts churn', tags: [{ key: 'team', value: 'growth' }] });
      assert.equal(created.status, 201, created.text);
      assert.equal((await call('POST', '/api/v1/models', { name: 'churn model' })).status, 409);
      const v1 = await call('POST', `/api/v1/models/${encodeURIComponent('churn model')}/versions`, { source: `runs:/${runId}/model` });
      assert.equal(v1.status, 201, v1.text);
      assert.equal(v1.body.version, '1');
      assert.equal(v1.body.runId, runId);
      assert.match(v1.body.storageLocation, new RegExp(`^mlflow-artifacts:/\\d+/${runId}/artifacts/model$`));
      assert.equal(v1.body.currentStage, 'None');
      const model = await call('GET', `/api/v1/models/${encodeURIComponent('churn model')}`);
      assert.equal(model.body.description, 'predicts churn');
      assert.deepEqual(model.body.tags, [{ key: 'team', value: 'growth' }]);
      assert.deepEqual(
        model.body.latestVersions.map((v: { version: string }) => v.version),
        ['1'],
      );
    });

    test('20 concurrent registrations get 20 distinct consecutive versions', async () => {
      await call('POST', '/api/v1/models', { name: 'busy' });
      const results = await Promise.all(Array.from({ length: 20 }, () => call('POST', '/api/v1/models/busy/versions', { source: `runs:/${runId}/model` })));
      assert.ok(
        results.every((r) => r.status === 201),
        results.map((r) => r.text).join('\n'),
      );
      assert.deepEqual(
        results.map((r) => Number(r.body.version)).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    });

    test('stages with archive_existing_versions, aliases, and models:/ URIs resolved by the server', async () => {
      await call('POST', '/api/v1/models', { name: 'staged' });
      for (let i = 0; i < 3; i++) await call('POST', '/api/v1/models/staged/versions', { source: `runs:/${runId}/model` });
      await call('POST', '/api/v1/models/staged/versions/1/transition', { stage: 'Production' });
      const t2 = await call('POST', '/api/v1/models/staged/versions/2/transition', { stage: 'Production', archiveExistingVersions: true });
      assert.equal(t2.body.modelVersion.currentStage, 'Production');
      assert.equal(t2.body.approvalRequest, null);
      assert.equal((await call('GET', '/api/v1/models/staged/versions/1')).body.currentStage, 'Archived');
      const lower = await ml('POST', 'model-versions/transition-stage', { name: 'staged', version: '3', stage: 'staging', archive_existing_versions: false });
      assert.equal(lower.body.model_version.current_stage, 'Staging', 'stage names are case-insensitive');
      assert.equal((await call('PUT', '/api/v1/models/staged/aliases/champion', { version: '2' })).status, 200);
      assert.equal((await call('PUT', '/api/v1/models/staged/aliases/champion', { version: '3' })).status, 200, 'an alias moves');
      const resolve = async (uri: string) => (await call('GET', `/api/v1/models/resolve?uri=${encodeURIComponent(uri)}`)).body.version;
      assert.equal(await resolve('models:/staged@champion'), '3');
      assert.equal(await resolve('models:/staged/Production'), '2');
      assert.equal(await resolve('models:/staged/2'), '2');
      assert.equal(await resolve('models:/staged/latest'), '3');
      assert.deepEqual((await call('GET', '/api/v1/models/staged/versions/3')).body.aliases, ['champion']);
      const latest = await ml('GET', 'registered-models/get-latest-versions?name=staged&stages=Production');
      assert.deepEqual(
        latest.body.model_versions.map((v: { version: string }) => v.version),
        ['2'],
      );
      const audit = await call('GET', '/api/v1/audit?action=model_alias.set');
      assert.deepEqual(
        audit.body.items.slice(0, 2).map((e: { details: { version: number; previous: number | null } }) => [e.details.version, e.details.previous]),
        [
          [3, 2],
          [2, null],
        ],
      );
      const transitions = await call('GET', '/api/v1/audit?action=model_version.transition');
      assert.ok(
        transitions.body.items.some(
          (e: { resourceId: string; details: { archived: number[] } }) => e.resourceId === 'staged/2' && e.details.archived.includes(1),
        ),
      );
      assert.equal((await call('DELETE', '/api/v1/models/staged/aliases/champion')).status, 200);
      assert.equal((await call('GET', '/api/v1/models/staged/aliases/champion')).status, 404);
    });

    test('search models by name pattern and several tags; search versions by run and number', async () => {
      for (const [name, team, kind] of [
        ['fraud-a', 'risk', 'tree'],
        ['fraud-b', 'risk', 'linear'],
        ['other', 'growth', 'tree'],
      ]) {
        await call('POST', '/api/v1/models', {
          name,
          tags: [
            { key: 'team', value: team! },
            { key: 'kind', value: kind! },
          ],
        });
      }
      const found = await call('POST', '/api/v1/models/search', { filter: "name LIKE 'fraud%' AND tags.team = 'risk' AND tags.kind = 'tree'" });
      assert.deepEqual(
        found.body.registeredModels.map((m: { name: string }) => m.name),
        ['fraud-a'],
      );
      const either = await call('POST', '/api/v1/models/search', { filter: "tags.kind = 'linear' OR name = 'other'", orderBy: ['name DESC'] });
      assert.deepEqual(
        either.body.registeredModels.map((m: { name: string }) => m.name),
        ['other', 'fraud-b'],
      );
      const mlSearch = await ml('GET', `registered-models/search?filter=${encodeURIComponent("name ILIKE 'FRAUD%'")}&max_results=1`);
      assert.equal(mlSearch.body.registered_models.length, 1);
      assert.ok(mlSearch.body.next_page_token);
      const versions = await call('POST', '/api/v1/model-versions/search', { filter: `run_id = '${runId}' AND name = 'busy' AND version_number >= 19` });
      assert.deepEqual(
        versions.body.modelVersions.map((v: { version: string }) => v.version),
        ['20', '19'],
      );
      assert.equal((await call('POST', '/api/v1/models/search', { filter: "name = 'x' OR" })).status, 400);
    });

    test('MLflow error codes and bad input', async () => {
      const missing = await ml('GET', 'registered-models/get?name=nope');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
      assert.match(missing.body.message, /Registered Model with name=nope not found/);
      await ml('POST', 'registered-models/create', { name: 'dup' });
      const dup = await ml('POST', 'registered-models/create', { name: 'dup' });
      assert.equal(dup.status, 400);
      assert.equal(dup.body.error_code, 'RESOURCE_ALREADY_EXISTS');
      const cases: [string, string, unknown, RegExp][] = [
        ['POST', '/api/v1/models', { name: 'a/b' }, /body\.name/],
        ['POST', '/api/v1/models/dup/versions', { source: `runs:/${runId}/../../etc` }, /'\.\.' is not allowed/],
        ['POST', '/api/v1/models/dup/versions', { source: 'file:///etc/passwd' }, /does not read model files from its own disk/],
        ['POST', '/api/v1/models/dup/versions', { source: '/etc/passwd' }, /does not read model files from its own disk/],
        ['POST', '/api/v1/models/dup/versions', { source: `models:/m-${'f'.repeat(32)}` }, /model_id request parameter must identify/],
        ['POST', '/api/v1/models/dup/versions/99/transition', { stage: 'Production' }, /version=99\) not found/],
        ['POST', '/api/v1/models/dup/versions/abc/transition', { stage: 'Production' }, /parameter 'version'/],
        ['PUT', '/api/v1/models/dup/aliases/latest', { version: '1' }, /reserved/],
        ['PUT', '/api/v1/models/dup/aliases/v2', { version: '1' }, /reserved/],
        ['POST', '/api/v1/models/dup/versions/1/transition', { stage: 'Live' }, /stage/],
        ['GET', `/api/v1/models/resolve?uri=${encodeURIComponent('runs:/x/y')}`, undefined, /not a registry URI/],
      ];
      await call('POST', '/api/v1/models/dup/versions', { source: `runs:/${runId}/model` });
      for (const [method, p, body, message] of cases) {
        const r = await call(method, p, body);
        assert.ok(r.status === 400 || r.status === 404, `${method} ${p}: ${r.status} ${r.text}`);
        assert.match(r.body.error.message, message, p);
      }
    });

    test('approvals: Production needs another member to approve; the requester cannot; decisions are in the timeline', async () => {
      await call('POST', '/api/v1/groups', { name: 'governed' });
      const g = (method: string, p: string, body?: unknown, token = s.adminToken) =>
        http(s.url, method, p, { token, body, headers: { 'x-forja-group': 'governed' } });
      for (const u of ['eddie', 'ada', 'ari']) await call('POST', '/api/v1/users', { username: u, password: `${u}-password` });
      await call('PUT', '/api/v1/groups/governed/members/eddie', { role: 'editor' });
      await call('PUT', '/api/v1/groups/governed/members/ada', { role: 'admin' });
      await call('PUT', '/api/v1/groups/governed/members/ari', { role: 'admin' });
      const login = async (u: string) =>
        (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: u, password: `${u}-password` } })).body.token as string;
      const [eddie, ada, ari] = [await login('eddie'), await login('ada'), await login('ari')];
      assert.equal((await g('PUT', '/api/v1/registry/settings', { approvalStages: ['Production'] }, eddie)).status, 403, 'an editor cannot change the rules');
      assert.deepEqual((await g('PUT', '/api/v1/registry/settings', { approvalStages: ['Production'] }, ada)).body, {
        approvalStages: ['Production'],
        approvers: [],
      });
      assert.equal((await g('POST', '/api/v1/models', { name: 'gated' }, eddie)).status, 201);
      await g('POST', '/api/v1/models/gated/versions', { source: `runs:/${runId}/model` }, eddie);

      const staging = await g('POST', '/api/v1/models/gated/versions/1/transition', { stage: 'Staging' }, eddie);
      assert.equal(staging.status, 200, 'Staging needs no approval here');
      const asked = await g('POST', '/api/v1/models/gated/versions/1/transition', { stage: 'Production', comment: 'AUC 0.91 on holdout' }, eddie);
      assert.equal(asked.status, 202, asked.text);
      assert.equal(asked.body.modelVersion.currentStage, 'Staging', 'nothing moves before the approval');
      const request = asked.body.approvalRequest;
      assert.equal(request.status, 'pending');
      assert.equal(request.requestedBy, 'eddie');
      const again = await g('POST', '/api/v1/models/gated/versions/1/transition', { stage: 'Production' }, eddie);
      assert.equal(again.body.approvalRequest.id, request.id, 'asking twice reuses the open request');
      const viaMlflow = await http(s.url, 'POST', '/api/2.0/mlflow/model-versions/transition-stage', {
        token: eddie,
        headers: { 'x-forja-group': 'governed' },
        body: { name: 'gated', version: '1', stage: 'Production', archive_existing_versions: false },
      });
      assert.equal(viaMlflow.status, 403);
      assert.equal(viaMlflow.body.error_code, 'PERMISSION_DENIED');
      assert.match(viaMlflow.body.message, new RegExp(`Approval request ${request.id} is waiting`));

      assert.equal((await g('POST', `/api/v1/approvals/${request.id}/decision`, { decision: 'approve' }, eddie)).status, 403, 'an editor is not an approver');
      const adaAsks = await g('POST', '/api/v1/models/gated/versions', { source: `runs:/${runId}/model` }, ada);
      const own = await g('POST', `/api/v1/models/gated/versions/${adaAsks.body.version}/transition`, { stage: 'Production' }, ada);
      const selfApprove = await g('POST', `/api/v1/approvals/${own.body.approvalRequest.id}/decision`, { decision: 'approve' }, ada);
      assert.equal(selfApprove.status, 403);
      assert.match(selfApprove.body.error.message, /another approver/);

      const approved = await g('POST', `/api/v1/approvals/${request.id}/decision`, { decision: 'approve', comment: 'ok, ship it' }, ari);
      assert.equal(approved.status, 200, approved.text);
      assert.equal(approved.body.status, 'approved');
      assert.equal(approved.body.decidedBy, 'ari');
      assert.equal((await g('GET', '/api/v1/models/gated/versions/1')).body.currentStage, 'Production');
      assert.equal((await g('POST', `/api/v1/approvals/${request.id}/decision`, { decision: 'reject' }, ari)).status, 409, 'decided once');
      const rejected = await g('POST', `/api/v1/approvals/${own.body.approvalRequest.id}/decision`, { decision: 'reject', comment: 'needs more data' }, ari);
      assert.equal(rejected.body.status, 'rejected');
      assert.equal((await g('GET', `/api/v1/models/gated/versions/${adaAsks.body.version}`)).body.currentStage, 'None');
      assert.deepEqual((await g('GET', '/api/v1/approvals?status=pending')).body.items, []);

      const timeline = (await g('GET', '/api/v1/models/gated/timeline')).body.items.map((e: { action: string; actor: string }) => `${e.actor}:${e.action}`);
      assert.deepEqual(timeline.slice(0, 6), [
        'ari:approval.reject',
        'ari:model_version.transition',
        'ari:approval.approve',
        'ada:approval.request',
        'ada:model_version.create',
        'eddie:approval.request',
      ]);

      // Named approvers replace "any group admin": an editor may approve, an admin not on the list may not.
      const outsider = await g('PUT', '/api/v1/registry/settings', { approvalStages: ['Production'], approvers: ['eddie', 'nobody-here'] }, ada);
      assert.equal(outsider.status, 400);
      assert.match(outsider.body.error.message, /nobody-here is not/);
      const named = await g('PUT', '/api/v1/registry/settings', { approvalStages: ['Production'], approvers: ['eddie'] }, ada);
      assert.deepEqual(named.body, { approvalStages: ['Production'], approvers: ['eddie'] });
      const v3 = await g('POST', '/api/v1/models/gated/versions', { source: `runs:/${runId}/model` }, ada);
      const third = (await g('POST', `/api/v1/models/gated/versions/${v3.body.version}/transition`, { stage: 'Production' }, ada)).body.approvalRequest;
      const notListed = await g('POST', `/api/v1/approvals/${third.id}/decision`, { decision: 'approve' }, ari);
      assert.equal(notListed.status, 403);
      assert.match(notListed.body.error.message, /Only the group's approvers \(eddie\)/);
      assert.equal((await g('POST', `/api/v1/approvals/${third.id}/decision`, { decision: 'approve' }, eddie)).body.status, 'approved');
      await g('PUT', '/api/v1/registry/settings', { approvalStages: [] }, ada);
    });

    test("another group's models are invisible and a viewer cannot change them", async () => {
      await call('POST', '/api/v1/models', { name: 'private' });
      await call('POST', '/api/v1/users', { username: 'looker', password: 'looker-password' });
      const token = (await http(s.url, 'POST', '/api/v1/auth/login', { body: { username: 'looker', password: 'looker-password' } })).body.token;
      assert.equal((await call('GET', '/api/v1/models/private', undefined, token)).status, 200, 'viewers of the group read');
      assert.equal((await call('POST', '/api/v1/models/private/versions', { source: `runs:/${runId}/model` }, token)).status, 403);
      await call('POST', '/api/v1/groups', { name: 'elsewhere' });
      const other = await http(s.url, 'GET', '/api/v1/models/private', { token: s.adminToken, headers: { 'x-forja-group': 'elsewhere' } });
      assert.equal(other.status, 404);
    });
  });
}
