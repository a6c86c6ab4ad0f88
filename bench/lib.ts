import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface Served {
  url: string;
  headers: Record<string, string>;
  stop(): Promise<void>;
}

async function waitFor(url: string, child: ChildProcess, log: () => string, timeoutMs = 120_000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${log().slice(-2000)}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server at ${url} did not come up: ${log().slice(-2000)}`);
}

function stopper(child: ChildProcess, dir: string) {
  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          r(undefined);
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

function passThrough(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && /^(SSL_|REQUESTS_CA|CURL_CA|PIP_|UV_|HTTPS?_PROXY|NO_PROXY)/i.test(k)),
  ) as Record<string, string>;
}

/** Forja as users run it: its own process, embedded SQLite, a fresh data directory. */
export async function startForja(env: Record<string, string> = {}): Promise<Served & { pid: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'forja-bench-'));
  const port = await freePort();
  const token = 'bench-admin-token-0123456789';
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(ROOT, 'cli/src/main.ts'), 'server'], {
    // Certificates and proxies pass through: deployments install packages from PyPI.
    // One package cache for every bench server (as the tests do), so builds do not download again.
    env: {
      ...passThrough(),
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      FORJA_UV_CACHE_DIR: process.env.FORJA_UV_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'forja-test-uv'),
      FORJA_DATA_DIR: dir,
      FORJA_PORT: String(port),
      FORJA_LOG_LEVEL: 'warn',
      FORJA_ADMIN_PASSWORD: 'bench-password',
      FORJA_ADMIN_TOKEN: token,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/ready`, child, () => out);
  return { url, pid: child.pid!, headers: { authorization: `Bearer ${token}` }, stop: stopper(child, dir) };
}

/** The anchor: a real `mlflow server` on SQLite from the test virtual environment. */
export async function startMlflow(): Promise<Served> {
  const python = process.env.FORJA_PYTHON ?? path.join(ROOT, '.venv/bin/python');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlflow-bench-'));
  const port = await freePort();
  const child = spawn(
    python,
    [
      '-m',
      'mlflow',
      'server',
      '--backend-store-uri',
      `sqlite:///${dir}/mlflow.db`,
      '--artifacts-destination',
      `${dir}/artifacts`,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ],
    { env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' }, stdio: ['ignore', 'pipe', 'pipe'], cwd: dir },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/health`, child, () => out, 180_000);
  return { url, headers: {}, stop: stopper(child, dir) };
}

/**
 * fetch that tries once more when a kept-alive socket was closed under it: after a long pause (a
 * Python phase of a bench) the server may close an idle connection just as it is reused.
 */
async function fetchOnce(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (!/other side closed|ECONNRESET/.test(String((err as Error).cause ?? err))) throw err;
    return fetch(url, init);
  }
}

export async function post(s: Served, route: string, body: unknown): Promise<any> {
  const res = await fetchOnce(`${s.url}${route}`, {
    method: 'POST',
    headers: { ...s.headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${route}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : {};
}

export async function get(s: Served, route: string): Promise<any> {
  const res = await fetchOnce(`${s.url}${route}`, { headers: s.headers });
  const text = await res.text();
  if (!res.ok) throw new Error(`${route}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Runs fn over items with at most `limit` in flight (population only; timed parts are sequential). */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

export async function timed(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export interface Row {
  name: string;
  unit: string;
  anchor: number | null;
  forja: number;
  /** true when a bigger number is better (throughput), false for durations. */
  higherIsBetter: boolean;
}

/** Prints both sides and the ratio (how many times better Forja is). */
export function report(title: string, rows: Row[], anchorName = 'MLflow'): void {
  const lines = [`\n${title}`, `${'measure'.padEnd(58)} ${anchorName.padStart(12)} ${'Forja'.padStart(12)} ${'ratio'.padStart(8)}`];
  for (const r of rows) {
    const fmt = (v: number | null) => (v === null ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(2));
    const ratio = r.anchor === null ? '-' : `${(r.higherIsBetter ? r.forja / r.anchor : r.anchor / r.forja).toFixed(1)}×`;
    lines.push(`${`${r.name} (${r.unit})`.padEnd(58)} ${fmt(r.anchor).padStart(12)} ${fmt(r.forja).padStart(12)} ${ratio.padStart(8)}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}
