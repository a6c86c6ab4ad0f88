import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './config.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'forja-config-'));

test('defaults: embedded SQLite, artifacts and lake under the data directory, a generated secret key file with mode 0600', () => {
  const dir = tmp();
  const c = loadConfig({ FORJA_DATA_DIR: dir });
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.port, 5050);
  assert.equal(c.databaseUrl, `sqlite:${path.join(dir, 'forja.db')}`);
  assert.equal(c.artifactsDir, path.join(dir, 'artifacts'));
  assert.equal(c.secretKey.length, 32);
  assert.equal(statSync(path.join(dir, 'secret.key')).mode & 0o777, 0o600);
  // The key is stable across restarts, or stored secrets could not be decrypted.
  assert.deepEqual(loadConfig({ FORJA_DATA_DIR: dir }).secretKey, c.secretKey);
});

const bad: [Record<string, string>, string][] = [
  [{ FORJA_PORT: 'eighty' }, 'FORJA_PORT'],
  [{ FORJA_PORT: '70000' }, 'FORJA_PORT'],
  [{ FORJA_DATABASE_URL: 'mysql://x' }, 'FORJA_DATABASE_URL'],
  [{ FORJA_DATABASE_URL: 'sqlite:' }, 'FORJA_DATABASE_URL'],
  [{ FORJA_SECRET_KEY: 'short' }, 'FORJA_SECRET_KEY'],
  [{ FORJA_ADMIN_PASSWORD: 'abc' }, 'FORJA_ADMIN_PASSWORD'],
  [{ FORJA_ADMIN_TOKEN: 'too short' }, 'FORJA_ADMIN_TOKEN'],
  [{ FORJA_LOG_LEVEL: 'loud' }, 'FORJA_LOG_LEVEL'],
  [{ FORJA_SESSION_TTL_HOURS: '0' }, 'FORJA_SESSION_TTL_HOURS'],
];

for (const [env, variable] of bad) {
  test(`invalid ${variable}=${Object.values(env)[0]} stops start-up naming the variable`, () => {
    assert.throws(
      () => loadConfig({ FORJA_DATA_DIR: tmp(), ...env }),
      (err: unknown) => err instanceof ConfigError && err.variable === variable && err.message.startsWith(`${variable}:`),
    );
  });
}

test('a data directory that cannot be created is reported as FORJA_DATA_DIR', () => {
  const file = path.join(tmp(), 'a-file');
  writeFileSync(file, 'not a directory');
  assert.throws(() => loadConfig({ FORJA_DATA_DIR: path.join(file, 'data') }), (err: unknown) => err instanceof ConfigError && err.variable === 'FORJA_DATA_DIR');
});
