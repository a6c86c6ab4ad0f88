import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startTestServer, type TestServer } from '@forja/server/testing';
import { runCli, tempDir } from './testing.js';

describe('forja jobs, workers and webhooks against a live server', () => {
  let s: TestServer;
  let env: Record<string, string>;
  let groupId: string;
  const cli = (args: string[]) => runCli(args, { env });

  before(async () => {
    s = await startTestServer({
      beforeStart: (services) => {
        services.engine.register('test.steps', async (ctx) => {
          for (let i = 1; i <= 3; i++) {
            ctx.log(`step ${i} of 3`);
            await new Promise((r) => setTimeout(r, 300));
          }
          if (ctx.job.params.fail) throw new Error('the data was empty');
        });
      },
    });
    env = { FORJA_URL: s.url, FORJA_TOKEN: s.adminToken, FORJA_CONFIG: path.join(tempDir('forja-cli-'), 'c.json') };
    groupId = (await s.server.services.authStore.getGroupByName('default'))!.id;
  });
  after(() => s.close());

  test('logs --follow prints lines as they come and exits with the job', async () => {
    const job = (await s.server.services.engine.enqueue({ groupId, kind: 'test.steps' }))!;
    const r = await cli(['jobs', 'logs', job.id, '--follow']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'step 1 of 3\nstep 2 of 3\nstep 3 of 3\n');
    assert.equal(r.stderr, `job ${job.id} succeeded\n`);
    const failing = (await s.server.services.engine.enqueue({ groupId, kind: 'test.steps', params: { fail: true } }))!;
    const f = await cli(['jobs', 'logs', failing.id, '-f']);
    assert.equal(f.status, 1);
    assert.match(f.stdout, /\[forja\] the data was empty\n$/);
    assert.equal(f.stderr, `job ${failing.id} failed: the data was empty\n`);
    const list = await cli(['jobs', '--status', 'failed']);
    assert.match(list.stdout, new RegExp(`^${failing.id}\\s+test\\.steps\\s+failed\\s+1/1`, 'm'));
    const shown = await cli(['jobs', 'show', failing.id]);
    assert.match(shown.stdout, /^error\s+the data was empty$/m);
  });

  test('cancel a queued job; workers shows this server', async () => {
    const job = (await s.server.services.engine.enqueue({ groupId, kind: 'test.steps', runAt: Date.now() + 60_000 }))!;
    assert.equal((await cli(['jobs', 'cancel', job.id])).stdout, `Job ${job.id} cancelled.\n`);
    const again = await cli(['jobs', 'cancel', job.id]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already been cancelled/);
    const workers = await cli(['workers']);
    assert.match(workers.stdout, new RegExp(`^${s.server.services.engine.workerId}\\s+embedded\\s+yes\\s+\\d/4`, 'm'));
  });

  test('webhooks: the secret is printed once; bad URLs and events are refused with the reason', async () => {
    const created = await cli(['webhooks', 'create', 'ci', 'https://ci.example.com/hook', '--events', 'model_version.created,approval.requested']);
    assert.equal(created.status, 0, created.stderr);
    const secret = /^(whsec_\w+)$/m.exec(created.stdout)?.[1];
    assert.ok(secret, created.stdout);
    const list = await cli(['webhooks']);
    assert.match(list.stdout, /ci\s+https:\/\/ci\.example\.com\/hook\s+model_version\.created,approval\.requested\s+yes/);
    assert.ok(!list.stdout.includes(secret));
    const bad = await cli(['webhooks', 'create', 'bad', 'ftp://x', '--events', 'model_version.created']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /url: must be an http:\/\/ or https:\/\/ URL/);
    const unknown = await cli(['webhooks', 'create', 'bad', 'https://x.example', '--events', 'model.exploded']);
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /events\.0/);
  });
});
