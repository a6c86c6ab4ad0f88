import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from './config.js';
import { startServer } from './server.js';
import { createTestDatabase } from './testing/databases.js';

test('three servers starting at once on one fresh PostgreSQL database migrate once and create one admin', async () => {
  const db = await createTestDatabase('postgres');
  try {
    const configs = [0, 1, 2].map(() => loadConfig({ FORJA_ADMIN_PASSWORD: 'race-password' }, { port: 0, dataDir: db.dir, databaseUrl: db.url }));
    const servers = await Promise.all(configs.map((c) => startServer(c, { logger: false })));
    try {
      const users = await servers[0]!.services.db.kysely.selectFrom('users').select('username').execute();
      assert.deepEqual(users, [{ username: 'admin' }]);
      const groups = await servers[0]!.services.db.kysely.selectFrom('groups').select('name').execute();
      assert.deepEqual(groups, [{ name: 'default' }]);
      for (const s of servers) assert.equal((await fetch(`${s.url}/ready`)).status, 200);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  } finally {
    await db.drop();
  }
});

test('/ready answers 503 once the database is gone, while /health stays up', async () => {
  const db = await createTestDatabase('postgres');
  const server = await startServer(loadConfig({}, { port: 0, dataDir: db.dir, databaseUrl: db.url }), { logger: false });
  try {
    assert.equal((await fetch(`${server.url}/ready`)).status, 200);
    await db.drop();
    const ready = await fetch(`${server.url}/ready`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { database: { reachable: boolean } }).database.reachable, false);
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  } finally {
    await server.close();
  }
});
