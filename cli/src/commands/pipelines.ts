import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { ForjaClient } from '@forja/client';
import type { Pipeline, PipelineRun, PipelineRunStep } from '@forja/contracts';
import { clientFor, jsonOf } from '../context.js';
import { printList, printObject } from '../output.js';
import { collect, params, sleep, when } from '../options.js';

const clock = () => new Date().toTimeString().slice(0, 8);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The last line of an error says the most (a traceback's exception, a process's last words). */
const lastLine = (text: string | null) => (text ?? '').trim().split('\n').filter(Boolean).pop() ?? '';

/** How long a step took, or has been running. */
function duration(s: { startedAt: number | null; finishedAt: number | null }): string {
  if (s.startedAt === null) return '-';
  const secs = ((s.finishedAt ?? Date.now()) - s.startedAt) / 1000;
  return secs >= 60 ? `${Math.floor(secs / 60)}m${String(Math.round(secs % 60)).padStart(2, '0')}s` : `${secs.toFixed(1)}s`;
}

const compact = (outputs: Record<string, unknown> | null, width = 80) => {
  if (!outputs || Object.keys(outputs).length === 0) return '';
  const text = JSON.stringify(outputs);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
};

/** What a step's table row or change line says after its status: the error, or the outputs. */
const detail = (s: PipelineRunStep) => (s.status === 'failed' || s.status === 'skipped' || s.status === 'cancelled' ? lastLine(s.error) : compact(s.outputs));

export interface PipelineFiles {
  /** The pipeline name the YAML gives (`name:`), if any. */
  name: string | undefined;
  /** Plain file names, as the YAML spells them, with the local path of each. */
  files: { name: string; path: string }[];
}

/**
 * The files a pipeline YAML names, found beside it: each script step's `script` and `requirements`,
 * `with.source/data/requirements` of actions, MLOps Codex's `training.source/data/packages`, the
 * optional top-level `files:` list, and any other string in a step's `params`/`with` that names a
 * file in the YAML's folder. A YAML the CLI cannot read is sent as it is, for the server to explain.
 */
export function pipelineFiles(yamlPath: string): PipelineFiles {
  const dir = path.dirname(path.resolve(yamlPath));
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(yamlPath, 'utf8'), { maxAliasCount: 100 });
  } catch {
    return { name: undefined, files: [] };
  }
  if (!isObject(doc)) return { name: undefined, files: [] };
  const found = new Map<string, string>();
  const need = (value: unknown, where: string) => {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string') throw new Error(`${where} must name a file, not ${JSON.stringify(value)}`);
    if (value.includes('${{')) return; // resolved by the server at run time
    if (/[/\\]/.test(value) || value.startsWith('.'))
      throw new Error(`${where} "${value}": the server takes plain file names; put the file beside ${path.basename(yamlPath)} and name it without a folder`);
    const local = path.join(dir, value);
    if (!existsSync(local) || !statSync(local).isFile()) throw new Error(`${where} names "${value}", which is not a file in ${dir}`);
    found.set(value, local);
  };
  /** A string that happens to name a file beside the YAML (data a script reads through FORJA_FILES). */
  const maybe = (value: unknown) => {
    if (typeof value === 'string') {
      if (!value || value.includes('${{') || /[/\\]/.test(value) || value.startsWith('.') || found.has(value)) return;
      const local = path.join(dir, value);
      if (existsSync(local) && statSync(local).isFile()) found.set(value, local);
    } else if (Array.isArray(value)) value.forEach(maybe);
    else if (isObject(value)) Object.values(value).forEach(maybe);
  };
  if (Array.isArray(doc.steps)) {
    for (const [i, step] of doc.steps.entries()) {
      if (!isObject(step)) continue;
      const label = `step "${String(step.id ?? i + 1)}"`;
      need(step.script, `${label}: script`);
      need(step.requirements, `${label}: requirements`);
      if (isObject(step.with)) for (const key of ['source', 'data', 'requirements']) need(step.with[key], `${label}: with.${key}`);
      maybe(step.params);
      maybe(step.with);
    }
  }
  if (isObject(doc.training)) {
    need(doc.training.source, 'training.source');
    need(doc.training.data, 'training.data');
    need(doc.training.packages, 'training.packages');
  }
  if (doc.files !== undefined) {
    if (!Array.isArray(doc.files)) throw new Error('"files:" must be a list of file names');
    for (const [i, f] of doc.files.entries()) need(f, `files[${i}]`);
  }
  return { name: typeof doc.name === 'string' ? doc.name : undefined, files: [...found].map(([name, p]) => ({ name, path: p })) };
}

/** Uploads the YAML and the files it names as a new version of the pipeline. */
export async function pushPipeline(client: ForjaClient, file: string, name?: string): Promise<Pipeline> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${file} is not a file`);
  const found = pipelineFiles(file);
  const pipelineName = name ?? found.name ?? defaultName(file);
  const form = new FormData();
  form.append('definition', new Blob([readFileSync(file)]), path.basename(file));
  for (const f of found.files) form.append('file', new Blob([readFileSync(f.path)]), f.name);
  return client.pipelines.upload(pipelineName, form);
}

/** The file name as a pipeline name: lowercase letters, digits, ".", "_" and "-". */
const defaultName = (file: string) =>
  path
    .basename(file)
    .replace(/\.ya?ml$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '') || 'pipeline';

const looksLikeFile = (target: string) => /\.ya?ml$/i.test(target) || (existsSync(target) && statSync(target).isFile());

const TERMINAL_STEP = new Set(['succeeded', 'failed', 'skipped', 'cancelled', 'reused']);

/**
 * Follows a run until it ends: a line per step status change (time, step, status, and the outputs
 * or error once it ends); with `logs`, each step's log lines prefixed with the step id. Returns the
 * run as it ended.
 */
export async function followRun(
  client: ForjaClient,
  started: PipelineRun,
  options: { logs?: boolean; out?: (line: string) => void } = {},
): Promise<PipelineRun> {
  const out = options.out ?? ((l: string) => process.stdout.write(l + '\n'));
  const width = Math.max(4, ...started.steps.map((s) => s.id.length));
  const seen = new Map<string, string>();
  /** Log cursors by job id: a retried step has a new job, read from its start. */
  const cursors = new Map<string, { after: number; complete: boolean }>();
  const report = (run: PipelineRun) => {
    for (const s of run.steps) {
      const key = `${s.status}:${s.jobId ?? ''}`;
      if (seen.get(s.id) === key) continue;
      seen.set(s.id, key);
      // A step waiting on others is not news.
      if (s.status === 'pending') continue;
      const more = detail(s);
      const took = TERMINAL_STEP.has(s.status) && s.status !== 'reused' && s.status !== 'skipped' && s.startedAt !== null ? ` (${duration(s)})` : '';
      out(`${clock()}  ${s.id.padEnd(width)}  ${s.status}${took}${more ? `  ${more}` : ''}`);
    }
  };
  const readLogs = async (run: PipelineRun) => {
    for (const s of run.steps) {
      if (!s.jobId || s.status === 'reused') continue;
      let c = cursors.get(s.jobId);
      if (!c) cursors.set(s.jobId, (c = { after: 0, complete: false }));
      while (!c.complete) {
        const page = await client.jobs.logs(s.jobId, { after: c.after, limit: 1000 });
        for (const l of page.lines) for (const part of (l.stream === 'system' ? `[forja] ${l.line}` : l.line).split('\n')) out(`[${s.id}] ${part}`);
        c.after = page.next;
        c.complete = page.complete;
        if (page.lines.length < 1000) break;
      }
    }
  };
  let run = started;
  for (;;) {
    if (options.logs) await readLogs(run);
    report(run);
    if (run.status !== 'running') break;
    await sleep(700);
    run = await client.pipelines.getRun(run.id);
  }
  if (options.logs) {
    // What the steps printed last: read until each log is complete (a stopped step may take a moment).
    const deadline = Date.now() + 10_000;
    for (;;) {
      await readLogs(run);
      const open = run.steps.some((s) => s.jobId && s.status !== 'reused' && !cursors.get(s.jobId)?.complete);
      if (!open || Date.now() > deadline) break;
      await sleep(300);
    }
  }
  return run;
}

/** The closing summary of a followed run on stderr; the exit code it deserves. */
function summarize(run: PipelineRun, since: number): number {
  const secs = run.finishedAt ? ` in ${((run.finishedAt - since) / 1000).toFixed(1)} s` : '';
  if (run.status === 'succeeded') {
    process.stderr.write(`Run ${run.id} of ${run.pipeline} succeeded${secs}.\n`);
    return 0;
  }
  process.stderr.write(`Run ${run.id} of ${run.pipeline} ${run.status}${secs}.\n`);
  for (const s of run.steps.filter((x) => x.status === 'failed' || x.status === 'cancelled' || x.status === 'skipped')) {
    const [head = '', ...rest] = (s.error ?? '').trim().split('\n');
    process.stderr.write(`  ${s.id} ${s.status}${head ? `: ${head}` : ''}\n${rest.map((l) => `      ${l}\n`).join('')}`);
    if (s.jobId && s.status === 'failed') process.stderr.write(`      (whole log: forja jobs logs ${s.jobId})\n`);
  }
  if (run.status === 'failed') process.stderr.write(`Fix it and retry the failed steps: forja pipelines retry ${run.id} --follow\n`);
  return 1;
}

interface FollowOptions {
  follow?: boolean;
  logs?: boolean;
}

async function startedRun(client: ForjaClient, run: PipelineRun, o: FollowOptions, json: boolean, verb: string): Promise<void> {
  const follow = o.follow || o.logs;
  if (!follow) {
    if (json) return printObject(run, true);
    process.stdout.write(
      `Run ${run.id} of ${run.pipeline} version ${run.pipelineVersion} ${verb}.\nFollow it: forja pipelines show ${run.id}  (or run with --follow)\n`,
    );
    return;
  }
  process.stderr.write(`Run ${run.id} of ${run.pipeline} version ${run.pipelineVersion} ${verb}${run.fromStep ? ` from step ${run.fromStep}` : ''}.\n`);
  // With --json the live lines go to stderr, so stdout holds only the run as it ended.
  const since = verb === 'retried' ? Date.now() : run.createdAt;
  const done = await followRun(client, run, { logs: o.logs, out: json ? (l) => process.stderr.write(l + '\n') : undefined });
  if (json) printObject(done, true);
  process.exitCode = summarize(done, Math.min(since, done.finishedAt ?? since));
}

export function registerPipelineCommands(program: Command): void {
  const pipelines = program
    .command('pipelines')
    .description("The group's pipelines: a YAML DAG of scripts and platform actions (train, register, transition, deploy, batch-predict)");

  pipelines
    .command('ls', { isDefault: true })
    .alias('list')
    .description('Pipelines with their latest version and steps')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      printList(
        await clientFor(cmd).pipelines.list(),
        [
          { header: 'name', value: (p) => p.name },
          { header: 'version', value: (p) => p.version },
          { header: 'steps', value: (p) => p.steps.map((s) => s.id).join(' ') },
          { header: 'files', value: (p) => p.files.length },
          { header: 'updated', value: (p) => when(p.updatedAt) },
          { header: 'created by', value: (p) => p.createdBy },
        ],
        jsonOf(cmd),
      );
    });

  pipelines
    .command('push <file>')
    .description('Upload a pipeline YAML and every file it names (scripts, data, requirements) as a new version')
    .option('--name <name>', "pipeline name (default: the YAML's name:, or the file name)")
    .option('--json', 'print JSON')
    .action(async (file: string, o: { name?: string }, cmd: Command) => {
      const p = await pushPipeline(clientFor(cmd), file, o.name);
      if (jsonOf(cmd)) return printObject(p, true);
      process.stdout.write(
        `Pipeline ${p.name} version ${p.version}: ${p.steps.length} step${p.steps.length === 1 ? '' : 's'} (${p.steps.map((s) => s.id).join(', ')}); files: ${p.files.join(', ') || 'none'}.\n`,
      );
    });

  pipelines
    .command('run <file-or-name>')
    .description('Run a pipeline (a YAML file is pushed first); with --follow, print step changes until it ends and exit 1 unless it succeeded')
    .option('--name <name>', 'with a FILE: the pipeline name to push it as')
    .option('-p, --param <key=value>', 'a parameter the YAML declares under params: (repeatable)', collect, [])
    .option('--from <step>', "run this step and what depends on it, reusing the other steps' outputs from the last succeeded run")
    .option('-f, --follow', 'print step status changes until the run ends')
    .option('--logs', "with --follow: also print each step's log lines, prefixed with the step id")
    .option('--json', 'print the run as JSON (with --follow: as it ended)')
    .action(async (target: string, o: FollowOptions & { name?: string; param: string[]; from?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      let name = target;
      if (looksLikeFile(target)) {
        const p = await pushPipeline(client, target, o.name);
        process.stderr.write(`Pushed ${p.name} version ${p.version} (${p.files.length} file${p.files.length === 1 ? '' : 's'}).\n`);
        name = p.name;
      } else if (o.name) throw new Error('--name goes with a pipeline FILE; to run an uploaded pipeline, give its name alone');
      const run = await client.pipelines.run(name, { params: params(o.param), ...(o.from ? { fromStep: o.from } : {}) });
      await startedRun(client, run, o, jsonOf(cmd), 'started');
    });

  pipelines
    .command('runs <name>')
    .description("The pipeline's runs, newest first")
    .option('--json', 'print JSON')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      printList(
        await clientFor(cmd).pipelines.runs(name),
        [
          { header: 'id', value: (r) => r.id },
          { header: 'version', value: (r) => r.pipelineVersion },
          { header: 'status', value: (r) => r.status },
          { header: 'steps', value: (r) => `${r.steps.filter((s) => s.status === 'succeeded' || s.status === 'reused').length}/${r.steps.length} ok` },
          { header: 'from', value: (r) => r.fromStep },
          { header: 'created', value: (r) => when(r.createdAt) },
          { header: 'took', value: (r) => (r.finishedAt ? duration({ startedAt: r.createdAt, finishedAt: r.finishedAt }) : '-') },
          {
            header: 'failed',
            value: (r) =>
              r.steps
                .filter((s) => s.status === 'failed')
                .map((s) => `${s.id}: ${lastLine(s.error)}`)
                .join('; '),
          },
        ],
        jsonOf(cmd),
      );
    });

  pipelines
    .command('show <run-id>')
    .description('A run: its params and a table of steps (action, needs, status, duration, outputs or error)')
    .option('--json', 'print JSON')
    .action(async (runId: string, _o: unknown, cmd: Command) => {
      const run = await clientFor(cmd).pipelines.getRun(runId);
      if (jsonOf(cmd)) return printObject(run, true);
      printObject(
        {
          run: run.id,
          pipeline: `${run.pipeline} version ${run.pipelineVersion}`,
          status: run.status,
          params: run.params,
          from: run.fromStep,
          created: `${when(run.createdAt)}${run.createdBy ? ` by ${run.createdBy}` : ''}`,
          finished: when(run.finishedAt),
        },
        false,
      );
      process.stdout.write('\n');
      printList(
        run.steps,
        [
          { header: 'step', value: (s) => s.id },
          { header: 'action', value: (s) => s.action },
          { header: 'needs', value: (s) => s.needs.join(',') || '-' },
          { header: 'status', value: (s) => s.status },
          { header: 'duration', value: (s) => duration(s) },
          { header: 'job', value: (s) => s.jobId },
          { header: 'outputs / error', value: (s) => detail(s) || '-' },
        ],
        false,
      );
    });

  pipelines
    .command('retry <run-id>')
    .description('Run the failed, skipped and cancelled steps of a finished run again (what succeeded is kept)')
    .option('-f, --follow', 'print step status changes until the run ends')
    .option('--logs', "with --follow: also print each step's log lines")
    .option('--json', 'print the run as JSON')
    .action(async (runId: string, o: FollowOptions, cmd: Command) => {
      const client = clientFor(cmd);
      await startedRun(client, await client.pipelines.retryRun(runId), o, jsonOf(cmd), 'retried');
    });

  pipelines
    .command('cancel <run-id>')
    .description('Cancel a run: running steps are stopped, pending ones never start')
    .action(async (runId: string, _o: unknown, cmd: Command) => {
      const run = await clientFor(cmd).pipelines.cancelRun(runId);
      const stopped = run.steps.filter((s) => s.status === 'queued' || s.status === 'running').map((s) => s.id);
      process.stdout.write(`Run ${run.id} of ${run.pipeline} cancelled${stopped.length ? `; stopping ${stopped.join(', ')}` : ''}.\n`);
    });
}
