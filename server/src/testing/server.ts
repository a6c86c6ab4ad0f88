import { loadConfig } from '../config.js';
import type { Dialect } from '../db/database.js';
import { startServer, type RunningServer, type StartOptions } from '../server.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { testUvCache } from './sandbox.js';

export const TEST_ADMIN_PASSWORD = 'admin-password-for-tests';

export interface TestServer {
  url: string;
  dialect: Dialect;
  /** Where its database is, for workers and tools that share it. */
  databaseUrl: string;
  /** A personal token of the "admin" user (FORJA_ADMIN_TOKEN). */
  adminToken: string;
  dataDir: string;
  server: RunningServer;
  close(): Promise<void>;
}

/**
 * Starts the real server on a free port with a temporary data directory and a fresh database,
 * exactly as `forja server` does. Pass `webDir` to serve a built UI.
 */
export async function startTestServer(
  options: {
    dialect?: Dialect;
    webDir?: string;
    env?: Record<string, string>;
    beforeStart?: StartOptions['beforeStart'];
    logger?: StartOptions['logger'];
  } = {},
): Promise<TestServer> {
  const dialect = options.dialect ?? 'sqlite';
  const db: TestDatabase = await createTestDatabase(dialect);
  const adminToken = `test-admin-token-${Math.random().toString(36).slice(2)}`;
  const config = loadConfig(
    // On PostgreSQL the lake lives there too, so every lake test runs on both engines.
    {
      FORJA_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      FORJA_ADMIN_TOKEN: adminToken,
      FORJA_UV_CACHE_DIR: testUvCache(),
      ...(dialect === 'postgres' ? { FORJA_LAKE_URL: db.url } : {}),
      ...options.env,
    },
    { host: '127.0.0.1', port: 0, dataDir: db.dir, databaseUrl: db.url, webDir: options.webDir },
  );
  const logger = options.logger ?? (process.env.FORJA_TEST_LOGS === '1' ? { level: 'info' } : false);
  const server = await startServer(config, { logger, beforeStart: options.beforeStart });
  return {
    url: server.url,
    dialect,
    databaseUrl: db.url,
    adminToken,
    dataDir: db.dir,
    server,
    close: async () => {
      await server.close();
      await db.drop();
    },
  };
}

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A small HTTP helper for tests: JSON in, parsed JSON out, never throws on an error status. */
export async function http<T = any>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined;
  if (options.rawBody !== undefined) body = typeof options.rawBody === 'string' ? options.rawBody : new Uint8Array(options.rawBody);
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body: body as RequestInit['body'] });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** Appends Parquet rows to a lake table of the default group as the admin (creating it), asserting the 201. */
export async function writeLakeTable(s: TestServer, name: string, parquet: Uint8Array): Promise<void> {
  const r = await http(s.url, 'POST', `/api/v1/lake/tables/${name}/rows`, {
    token: s.adminToken,
    rawBody: Buffer.from(parquet),
    headers: { 'content-type': 'application/vnd.apache.parquet' },
  });
  if (r.status !== 201) throw new Error(`writing lake table ${name}: ${r.status} ${r.text}`);
}

/** Polls `check` until it returns something other than undefined; fails naming `what` after the timeout. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
