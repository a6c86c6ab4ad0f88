import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { ProcessFailed, runProcess } from './process.js';
import { SHARED_BUILDS, toolEnvironment, type Sandbox } from './sandbox.js';

export interface EnvironmentSpec {
  /** "3.11", "3.10.13" or "" for the server's default python3. */
  python: string;
  /** The text of a requirements.txt. */
  requirements: string;
}

export interface Environment {
  key: string;
  dir: string;
  /** The environment's interpreter, to run scripts and workers with. */
  python: string;
  /** True when an environment built earlier (by any deployment or run) was reused. */
  reused: boolean;
}

export interface BuildContext {
  log(line: string): void;
  signal?: AbortSignal;
  /** Whose build this is: it runs in the sandbox as that group, with that group's package cache. */
  groupId: string;
}

export interface EnvironmentsOptions {
  /** Builds run package installers, and so the code of any source package: in the sandbox, like all user code. */
  sandbox: Sandbox;
  /**
   * One uv cache for every group (FORJA_UV_CACHE_DIR): faster, but a build's code could alter packages
   * another group installs later. By default each group has its own under the runtime folder.
   */
  sharedCacheDir?: string;
  /**
   * A folder of wheels the operator provides (FORJA_WHEELHOUSE): mounted read-only into builds and
   * offered to the installer. A build sees no other local path, so `pkg @ file:///…` works only there.
   */
  wheelhouse?: string;
  lockWaitMs?: number;
}

/** A build that failed: the message carries the installer's own error lines. */
export class EnvironmentBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentBuildError';
  }
}

const READY = '.forja-ready';
/** uv never downloads an interpreter (only the machine's own Pythons are used) and prints plain lines. */
const UV_ENV = { UV_PYTHON_DOWNLOADS: 'never', UV_NO_PROGRESS: '1', NO_COLOR: '1' };
const PYTHON_VERSION = /^(|3(\.\d{1,2}){0,2})$/;

/**
 * Python environments, one per (Python version, requirements), built with uv and shared by every
 * deployment, batch project and training run that asks for the same pair. A build happens once:
 * concurrent requests for the same environment, in this process or another, wait for it.
 */
export class Environments {
  private readonly building = new Map<string, Promise<Environment>>();
  private adopted: Promise<void> | undefined;
  private uv: Promise<string> | undefined;

  constructor(
    /** `$FORJA_DATA_DIR/runtime`: environments and (when not on PATH) uv itself live here. */
    private readonly root: string,
    private readonly options: EnvironmentsOptions,
  ) {}

  get sandbox(): Sandbox {
    return this.options.sandbox;
  }

  /** Requirements with comments, blank lines and surrounding spaces removed: what decides identity. */
  static normalise(requirements: string): string {
    return requirements
      .split(/\r?\n/)
      .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
      .filter(Boolean)
      .join('\n');
  }

  static keyOf(spec: EnvironmentSpec): string {
    return createHash('sha256')
      .update(`python=${spec.python.trim()}\n${Environments.normalise(spec.requirements)}`)
      .digest('hex')
      .slice(0, 20);
  }

  dirOf(key: string): string {
    return path.join(this.root, 'envs', key);
  }

  isReady(key: string): boolean {
    return existsSync(path.join(this.dirOf(key), READY));
  }

  async ensure(spec: EnvironmentSpec, ctx: BuildContext): Promise<Environment> {
    const python = spec.python.trim();
    if (!PYTHON_VERSION.test(python))
      throw new EnvironmentBuildError(`Invalid Python version "${spec.python}": use 3, 3.11 or 3.11.7, or leave it empty for the server's default.`);
    const key = Environments.keyOf(spec);
    const existing = this.building.get(key);
    if (existing) {
      ctx.log(`Waiting for the build of environment ${key} already under way…`);
      return existing.then((env) => ({ ...env, reused: true }));
    }
    const work = this.ensureOnce(key, { python, requirements: spec.requirements }, ctx).finally(() => this.building.delete(key));
    this.building.set(key, work);
    return work;
  }

  private async ensureOnce(key: string, spec: EnvironmentSpec, ctx: BuildContext): Promise<Environment> {
    const dir = this.dirOf(key);
    const env = (reused: boolean): Environment => ({ key, dir, python: path.join(dir, 'bin', 'python'), reused });
    if (this.isReady(key)) {
      ctx.log(`Reusing environment ${key} (Python ${spec.python || 'default'}, same requirements).`);
      return env(true);
    }
    await mkdir(path.join(this.root, 'envs'), { recursive: true });
    const lock = `${dir}.lock`;
    // mkdir is atomic: the process that makes the lock builds; the others wait for it to go away.
    while (!(await tryLock(lock))) {
      ctx.log(`Another process is building environment ${key}; waiting…`);
      await this.waitForUnlock(lock, ctx.signal);
      if (this.isReady(key)) return env(true);
    }
    try {
      if (this.isReady(key)) return env(true);
      await rm(dir, { recursive: true, force: true });
      await this.build(dir, spec, ctx);
      await writeFile(path.join(dir, READY), new Date().toISOString() + '\n');
      return env(false);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    } finally {
      await rmdir(lock).catch(() => undefined);
    }
  }

  private async build(dir: string, spec: EnvironmentSpec, ctx: BuildContext): Promise<void> {
    const uv = await this.uvPath(ctx);
    const logFile = path.join(this.root, 'envs', `${path.basename(dir)}.build.log`);
    await writeFile(logFile, '');
    const out = (line: string) => {
      ctx.log(line);
      void appendFile(logFile, line + '\n').catch(() => undefined);
    };
    out(`Creating environment ${path.basename(dir)} with Python ${spec.python || '(default)'}…`);
    // Finding the interpreter runs no user code: it happens outside the sandbox, which then mounts that installation.
    const found = await runLogged(uv, ['python', 'find', ...(spec.python ? [spec.python] : [])], UV_ENV, () => undefined, ctx.signal);
    const python = found.code === 0 ? found.last.at(-1)?.trim() : undefined;
    if (!python || !path.isAbsolute(python)) {
      const available = await listPythons(uv, UV_ENV);
      throw new EnvironmentBuildError(
        `Python ${spec.python || '(default)'} is not available on this server${available ? ` (available: ${available})` : ''}: ${found.last.join(' ').slice(0, 500)}`,
      );
    }
    const cache = this.options.sharedCacheDir ?? path.join(this.root, 'uv-cache', ctx.groupId);
    // A shared cache is written by one user: every build runs as the same identity then, not as its group.
    const builder = this.options.sharedCacheDir ? SHARED_BUILDS : ctx.groupId;
    // Once per process: a shared cache may hold files another user wrote (an unsandboxed server, an older build).
    if (this.options.sharedCacheDir) await (this.adopted ??= this.options.sandbox.adopt(cache, SHARED_BUILDS));
    await mkdir(cache, { recursive: true });
    await mkdir(dir, { recursive: true });
    const uvInSandbox = async (args: string[]): Promise<{ ok: boolean; last: string[] }> => {
      const run = {
        groupId: builder,
        argv: [uv, ...args],
        cwd: dir,
        python,
        // The certificate store, so a company CA installed on the server is trusted as pip would.
        env: {
          ...UV_ENV,
          UV_CACHE_DIR: cache,
          UV_SYSTEM_CERTS: process.env.UV_SYSTEM_CERTS ?? '1',
          HOME: '/tmp',
          ...(this.options.wheelhouse ? { UV_FIND_LINKS: this.options.wheelhouse } : {}),
        },
        // uv's folder may be /usr/local/bin: shared mounts are never given to the build's user.
        shared: [path.dirname(uv), ...(this.options.wheelhouse ? [this.options.wheelhouse] : [])],
        writable: [dir, cache],
        network: true,
      };
      try {
        await runProcess({ signal: ctx.signal ?? new AbortController().signal, log: out }, { sandbox: this.options.sandbox, run, keepLinks: true });
        return { ok: true, last: [] };
      } catch (err) {
        if (err instanceof ProcessFailed) return { ok: false, last: err.lastLines };
        throw err;
      }
    };
    const created = await uvInSandbox(['venv', '--seed', '--allow-existing', dir, '--python', python]);
    if (!created.ok)
      throw new EnvironmentBuildError(
        `Creating the environment failed:\n${created.last.filter((l) => /error|cause/i.test(l)).join('\n') || created.last.join('\n')}`,
      );
    const requirements = Environments.normalise(spec.requirements);
    await writeFile(path.join(dir, 'requirements.txt'), requirements + '\n');
    if (!requirements) {
      out('No requirements to install.');
      return;
    }
    out('Installing requirements…');
    const installed = await uvInSandbox(['pip', 'install', '--python', path.join(dir, 'bin', 'python'), '-r', path.join(dir, 'requirements.txt')]);
    if (!installed.ok) {
      const errorLines = installed.last.filter((l) => /error|because|cause|not found|no solution|hint/i.test(l));
      throw new EnvironmentBuildError(`The requirements could not be installed:\n${(errorLines.length ? errorLines : installed.last).join('\n')}`);
    }
    out('Environment ready.');
  }

  /** uv from PATH, else installed once from PyPI into the runtime folder. */
  private uvPath(ctx: BuildContext): Promise<string> {
    this.uv ??= (async () => {
      const onPath = await which('uv');
      if (onPath) return onPath;
      const tools = path.join(this.root, 'tools');
      const uv = path.join(tools, 'bin', 'uv');
      if (existsSync(uv)) return uv;
      ctx.log('Installing uv (the Python package installer) from PyPI, once…');
      const venv = await runLogged('python3', ['-m', 'venv', tools], {}, ctx.log);
      if (venv.code !== 0) throw new EnvironmentBuildError(`python3 -m venv failed; install python3 and python3-venv on the server:\n${venv.last.join('\n')}`);
      const pip = await runLogged(path.join(tools, 'bin', 'pip'), ['install', '-q', '--disable-pip-version-check', 'uv'], {}, ctx.log);
      if (pip.code !== 0) throw new EnvironmentBuildError(`Installing uv from PyPI failed:\n${pip.last.join('\n')}`);
      return uv;
    })();
    this.uv.catch(() => (this.uv = undefined));
    return this.uv;
  }

  private async waitForUnlock(lock: string, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + (this.options.lockWaitMs ?? 3600_000);
    while (Date.now() < deadline) {
      if (signal?.aborted) throw signal.reason;
      try {
        await stat(lock);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new EnvironmentBuildError(`Gave up waiting for another build of this environment (lock ${lock}); remove the lock if no build is running.`);
  }
}

async function tryLock(dir: string): Promise<boolean> {
  try {
    await mkdir(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function which(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = path.join(dir, command);
    try {
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function listPythons(uv: string, env: Record<string, string>): Promise<string> {
  const versions = new Set<string>();
  await runLogged(uv, ['python', 'list', '--only-installed'], env, (line) => {
    const m = /^cpython-(\d+\.\d+\.\d+)/.exec(line);
    if (m) versions.add(m[1]!);
  });
  return [...versions].join(', ');
}

/** Runs a command, passing each output line on; resolves with the exit code and the last lines. */
function runLogged(
  command: string,
  args: string[],
  env: Record<string, string>,
  out: (line: string) => void,
  signal?: AbortSignal,
): Promise<{ code: number; last: string[] }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: { ...toolEnvironment(), ...env }, stdio: ['ignore', 'pipe', 'pipe'], signal });
    const last: string[] = [];
    const take = (line: string) => {
      out(line);
      last.push(line);
      if (last.length > 30) last.shift();
    };
    createInterface({ input: child.stdout }).on('line', take);
    createInterface({ input: child.stderr }).on('line', take);
    child.on('error', (err) => {
      take(err.message);
      resolve({ code: -1, last });
    });
    child.on('close', (code) => resolve({ code: code ?? -1, last }));
  });
}
