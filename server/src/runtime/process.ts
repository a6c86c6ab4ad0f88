import { createInterface } from 'node:readline';
import type { JobLogsTable } from '../db/schema.js';
import { exitOf, keepOnlyRegularFiles, type Launch, type Sandbox, type SandboxRun } from './sandbox.js';
import { killGroup, spawnUserProcess, type Limits } from './user-process.js';

/** What a run reports to: a job's context, or an environment build's log. */
export interface RunContext {
  readonly signal: AbortSignal;
  log(line: string, stream?: JobLogsTable['stream']): void;
}

export interface ProcessSpec extends Limits {
  /** Every process of user code starts in the sandbox; `run` says what it may see. */
  sandbox: Sandbox;
  run: SandboxRun;
  /** How long after SIGTERM the process group gets SIGKILL. */
  killGraceMs?: number;
  /** Values the job was given (its token, the deployment's secrets): never written to its log. */
  secrets?: string[];
  /** Links and special files in the writable folders are removed afterwards unless kept (an environment build makes links). */
  keepLinks?: boolean;
}

export class ProcessFailed extends Error {
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly lastLines: string[],
  ) {
    const how = exitCode !== null ? `exited with code ${exitCode}` : `was killed by ${signal}`;
    super(lastLines.length ? `The process ${how}. Last lines:\n${lastLines.join('\n')}` : `The process ${how} and printed nothing.`);
    this.name = 'ProcessFailed';
  }
}

/** Streams the process's output into the job log; rejects with ProcessFailed on a non-zero exit. */
export async function runProcess(ctx: RunContext, spec: ProcessSpec): Promise<void> {
  const launch = await spec.sandbox.launch(spec.run);
  try {
    await watch(ctx, spec, launch);
  } finally {
    if (!spec.keepLinks) for (const dir of spec.run.writable ?? []) await keepOnlyRegularFiles(dir, (line) => ctx.log(line, 'system'));
  }
}

/** Replaces every given secret in a line; short values are left alone (they would mask ordinary words). */
function masker(secrets: string[] = []): (line: string) => string {
  const values = secrets.filter((s) => s.length >= 6).sort((a, b) => b.length - a.length);
  return (line) => values.reduce((l, s) => (l.includes(s) ? l.split(s).join('[masked]') : l), line);
}

function watch(ctx: RunContext, spec: ProcessSpec, launch: Launch): Promise<void> {
  const mask = masker(spec.secrets);
  return new Promise((resolve, reject) => {
    const child = spawnUserProcess(launch, spec, 'ignore');
    const last: string[] = [];
    const collect = (stream: 'stdout' | 'stderr') => (raw: string) => {
      const line = mask(raw);
      ctx.log(line, stream);
      last.push(line);
      if (last.length > 20) last.shift();
    };
    createInterface({ input: child.stdout }).on('line', collect('stdout'));
    createInterface({ input: child.stderr }).on('line', collect('stderr'));
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      killGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child, 'SIGKILL'), spec.killGraceMs ?? 3000);
    };
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      ctx.signal.removeEventListener('abort', onAbort);
      reject(new Error(`Could not start ${spec.run.argv[0]}: ${err.message}`));
    });
    child.on('close', (exitCode, exitSignal) => {
      const { code, signal } = exitOf(exitCode, exitSignal);
      clearTimeout(killTimer);
      ctx.signal.removeEventListener('abort', onAbort);
      if (ctx.signal.aborted) reject(ctx.signal.reason);
      else if (code === 0) resolve();
      else reject(new ProcessFailed(code, signal, last));
    });
  });
}
