import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '@forja/server/testing';
import { ForjaClient } from './client.js';
import { ConflictError, NotFoundError, PermissionDeniedError } from './errors.js';

describe('TypeScript SDK: model registry', () => {
  let s: TestServer;
  let forja: ForjaClient;
  let runId: string;
  before(async () => {
    s = await startTestServer();
    forja = new ForjaClient({ baseUrl: s.url, token: s.adminToken });
    const exp = await forja.experiments.create({ name: 'sdk-reg' });
    runId = (await forja.runs.create({ experimentId: exp.experimentId })).info.runId;
  });
  after(() => s.close());

  test('models, versions, stages, aliases and URI resolution', async () => {
    await forja.models.create({ name: 'scorer', tags: [{ key: 'team', value: 'risk' }] });
    await assert.rejects(forja.models.create({ name: 'scorer' }), ConflictError);
    const v1 = await forja.models.createVersion('scorer', { source: `runs:/${runId}/model` });
    const v2 = await forja.models.createVersion('scorer', { source: `runs:/${runId}/model` });
    assert.deepEqual([v1.version, v2.version], ['1', '2']);
    const moved = await forja.models.transition('scorer', 2, 'Production', { archiveExistingVersions: true });
    assert.equal(moved.modelVersion.currentStage, 'Production');
    assert.equal(moved.approvalRequest, null);
    await forja.models.setAlias('scorer', 'champion', 2);
    assert.equal((await forja.models.resolve('models:/scorer@champion')).version, '2');
    assert.equal((await forja.models.resolve('models:/scorer/Production')).version, '2');
    const page = await forja.models.search({ filter: "tags.team = 'risk'" });
    assert.deepEqual(
      page.registeredModels.map((m) => m.name),
      ['scorer'],
    );
    assert.ok((await forja.models.timeline('scorer')).items.some((e) => e.action === 'model_alias.set'));
    await assert.rejects(forja.models.resolve('models:/scorer@nobody'), NotFoundError);
  });

  test('approvals through the SDK', async () => {
    await forja.models.updateSettings({ approvalStages: ['Production'] });
    await forja.users.create({ username: 'req', password: 'req-password' });
    await forja.groups.setMember('default', 'req', 'editor');
    const requester = new ForjaClient({ baseUrl: s.url });
    await requester.login('req', 'req-password');
    const asked = await requester.models.transition('scorer', 1, 'Production', { comment: 'please' });
    assert.equal(asked.approvalRequest?.status, 'pending');
    await assert.rejects(requester.models.decide(asked.approvalRequest!.id, 'approve'), PermissionDeniedError);
    const decided = await forja.models.decide(asked.approvalRequest!.id, 'approve', 'ok');
    assert.equal(decided.status, 'approved');
    assert.equal((await forja.models.getVersion('scorer', 1)).currentStage, 'Production');
    assert.deepEqual(await forja.models.approvals('pending'), []);
  });

  test("a version's description, tags and deletion; aliases, latest versions and one approval by id", async () => {
    await forja.models.create({ name: 'ranker' });
    await forja.models.createVersion('ranker', { source: `runs:/${runId}/model` });
    await forja.models.createVersion('ranker', { source: `runs:/${runId}/model` });
    assert.equal((await forja.models.updateVersion('ranker', 1, 'first cut')).description, 'first cut');
    await forja.models.setVersionTag('ranker', 1, 'data', 'v3');
    assert.deepEqual((await forja.models.getVersion('ranker', 1)).tags, [{ key: 'data', value: 'v3' }]);
    await forja.models.deleteVersionTag('ranker', 1, 'data');
    assert.deepEqual((await forja.models.getVersion('ranker', 1)).tags, []);
    await forja.models.setAlias('ranker', 'best', 1);
    assert.equal((await forja.models.getAlias('ranker', 'best')).version, '1');
    assert.deepEqual(
      (await forja.models.latest('ranker', ['None'])).map((v) => v.version),
      ['2'],
    );
    await forja.models.deleteVersion('ranker', 2);
    await assert.rejects(forja.models.getVersion('ranker', 2), NotFoundError);
    const [approved] = await forja.models.approvals('approved');
    assert.equal((await forja.models.approval(approved!.id)).status, 'approved');
  });
});
