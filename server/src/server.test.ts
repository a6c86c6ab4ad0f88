import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.js';
import { startServer, type RunningServer } from './server.js';
import { createTestDatabase } from './testing/databases.js';
import { http } from './testing/server.js';

/** Starts them all; if one fails, the others are closed before the error is passed on. */
async function startAll(starts: Promise<RunningServer>[]): Promise<RunningServer[]> {
  const settled = await Promise.allSettled(starts);
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => s.close()));
    throw failed.reason;
  }
  return started;
}

test('three servers starting at once on one fresh PostgreSQL database migrate once and create one admin', async () => {
  const db = await createTestDatabase('postgres');
  try {
    // Three hosts: one database, a data directory each (a DuckDB lake has one owner).
    const configs = [0, 1, 2].map((i) =>
      loadConfig({ FORJA_ADMIN_PASSWORD: 'race-password' }, { port: 0, dataDir: path.join(db.dir, `host${i}`), databaseUrl: db.url }),
    );
    const servers = await startAll(configs.map((c) => startServer(c, { logger: false })));
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

test('a DuckDB lake held by another process: the server starts, lake calls answer 503 saying why, and work once it is free', async () => {
  const db = await createTestDatabase('sqlite');
  const lakeFile = path.join(db.dir, 'lake', 'lake.duckdb');
  mkdirSync(path.dirname(lakeFile), { recursive: true });
  // Another process (as a second `forja server` on this directory would be) holds the file.
  const holder = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { DuckDBInstance } from '@duckdb/node-api'; await DuckDBInstance.create(${JSON.stringify(lakeFile)}); console.log('held'); setInterval(() => {}, 1000);`,
    ],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await once(holder.stdout!, 'data');
    const token = 'lake-lock-admin-token-0123456789';
    const server = await startServer(loadConfig({ FORJA_ADMIN_TOKEN: token }, { port: 0, dataDir: db.dir, databaseUrl: db.url }), { logger: false });
    try {
      const busy = await http(server.url, 'GET', '/api/v1/lake/tables', { token });
      assert.equal(busy.status, 503, busy.text);
      assert.match(busy.body.error.message, /lake file .*lake\.duckdb is in use by another process .*FORJA_LAKE_URL/);
      assert.equal((await fetch(`${server.url}/ready`)).status, 200);
      holder.kill('SIGKILL');
      await once(holder, 'exit');
      const free = await http(server.url, 'GET', '/api/v1/lake/tables', { token });
      assert.equal(free.status, 200, free.text);
    } finally {
      await server.close();
    }
  } finally {
    holder.kill('SIGKILL');
    await db.drop();
  }
});
