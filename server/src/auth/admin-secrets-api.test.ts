import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config.js';
import { startServer } from '../server.js';
import { createTestDatabase, DIALECTS } from '../testing/databases.js';
import { http } from '../testing/server.js';

const ADMIN_VARIABLES = ['FORJA_ADMIN_TOKEN', 'FORJA_ADMIN_TOKEN_FILE', 'FORJA_ADMIN_PASSWORD', 'FORJA_ADMIN_PASSWORD_FILE'];

for (const dialect of DIALECTS) {
  describe(`admin secrets from files on ${dialect}`, () => {
    test('a server started as `forja server` is, with the _FILE variants: they work, nothing it spawns sees them, its data directory is 0700', async () => {
      const db = await createTestDatabase(dialect);
      const secrets = mkdtempSync(path.join(os.tmpdir(), 'forja-secrets-'));
      const token = `file-token-${dialect}-0123456789abcdef`;
      const password = `file-password-${dialect}`;
      writeFileSync(path.join(secrets, 'token'), token + '\n', { mode: 0o600 });
      writeFileSync(path.join(secrets, 'password'), password + '\n', { mode: 0o600 });
      // A data directory others could read, as an older install left it.
      chmodSync(db.dir, 0o755);
      process.env.FORJA_ADMIN_TOKEN_FILE = path.join(secrets, 'token');
      process.env.FORJA_ADMIN_PASSWORD_FILE = path.join(secrets, 'password');
      try {
        const config = loadConfig(process.env, { host: '127.0.0.1', port: 0, dataDir: db.dir, databaseUrl: db.url });
        const server = await startServer(config, { logger: false });
        try {
          for (const name of ADMIN_VARIABLES) assert.equal(process.env[name], undefined, name);
          const inherited = execFileSync(
            process.execPath,
            ['-e', 'process.stdout.write(Object.keys(process.env).filter((k) => k.startsWith("FORJA_ADMIN")).join(","))'],
            { encoding: 'utf8' },
          );
          assert.equal(inherited, '', 'a child process inherits none of them');
          const kept = JSON.stringify(config);
          assert.ok(!kept.includes(token) && !kept.includes(password), 'the configuration holds hashes only');
          assert.equal(statSync(db.dir).mode & 0o777, 0o700);

          const me = await http(server.url, 'GET', '/api/v1/whoami', { token });
          assert.equal(me.status, 200, me.text);
          assert.equal(me.body.user.username, 'admin');
          assert.equal(me.body.tokenName, 'FORJA_ADMIN_TOKEN');
          const login = await http(server.url, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password } });
          assert.equal(login.status, 200, login.text);
          assert.equal(
            (await http(server.url, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: password + '\n' } })).status,
            401,
            'the newline was not part of it',
          );
        } finally {
          await server.close();
        }
      } finally {
        for (const name of ADMIN_VARIABLES) delete process.env[name];
        rmSync(secrets, { recursive: true, force: true });
        await db.drop();
      }
    });
  });
}
