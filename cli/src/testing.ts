import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs the CLI as a real child process: from its TypeScript sources, or, when `npm test` has just
 * built it (FORJA_TEST_CLI=dist), the compiled CLI users run, which starts three times faster.
 */
const NODE_ARGS =
  process.env.FORJA_TEST_CLI === 'dist'
    ? [fileURLToPath(new URL('../dist/main.js', import.meta.url))]
    : ['--conditions=source', '--import', 'tsx', fileURLToPath(new URL('./main.ts', import.meta.url))];

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

const baseEnv = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' });

/**
 * Asynchronous on purpose: tests often run the server in their own process, and a synchronous
 * spawn would block the event loop that has to answer the CLI.
 */
export function runCli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { env: { ...baseEnv(), ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export function spawnCli(args: string[], env: Record<string, string>) {
  return spawn(process.execPath, [...NODE_ARGS, ...args], { env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory removed when the test process exits (the big upload files live here). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Starts `forja server` and resolves with the URL and everything it printed so far. */
export async function startServerProcess(env: Record<string, string>) {
  const child = spawnCli(['server'], { FORJA_PORT: '0', FORJA_LOG_LEVEL: 'warn', ...env });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}${err}`)), 30_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/Forja is running at (http:\/\/\S+)/);
      if (m && out.includes('\n\n')) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}${err}`)));
  });
  return { child, url, output: () => out, errors: () => err };
}
