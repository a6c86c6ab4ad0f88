// Helpers shared by `npm run up` and `npm test`: they install what is missing instead of assuming it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function log(message) {
  process.stdout.write(`\x1b[2m[forja]\x1b[0m ${message}\n`);
}

export function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...options });
  if (result.error) throw new Error(`${cmd} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}`);
  return result;
}

function newestMtime(dir, skip = new Set(['node_modules', 'dist'])) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full, skip) : statSync(full).mtimeMs);
  }
  return newest;
}

/** npm ci when node_modules is missing or older than the lockfile. */
export function ensureNodeDependencies() {
  const marker = path.join(ROOT, 'node_modules', '.package-lock.json');
  const lock = path.join(ROOT, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm dependencies (npm ci; better-sqlite3 compiles, about a minute)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/** TypeScript packages (incremental) and the web UI when its sources changed. */
export function ensureBuilt() {
  log('building TypeScript packages…');
  run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.json']);
  const webIndex = path.join(ROOT, 'web', 'dist', 'index.html');
  const webSources = Math.max(newestMtime(path.join(ROOT, 'web')), newestMtime(path.join(ROOT, 'packages')));
  if (!existsSync(webIndex) || statSync(webIndex).mtimeMs < webSources) {
    log('building the web UI…');
    run('npm', ['run', 'build', '-w', 'web', '--silent']);
  }
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Installs Debian packages that are missing (apt-get update once, only when something is missing). */
export function ensureAptPackages(packages) {
  const missing = packages.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  const sudo = isRoot() ? [] : ['sudo', '-n'];
  log(`installing ${missing.join(', ')} with apt-get…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [cmd, ...pre] = sudo.length ? sudo : ['apt-get'];
  const apt = (args) => run(sudo.length ? cmd : 'apt-get', sudo.length ? [...pre, 'apt-get', ...args] : args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', ...missing]);
}

/** A virtual environment at .venv with the Python SDK and test tools, rebuilt when their requirements change. */
export function ensurePythonVenv() {
  const venv = path.join(ROOT, '.venv');
  const python = path.join(venv, 'bin', 'python');
  const inputs = ['python/pyproject.toml', 'python/requirements-test.txt'].filter((f) => existsSync(path.join(ROOT, f)));
  const hash = createHash('sha256');
  for (const f of inputs) hash.update(readFileSync(path.join(ROOT, f)));
  const digest = hash.digest('hex');
  const stamp = path.join(venv, '.forja-stamp');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return python;
  if (!existsSync(python)) {
    log('creating the Python virtual environment (.venv)…');
    const created = spawnSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    if (created.status !== 0) {
      ensureAptPackages(['python3-venv']);
      run('python3', ['-m', 'venv', venv]);
    }
  }
  log('installing Python packages from PyPI…');
  run(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', 'uv']);
  const uvArgs = ['-m', 'uv', 'pip', 'install', '-q', '--python', python, '-e', path.join(ROOT, 'python')];
  if (existsSync(path.join(ROOT, 'python/requirements-test.txt'))) uvArgs.push('-r', path.join(ROOT, 'python/requirements-test.txt'));
  run(python, uvArgs);
  mkdirSync(venv, { recursive: true });
  writeFileSync(stamp, digest);
  return python;
}
