import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, chmodSync, statSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { hashPasswordSync } from './auth/passwords.js';
import { hashToken } from './auth/secrets.js';

/** A bad setting: start-up stops with this message, which names the variable to fix. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const portSchema = z.coerce.number().int().min(0).max(65535);

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:<file>` or `postgres://…`; resolved from FORJA_DATABASE_URL or the data directory. */
  databaseUrl: string;
  artifactsDir: string;
  /** Each deployment's files and runtime log. */
  deploymentsDir: string;
  /** Python environments, the uv cache and uv itself. */
  runtimeDir: string;
  /** Batch projects' deployed scripts and run folders. */
  batchDir: string;
  /** The URL scripts run by jobs use to reach Forja (FORJA_PUBLIC_URL); the listening address when unset. */
  publicUrl: string | undefined;
  lakeFile: string;
  /** PostgreSQL for the lake's tables (FORJA_LAKE_URL); the DuckDB file lakeFile when unset. */
  lakeUrl: string | undefined;
  /** The biggest upload a lake write takes (FORJA_LAKE_MAX_UPLOAD_MB); bodies stream to disk, never to memory. */
  lakeMaxUploadBytes: number;
  /** 32 bytes used to encrypt stored secrets; from FORJA_SECRET_KEY or a key file in the data directory. */
  secretKey: Buffer;
  /**
   * The scrypt hash of FORJA_ADMIN_PASSWORD(_FILE), for the first admin. The password itself is not
   * kept anywhere once the configuration is read.
   */
  adminPasswordHash: string | undefined;
  /** The SHA-256 of FORJA_ADMIN_TOKEN(_FILE): enough to make sure that token exists, useless to whoever reads memory. */
  adminTokenHash: string | undefined;
  /** Where the built web UI lives; served at `/` when present. */
  webDir: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  sessionTtlHours: number;
  bodyLimitBytes: number;
  /**
   * Whose X-Forwarded-For to believe: the addresses and CIDRs of FORJA_TRUSTED_PROXIES, true for
   * anyone (FORJA_TRUST_PROXY=true), false for no one.
   */
  trustProxy: boolean | string[];
  /** Jobs this process runs at once; 0 makes it an API-only server (then `forja worker`s run them). */
  workers: number;
  /** How long a job stays claimed without a heartbeat before another worker may take it over. */
  jobLeaseMs: number;
  /** Wait before a failed webhook delivery's first retry; each later retry doubles it. */
  webhookRetryMs: number;
  /** FORJA_SANDBOX: how user code runs (auto = bubblewrap, refused where it is missing; off = unsandboxed). */
  sandbox: 'auto' | 'bwrap' | 'off';
  /** FORJA_SANDBOX_UID_BASE: a root server runs group N's code as user id base + N. */
  sandboxUidBase: number;
  /** FORJA_UV_CACHE_DIR: one package cache shared by every group's builds (by default each group has its own). */
  uvCacheDir: string | undefined;
  /** FORJA_WHEELHOUSE: a folder of wheels every build may install from (read-only; the installer's --find-links). */
  wheelhouse: string | undefined;
  /** FORJA_CODEX_TENANT: the tenant MLOps Codex clients must log in with (their notebooks name one). */
  codexTenant: string;
  /** What is worth a warning but does not stop start-up; logged once the process has a logger. */
  warnings: string[];
}

export type ConfigOverrides = Partial<Pick<Config, 'host' | 'port' | 'dataDir' | 'databaseUrl' | 'logLevel' | 'webDir'>>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function parseOr<T>(variable: string, raw: string | undefined, schema: z.ZodType<T>, fallback: T): T {
  if (raw === undefined || raw === '') return fallback;
  const result = schema.safeParse(raw);
  if (!result.success) throw new ConfigError(variable, `${JSON.stringify(raw)} is not valid: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}

function resolveDatabaseUrl(raw: string | undefined, dataDir: string): string {
  if (!raw) return `sqlite:${path.join(dataDir, 'forja.db')}`;
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError('FORJA_DATABASE_URL', 'is not a valid postgres:// URL');
    }
    return raw;
  }
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!file) throw new ConfigError('FORJA_DATABASE_URL', 'sqlite: needs a file path, e.g. sqlite:./forja-data/forja.db');
    return `sqlite:${file === ':memory:' ? file : path.resolve(file)}`;
  }
  throw new ConfigError('FORJA_DATABASE_URL', `must start with "sqlite:" or "postgres://" (got "${raw.split(':')[0]}:")`);
}

function loadSecretKey(raw: string | undefined, dataDir: string): Buffer {
  if (raw !== undefined && raw !== '') {
    if (raw.length < 32) throw new ConfigError('FORJA_SECRET_KEY', 'must be at least 32 characters (e.g. `openssl rand -hex 32`)');
    return deriveKey(raw);
  }
  const file = path.join(dataDir, 'secret.key');
  if (existsSync(file)) return deriveKey(readFileSync(file, 'utf8').trim());
  const generated = randomBytes(32).toString('hex');
  writeFileSync(file, generated + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return deriveKey(generated);
}

/** A fixed-size key from whatever string the operator chose, so any length of at least 32 works. */
function deriveKey(material: string): Buffer {
  return createHash('sha256')
    .update('forja-secret-key:' + material)
    .digest();
}

function existingDir(variable: string, raw: string): string {
  const dir = path.resolve(raw);
  if (!existsSync(dir)) throw new ConfigError(variable, `${dir} does not exist`);
  return dir;
}

/**
 * A folder every sandboxed build reads. A root server runs builds as unprivileged users, so the folder
 * and its files must be readable by others: a private one (mkdtemp's 0700) would fail every build later.
 */
function sharedDir(variable: string, raw: string, sandbox: Config['sandbox']): string {
  const dir = existingDir(variable, raw);
  if (sandbox === 'off' || process.getuid?.() !== 0) return dir;
  const closed = [dir, ...readdirSync(dir).map((f) => path.join(dir, f))].filter((p) => {
    const st = statSync(p);
    const needed = st.isDirectory() ? 0o005 : 0o004;
    return (st.mode & needed) !== needed;
  });
  if (closed.length > 0) {
    throw new ConfigError(
      variable,
      `${closed[0]} is not readable by the sandbox's users (builds run as unprivileged users, not root): run chmod -R o+rX ${dir}`,
    );
  }
  return dir;
}

/**
 * Variables that hold secrets: read once, then removed from the environment, so nothing this process
 * spawns (package builds, job scripts) inherits them.
 */
const SECRET_VARIABLES = ['FORJA_ADMIN_PASSWORD', 'FORJA_ADMIN_PASSWORD_FILE', 'FORJA_ADMIN_TOKEN', 'FORJA_ADMIN_TOKEN_FILE', 'FORJA_SECRET_KEY'] as const;

/** A secret given either inline (`NAME`) or as a file (`NAME_FILE`, e.g. a Docker or Kubernetes secret). */
function readSecret(env: NodeJS.ProcessEnv, name: string): { value: string; from: string } | undefined {
  const inline = env[name] || undefined;
  const file = env[`${name}_FILE`] || undefined;
  if (inline !== undefined && file !== undefined) throw new ConfigError(name, `is set and so is ${name}_FILE: set only one of them`);
  if (file === undefined) return inline === undefined ? undefined : { value: inline, from: name };
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${name}_FILE`, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  // Editors and `echo` end files with a newline that is not part of the secret.
  const value = content.replace(/(\r?\n)+$/, '');
  if (!value) throw new ConfigError(`${name}_FILE`, `${file} is empty`);
  return { value, from: `${name}_FILE` };
}

/**
 * Creates the data directory readable by this user only, and tightens one that already exists when
 * it is ours; one owned by someone else is left alone with a warning.
 */
function prepareDataDir(dataDir: string, warnings: string[]): void {
  try {
    if (existsSync(dataDir)) {
      const { mode, uid } = statSync(dataDir);
      // Without POSIX owners (Windows) there is nothing to check.
      if (process.getuid && (mode & 0o077) !== 0) {
        if (uid === process.getuid()) chmodSync(dataDir, 0o700);
        else
          warnings.push(
            `FORJA_DATA_DIR: ${dataDir} is open to other users (mode ${(mode & 0o777).toString(8)}) and belongs to another user, so it was left as it is; make it 0700.`,
          );
      }
    } else {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    }
    mkdirSync(path.join(dataDir, 'artifacts'), { recursive: true });
    mkdirSync(path.join(dataDir, 'lake'), { recursive: true });
  } catch (err) {
    throw new ConfigError('FORJA_DATA_DIR', `cannot create ${dataDir}: ${(err as Error).message}`);
  }
}

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Addresses, CIDRs, or the names loopback/linklocal/uniquelocal, as Fastify's trustProxy takes them. */
function parseTrustedProxies(raw: string): string[] {
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0)
    throw new ConfigError('FORJA_TRUSTED_PROXIES', 'lists no address: give IPs or CIDRs separated by commas, e.g. 10.0.0.5,192.168.0.0/16');
  for (const entry of entries) {
    if (PROXY_KEYWORDS.has(entry)) continue;
    const [ip = '', bits, extra] = entry.split('/');
    const family = isIP(ip);
    const maxBits = family === 6 ? 128 : 32;
    const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !okBits || extra !== undefined)
      throw new ConfigError('FORJA_TRUSTED_PROXIES', `"${entry}" is not an IP address or CIDR (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8, loopback)`);
  }
  return entries;
}

function resolveTrustProxy(env: NodeJS.ProcessEnv, warnings: string[]): boolean | string[] {
  const trustAll = parseOr(
    'FORJA_TRUST_PROXY',
    env.FORJA_TRUST_PROXY,
    z.enum(['true', 'false']).transform((v) => v === 'true'),
    false,
  );
  if (!env.FORJA_TRUSTED_PROXIES) {
    if (trustAll)
      warnings.push(
        'FORJA_TRUST_PROXY=true believes X-Forwarded-For from every client, so a client can choose the address the login limit and the audit log see; list your proxies in FORJA_TRUSTED_PROXIES instead.',
      );
    return trustAll;
  }
  if (trustAll) throw new ConfigError('FORJA_TRUST_PROXY', 'is true and FORJA_TRUSTED_PROXIES is set: keep only FORJA_TRUSTED_PROXIES');
  return parseTrustedProxies(env.FORJA_TRUSTED_PROXIES);
}

/**
 * Reads the configuration from the environment (and flag overrides); the only place that reads
 * process.env. The secret variables are deleted from `env` and from process.env once read.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const host = overrides.host ?? parseOr('FORJA_HOST', env.FORJA_HOST, z.string().min(1), '127.0.0.1');
  const port = overrides.port ?? parseOr('FORJA_PORT', env.FORJA_PORT, portSchema, 5050);
  const dataDir = path.resolve(overrides.dataDir ?? (env.FORJA_DATA_DIR || './forja-data'));
  const warnings: string[] = [];
  prepareDataDir(dataDir, warnings);
  const databaseUrl = resolveDatabaseUrl(overrides.databaseUrl ?? env.FORJA_DATABASE_URL, dataDir);
  const adminPassword = readSecret(env, 'FORJA_ADMIN_PASSWORD');
  if (adminPassword !== undefined && adminPassword.value.length < 8) throw new ConfigError(adminPassword.from, 'must be at least 8 characters');
  const adminToken = readSecret(env, 'FORJA_ADMIN_TOKEN');
  if (adminToken !== undefined && (adminToken.value.length < 16 || /\s/.test(adminToken.value)))
    throw new ConfigError(adminToken.from, 'must be at least 16 characters with no spaces');
  const secretKey = loadSecretKey(env.FORJA_SECRET_KEY, dataDir);
  const sandbox = parseOr('FORJA_SANDBOX', env.FORJA_SANDBOX, z.enum(['auto', 'bwrap', 'off']), 'auto');
  for (const name of SECRET_VARIABLES) {
    delete env[name];
    delete process.env[name];
  }
  const logLevel = overrides.logLevel ?? parseOr('FORJA_LOG_LEVEL', env.FORJA_LOG_LEVEL, z.enum(LOG_LEVELS), 'info');
  return {
    host,
    port,
    dataDir,
    databaseUrl,
    artifactsDir: path.join(dataDir, 'artifacts'),
    deploymentsDir: path.join(dataDir, 'deployments'),
    runtimeDir: path.join(dataDir, 'runtime'),
    batchDir: path.join(dataDir, 'batch'),
    publicUrl: env.FORJA_PUBLIC_URL ? env.FORJA_PUBLIC_URL.replace(/\/+$/, '') : undefined,
    lakeFile: path.join(dataDir, 'lake', 'lake.duckdb'),
    lakeUrl: env.FORJA_LAKE_URL
      ? parseOr('FORJA_LAKE_URL', env.FORJA_LAKE_URL, z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'), '')
      : undefined,
    lakeMaxUploadBytes: parseOr('FORJA_LAKE_MAX_UPLOAD_MB', env.FORJA_LAKE_MAX_UPLOAD_MB, z.coerce.number().min(1).max(1_048_576), 10_240) * 1024 * 1024,
    secretKey,
    adminPasswordHash: adminPassword && hashPasswordSync(adminPassword.value),
    adminTokenHash: adminToken && hashToken(adminToken.value),
    webDir: overrides.webDir ? path.resolve(overrides.webDir) : env.FORJA_WEB_DIR ? path.resolve(env.FORJA_WEB_DIR) : undefined,
    logLevel,
    sessionTtlHours: parseOr(
      'FORJA_SESSION_TTL_HOURS',
      env.FORJA_SESSION_TTL_HOURS,
      z.coerce
        .number()
        .int()
        .min(1)
        .max(24 * 90),
      12,
    ),
    bodyLimitBytes: parseOr('FORJA_BODY_LIMIT_BYTES', env.FORJA_BODY_LIMIT_BYTES, z.coerce.number().int().min(1024), 1024 * 1024),
    sandbox,
    sandboxUidBase: parseOr('FORJA_SANDBOX_UID_BASE', env.FORJA_SANDBOX_UID_BASE, z.coerce.number().int().min(1000).max(4_000_000_000), 900_000),
    uvCacheDir: env.FORJA_UV_CACHE_DIR ? path.resolve(env.FORJA_UV_CACHE_DIR) : undefined,
    wheelhouse: env.FORJA_WHEELHOUSE ? sharedDir('FORJA_WHEELHOUSE', env.FORJA_WHEELHOUSE, sandbox) : undefined,
    trustProxy: resolveTrustProxy(env, warnings),
    codexTenant: parseOr('FORJA_CODEX_TENANT', env.FORJA_CODEX_TENANT, z.string().trim().min(1).max(200), 'forja'),
    workers: parseOr('FORJA_WORKERS', env.FORJA_WORKERS, z.coerce.number().int().min(0).max(256), 4),
    webhookRetryMs: parseOr('FORJA_WEBHOOK_RETRY_SECONDS', env.FORJA_WEBHOOK_RETRY_SECONDS, z.coerce.number().min(0.01).max(3600), 10) * 1000,
    jobLeaseMs: parseOr('FORJA_JOB_LEASE_SECONDS', env.FORJA_JOB_LEASE_SECONDS, z.coerce.number().min(1).max(3600), 30) * 1000,
    warnings,
  };
}
