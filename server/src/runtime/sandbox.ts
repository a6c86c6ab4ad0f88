import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { existsSync, realpathSync } from 'node:fs';
import { lchown, lstat, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.js';

/** FORJA_SANDBOX: `auto` and `bwrap` sandbox user code (and refuse to run it when they cannot); `off` runs it as the server. */
export type SandboxSetting = 'auto' | 'bwrap' | 'off';

export interface SandboxStatus {
  /** `bwrap`: every child is sandboxed; `off`: an admin chose to run user code unsandboxed; `unavailable`: user code is refused. */
  mode: 'bwrap' | 'off' | 'unavailable';
  /** Why the sandbox is off or unavailable, for logs, the admin banner and refused jobs. */
  reason?: string;
  /** Root server: each group's code runs as a user of its own. Otherwise user namespaces, as the server's user. */
  perGroupUsers: boolean;
}

/** One child process of user code and what it may see. Paths keep their host names inside the sandbox. */
export interface SandboxRun {
  /** Whose code this is: when the server is root, each group's processes run as a separate user. */
  groupId: string;
  argv: string[];
  cwd: string;
  /** The contract's variables and the declared secrets; nothing of the server's environment is inherited. */
  env: Record<string, string>;
  /** The interpreter of the environment the code runs in; its installation is mounted read-only. */
  python?: string;
  /** The run's own read-only folders (its model, its files): a root server gives them to the group's user. */
  readOnly?: string[];
  writable?: string[];
  /** Read-only mounts shared with every group (the installer, the wheelhouse): mounted, never given to anyone. */
  shared?: string[];
  /** Outbound network: off unless a group admin allowed it (or an environment build, which needs the package index). */
  network?: boolean;
  /** A Unix socket that reaches the Forja API (see api-relay.ts); inside, FORJA_URL becomes a relay to it. */
  apiSocket?: string;
}

export interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/** Where `forja_relay.py` listens inside a sandbox without network, and the URL code there uses for Forja. */
const SANDBOX_API_PORT = 5050;
const SANDBOX_API_URL = `http://127.0.0.1:${SANDBOX_API_PORT}`;
const SANDBOX_API_SOCKET = '/run/forja/api.sock';

/** Our Python helpers (worker, runners, relay), mounted read-only into every sandbox. */
const RUNTIME_DIR = fileURLToPath(new URL('../../runtime/', import.meta.url));
const RELAY = path.join(RUNTIME_DIR, 'forja_relay.py');

/**
 * The environment for the few trusted tools the server runs outside the sandbox (finding an
 * interpreter, installing uv, the safety scan): the machine's settings, none of the server's secrets.
 */
export function toolEnvironment(): Record<string, string> {
  return { ...machineSettings(true), PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: 'C.UTF-8' };
}

/** The server's variables a child may see: OpenBLAS's workarounds always, certificates and proxies with network. */
function machineSettings(network: boolean): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[1] !== undefined && (PASSED_ALWAYS.test(e[0]) || (network && PASSED_WITH_NETWORK.test(e[0]))),
    ),
  );
}

/** The machine's OpenBLAS workarounds: numpy crashes or computes wrong results on some processors without them. */
const PASSED_ALWAYS = /^OPENBLAS_(CORETYPE|L2_SIZE)$/;
/** What code with network needs of the machine's settings: certificates, the package index, proxies. None is a server secret. */
const PASSED_WITH_NETWORK =
  /^(SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|(HTTP|HTTPS|NO|ALL)_PROXY|(http|https|no|all)_proxy|UV_(DEFAULT_)?INDEX(_URL)?|UV_EXTRA_INDEX_URL|PIP_(EXTRA_)?INDEX_URL|PIP_FIND_LINKS)$/;

/** The system a child sees besides its own mounts: programs and libraries, and the few files of /etc that name resolution, TLS and user lookups read. */
const SYSTEM_READ_ONLY = [
  '/usr',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/nsswitch.conf',
  '/etc/localtime',
  '/etc/passwd',
  '/etc/group',
  '/etc/alternatives',
  '/etc/ld.so.cache',
];

/** The sandbox is unavailable and FORJA_SANDBOX is not `off`: user code is refused, with the reason and the way out. */
export class SandboxUnavailable extends AppError {
  constructor(reason: string) {
    super(
      'UNAVAILABLE',
      `User code cannot run on this server: ${reason}. Install bubblewrap (apt-get install bubblewrap) and restart, or set FORJA_SANDBOX=off to run user code unsandboxed (only on a server no other team uses).`,
    );
    this.name = 'SandboxUnavailable';
  }
}

/** Maps a group to the user its sandboxed processes run as (root servers only). */
export interface SandboxUsers {
  uidOf(groupId: string): Promise<number>;
}

/**
 * The identity of builds that share one package cache (FORJA_UV_CACHE_DIR): one fixed user, the same
 * on every server of the machine, so the cache is always writable by whoever builds next.
 */
export const SHARED_BUILDS = '*shared-builds*';

/**
 * Starts user code (scorers, scripts, pipeline steps, environment builds) in a bubblewrap sandbox:
 * new mount, PID, IPC, UTS and network namespaces; a cleared environment; the system read-only;
 * only the run's own folders mounted; dies with its parent; as a per-group user when the server is root.
 */
export class Sandbox {
  private readonly prefixes = new Map<string, string>();

  private constructor(
    readonly status: SandboxStatus,
    private readonly bwrap: string,
    private readonly users: SandboxUsers,
    /** The user id of SHARED_BUILDS (root servers). */
    private readonly sharedBuildsUid: number,
  ) {}

  /** Finds bubblewrap and proves it works here with one throw-away sandbox (~10 ms). */
  static detect(setting: SandboxSetting, users: SandboxUsers, sharedBuildsUid: number, bwrapPaths = ['/usr/bin/bwrap', '/usr/local/bin/bwrap']): Sandbox {
    const root = process.getuid?.() === 0;
    const make = (status: SandboxStatus, bwrap = '') => new Sandbox(status, bwrap, users, sharedBuildsUid);
    if (setting === 'off')
      return make({ mode: 'off', reason: "FORJA_SANDBOX=off: user code runs with the server's user, files and network", perGroupUsers: false });
    if (process.platform !== 'linux')
      return make({ mode: 'unavailable', reason: `the sandbox needs Linux (this is ${process.platform})`, perGroupUsers: false });
    const bwrap = bwrapPaths.find((p) => existsSync(p));
    if (!bwrap) return make({ mode: 'unavailable', reason: 'bubblewrap (bwrap) is not installed', perGroupUsers: false });
    if (root && !existsSync('/usr/bin/setpriv'))
      return make({
        mode: 'unavailable',
        reason: 'setpriv (util-linux) is missing: a root server needs it to run user code as an unprivileged user',
        perGroupUsers: false,
      });
    const probe = spawnSync(
      bwrap,
      [...namespaceArgs(root, false), '--ro-bind', '/usr', '/usr', ...usrMergeArgs(), '--proc', '/proc', '--dev', '/dev', '--', '/bin/true'],
      { encoding: 'utf8', timeout: 10_000 },
    );
    if (probe.status !== 0) {
      const why = (probe.stderr || probe.error?.message || `exit ${probe.status}`).trim();
      return make({
        mode: 'unavailable',
        reason: `bubblewrap cannot create namespaces here (${why}); unprivileged user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone=1)`,
        perGroupUsers: false,
      });
    }
    return make({ mode: 'bwrap', perGroupUsers: root }, bwrap);
  }

  /** The command that starts `run` in its sandbox; fails with SandboxUnavailable when user code may not run. */
  async launch(run: SandboxRun): Promise<Launch> {
    const env = this.environment(run);
    if (this.status.mode === 'off') return { command: run.argv[0]!, args: run.argv.slice(1), env, cwd: run.cwd };
    if (this.status.mode === 'unavailable') throw new SandboxUnavailable(this.status.reason ?? 'the sandbox is unavailable');
    const root = this.status.perGroupUsers;
    const uid = root ? await this.uidOf(run.groupId) : undefined;
    // The run's own folders belong to its group's user; read-only ones stay read-only through the mount.
    if (uid !== undefined) for (const dir of [...(run.writable ?? []), ...(run.readOnly ?? [])]) await giveTo(dir, uid, false);
    const python = run.python && path.isAbsolute(run.python) ? [path.dirname(path.dirname(run.python)), this.pythonPrefix(run.python)] : [];
    const readOnly = [...(run.readOnly ?? []), ...(run.shared ?? []), RUNTIME_DIR, ...python];
    const args = [...namespaceArgs(root, run.network === true), '--new-session', '--clearenv'];
    for (const [k, v] of Object.entries(env)) args.push('--setenv', k, v);
    // A private /dev/shm: multiprocessing's semaphores (joblib, torch) live there.
    args.push(...usrMergeArgs(), '--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--tmpfs', '/dev/shm', '--perms', '1777', '--tmpfs', '/tmp');
    args.push('--perms', '0755', '--dir', '/etc');
    for (const p of SYSTEM_READ_ONLY) if (existsSync(p)) args.push('--ro-bind', p, p);
    const mounts: Array<[string, string, string]> = [];
    for (const p of unique(readOnly)) mounts.push(['--ro-bind', p, p]);
    for (const p of unique(run.writable ?? [])) mounts.push(['--bind', p, p]);
    if (run.apiSocket) mounts.push(['--bind', run.apiSocket, SANDBOX_API_SOCKET]);
    // bwrap makes missing parents of a mount point private (0700) when it runs as root: the unprivileged
    // user inside could then not reach its own folders. Each parent is made world-searchable first.
    for (const dir of parentsOf(mounts.map((m) => m[2]))) args.push('--perms', '0755', '--dir', dir);
    for (const m of mounts) args.push(...m);
    args.push('--chdir', run.cwd, '--');
    if (uid !== undefined)
      args.push(
        '/usr/bin/setpriv',
        '--reuid',
        String(uid),
        '--regid',
        String(uid),
        '--clear-groups',
        '--inh-caps=-all',
        '--bounding-set=-all',
        '--no-new-privs',
        '--',
      );
    // Without a network the API is reached through the socket: a relay inside listens where FORJA_URL points.
    if (run.apiSocket && !run.network) args.push(run.python ?? 'python3', RELAY, SANDBOX_API_SOCKET, String(SANDBOX_API_PORT), '--');
    args.push(...run.argv);
    return { command: this.bwrap, args, env: {}, cwd: '/' };
  }

  private uidOf(groupId: string): Promise<number> {
    return groupId === SHARED_BUILDS ? Promise.resolve(this.sharedBuildsUid) : this.users.uidOf(groupId);
  }

  /**
   * Makes everything in `dir` belong to the user `groupId`'s code runs as (root servers), walking all
   * of it: for a shared cache that other users (an unsandboxed server, an older build) wrote into.
   */
  async adopt(dir: string, groupId: string): Promise<void> {
    if (this.status.mode === 'bwrap' && this.status.perGroupUsers) await giveTo(dir, await this.uidOf(groupId), true);
  }

  /** The installation an environment's interpreter belongs to (a venv's `bin/python` links to it). */
  private pythonPrefix(python: string): string {
    let prefix = this.prefixes.get(python);
    if (!prefix) {
      prefix = path.dirname(path.dirname(realpathSync(python)));
      this.prefixes.set(python, prefix);
    }
    return prefix;
  }

  private environment(run: SandboxRun): Record<string, string> {
    const bin = run.python ? `${path.dirname(run.python)}:` : '';
    return {
      ...machineSettings(run.network === true),
      PATH: `${bin}/usr/local/bin:/usr/bin:/bin`,
      HOME: run.cwd,
      LANG: 'C.UTF-8',
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
      ...run.env,
      // The caller's FORJA_URL is the server's own address: inside a sandbox without network it is the relay.
      ...(run.apiSocket && !run.network && this.status.mode === 'bwrap' ? { FORJA_URL: SANDBOX_API_URL } : {}),
    };
  }
}

/** Namespaces: everything but the network when it is allowed; a user namespace when not root (setpriv drops root's powers instead). */
function namespaceArgs(root: boolean, network: boolean): string[] {
  const args = ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent'];
  if (!root) args.push('--unshare-user');
  if (!network) args.push('--unshare-net');
  return args;
}

/** Debian's merged /usr: /bin, /lib and /lib64 are links into it. */
function usrMergeArgs(): string[] {
  const args: string[] = [];
  for (const [link, target] of [
    ['/bin', 'usr/bin'],
    ['/sbin', 'usr/sbin'],
    ['/lib', 'usr/lib'],
    ['/lib64', 'usr/lib64'],
  ] as const) {
    if (existsSync(path.join('/', target))) args.push('--symlink', target, link);
  }
  return args;
}

function unique(paths: string[]): string[] {
  return [...new Set(paths.map((p) => path.resolve(p)))];
}

function parentsOf(targets: string[]): string[] {
  const covered = new Set(['/', '/usr', '/tmp', '/proc', '/dev']);
  const out = new Set<string>();
  for (const t of targets) {
    for (let dir = path.dirname(t); !covered.has(dir) && !out.has(dir); dir = path.dirname(dir)) out.add(dir);
  }
  return [...out].sort((a, b) => a.split('/').length - b.split('/').length);
}

/**
 * Gives a folder and what is in it to `uid`, never following links out of it. Unless `everything`, a
 * folder `uid` owns already is not walked again: it made that folder, and so what is in it (a per-group
 * uv cache holds many thousand files).
 */
async function giveTo(dir: string, uid: number, everything: boolean): Promise<void> {
  const st = await lstat(dir).catch(() => undefined);
  if (!st || st.isSymbolicLink()) return;
  if (st.uid === uid && st.isDirectory() && !everything) return;
  if (st.uid !== uid) await lchown(dir, uid, uid);
  if (st.isDirectory()) for (const entry of await readdir(dir)) await giveTo(path.join(dir, entry), uid, everything);
}

/**
 * Removes links, pipes and sockets that user code left in its writable folders, once every process of
 * it is gone. The server reads results from there: a link planted as `output.csv` or `outputs.json`
 * would make it read (and hand back) a file of its own, such as the metadata database, and a pipe
 * would make it wait forever.
 */
export async function keepOnlyRegularFiles(dir: string, log?: (line: string) => void): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) await keepOnlyRegularFiles(full, log);
    else if (!e.isFile()) {
      await unlink(full).catch(() => undefined);
      log?.(`Removed ${e.name}, a link or special file the code left in its folder: results must be regular files.`);
    }
  }
}

/**
 * How a sandboxed process ended. bubblewrap reports a child killed by a signal as exit code 128 + the
 * signal, so a code above 128 is read back as the signal it stands for.
 */
export function exitOf(code: number | null, signal: NodeJS.Signals | null): { code: number | null; signal: NodeJS.Signals | null } {
  if (signal || code === null || code <= 128) return { code, signal };
  const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] as NodeJS.Signals | undefined;
  return name ? { code: null, signal: name } : { code, signal };
}
