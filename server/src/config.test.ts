import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verifyPassword } from './auth/passwords.js';
import { hashToken } from './auth/secrets.js';
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
  [{ FORJA_ADMIN_TOKEN_FILE: '/nonexistent/forja-token' }, 'FORJA_ADMIN_TOKEN_FILE'],
  [{ FORJA_ADMIN_PASSWORD_FILE: '/nonexistent/forja-password' }, 'FORJA_ADMIN_PASSWORD_FILE'],
  [{ FORJA_TRUSTED_PROXIES: '10.0.0.1,proxy.example.com' }, 'FORJA_TRUSTED_PROXIES'],
  [{ FORJA_TRUSTED_PROXIES: '10.0.0.0/33' }, 'FORJA_TRUSTED_PROXIES'],
  [{ FORJA_TRUSTED_PROXIES: ' , ' }, 'FORJA_TRUSTED_PROXIES'],
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
  assert.throws(
    () => loadConfig({ FORJA_DATA_DIR: path.join(file, 'data') }),
    (err: unknown) => err instanceof ConfigError && err.variable === 'FORJA_DATA_DIR',
  );
});

/** A file holding `content`, readable by this user only, as a Docker or Kubernetes secret would be. */
function secretFile(content: string): string {
  const file = path.join(tmp(), 'secret');
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

test('admin password and token from _FILE variables: the trailing newline is dropped and only hashes are kept', async () => {
  const token = 'file-admin-token-0123456789';
  const password = 'file password with spaces';
  const c = loadConfig({ FORJA_DATA_DIR: tmp(), FORJA_ADMIN_TOKEN_FILE: secretFile(token + '\n'), FORJA_ADMIN_PASSWORD_FILE: secretFile(password + '\r\n') });
  assert.equal(c.adminTokenHash, hashToken(token));
  assert.ok(c.adminPasswordHash && (await verifyPassword(password, c.adminPasswordHash)));
  const dump = JSON.stringify(c);
  assert.ok(!dump.includes(token) && !dump.includes(password), 'no plaintext secret in the configuration');
});

test('inline secrets are kept as hashes too', async () => {
  const c = loadConfig({ FORJA_DATA_DIR: tmp(), FORJA_ADMIN_TOKEN: 'inline-admin-token-0123456789', FORJA_ADMIN_PASSWORD: 'inline-password' });
  assert.equal(c.adminTokenHash, hashToken('inline-admin-token-0123456789'));
  assert.ok(await verifyPassword('inline-password', c.adminPasswordHash!));
  assert.ok(!JSON.stringify(c).includes('inline-admin-token') && !JSON.stringify(c).includes('inline-password'));
});

const fileCases: [string, Record<string, string>, string, RegExp][] = [
  [
    'both a variable and its file',
    { FORJA_ADMIN_TOKEN: 'inline-admin-token-0123456789', FORJA_ADMIN_TOKEN_FILE: secretFile('file-admin-token-0123456789') },
    'FORJA_ADMIN_TOKEN',
    /FORJA_ADMIN_TOKEN_FILE: set only one/,
  ],
  ['an empty file', { FORJA_ADMIN_PASSWORD_FILE: secretFile('\n') }, 'FORJA_ADMIN_PASSWORD_FILE', /is empty/],
  ['a file holding a short password', { FORJA_ADMIN_PASSWORD_FILE: secretFile('short\n') }, 'FORJA_ADMIN_PASSWORD_FILE', /at least 8/],
  ['a file holding a token with spaces', { FORJA_ADMIN_TOKEN_FILE: secretFile('a token with spaces in it') }, 'FORJA_ADMIN_TOKEN_FILE', /no spaces/],
  ['an unreadable path (a directory)', { FORJA_ADMIN_TOKEN_FILE: tmp() }, 'FORJA_ADMIN_TOKEN_FILE', /cannot read/],
];
for (const [name, env, variable, message] of fileCases) {
  test(`${name} stops start-up naming ${variable}`, () => {
    assert.throws(
      () => loadConfig({ FORJA_DATA_DIR: tmp(), ...env }),
      (err: unknown) => err instanceof ConfigError && err.variable === variable && message.test(err.message),
    );
  });
}

test('secret variables are removed from the environment given and from process.env once read', () => {
  const secrets = {
    FORJA_ADMIN_TOKEN_FILE: secretFile('file-admin-token-0123456789'),
    FORJA_ADMIN_PASSWORD: 'scrubbed-password',
    FORJA_SECRET_KEY: 'k'.repeat(40),
  };
  Object.assign(process.env, secrets);
  const env: NodeJS.ProcessEnv = { FORJA_DATA_DIR: tmp(), FORJA_PORT: '5051', ...secrets };
  const c = loadConfig(env);
  assert.equal(c.port, 5051);
  for (const name of Object.keys(secrets)) {
    assert.equal(env[name], undefined, name);
    assert.equal(process.env[name], undefined, name);
  }
  assert.equal(env.FORJA_PORT, '5051', 'other settings stay');
});

test('the data directory is created with mode 0700, and an existing one of ours is tightened to 0700', () => {
  const fresh = path.join(tmp(), 'new', 'data');
  loadConfig({ FORJA_DATA_DIR: fresh });
  assert.equal(statSync(fresh).mode & 0o777, 0o700);
  const existing = path.join(tmp(), 'existing');
  mkdirSync(existing);
  chmodSync(existing, 0o755);
  const c = loadConfig({ FORJA_DATA_DIR: existing });
  assert.equal(statSync(existing).mode & 0o777, 0o700);
  assert.deepEqual(c.warnings, []);
});

test('FORJA_TRUSTED_PROXIES: addresses, CIDRs and names become the trusted list; with FORJA_TRUST_PROXY=true it is an error', () => {
  const c = loadConfig({ FORJA_DATA_DIR: tmp(), FORJA_TRUSTED_PROXIES: ' 10.0.0.5, 192.168.0.0/16,fd00::/8 ,::1,loopback' });
  assert.deepEqual(c.trustProxy, ['10.0.0.5', '192.168.0.0/16', 'fd00::/8', '::1', 'loopback']);
  assert.equal(loadConfig({ FORJA_DATA_DIR: tmp() }).trustProxy, false);
  assert.throws(
    () => loadConfig({ FORJA_DATA_DIR: tmp(), FORJA_TRUSTED_PROXIES: '10.0.0.5', FORJA_TRUST_PROXY: 'true' }),
    (err: unknown) => err instanceof ConfigError && err.variable === 'FORJA_TRUST_PROXY',
  );
});

test('FORJA_TRUST_PROXY=true still trusts everyone, with a warning that says what to use instead', () => {
  const c = loadConfig({ FORJA_DATA_DIR: tmp(), FORJA_TRUST_PROXY: 'true' });
  assert.equal(c.trustProxy, true);
  assert.equal(c.warnings.length, 1);
  assert.match(c.warnings[0]!, /FORJA_TRUSTED_PROXIES/);
});

test('a wheelhouse the sandbox users cannot read stops a root server naming the fix; an open one, or FORJA_SANDBOX=off, starts', {
  skip: process.getuid?.() !== 0 && 'only a root server runs builds as other users',
}, () => {
  const wheelhouse = tmp(); // mkdtemp: 0700, as a test's temporary folder or an operator's private one would be
  writeFileSync(path.join(wheelhouse, 'pkg-1.0-py3-none-any.whl'), 'x');
  assert.throws(
    () => loadConfig({ FORJA_DATA_DIR: tmp(), FORJA_WHEELHOUSE: wheelhouse }),
    (err: unknown) => err instanceof ConfigError && err.variable === 'FORJA_WHEELHOUSE' && err.message.includes(`chmod -R o+rX ${wheelhouse}`),
  );
  assert.equal(loadConfig({ FORJA_DATA_DIR: tmp(), FORJA_WHEELHOUSE: wheelhouse, FORJA_SANDBOX: 'off' }).wheelhouse, wheelhouse);
  chmodSync(wheelhouse, 0o755);
  chmodSync(path.join(wheelhouse, 'pkg-1.0-py3-none-any.whl'), 0o600);
  assert.throws(() => loadConfig({ FORJA_DATA_DIR: tmp(), FORJA_WHEELHOUSE: wheelhouse }), /pkg-1\.0-py3-none-any\.whl is not readable/);
  chmodSync(path.join(wheelhouse, 'pkg-1.0-py3-none-any.whl'), 0o644);
  assert.equal(loadConfig({ FORJA_DATA_DIR: tmp(), FORJA_WHEELHOUSE: wheelhouse }).wheelhouse, wheelhouse);
});
