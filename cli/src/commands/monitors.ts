import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ForjaApiError, type ForjaClient } from '@forja/client';
import type { ColumnDrift, MonitorCreate, MonitorRun, MonitorReference } from '@forja/contracts';
import { clientFor, jsonOf } from '../context.js';
import { printList, printObject } from '../output.js';
import { collect, int, when } from '../options.js';
import { tailJobLogs } from './jobs.js';

interface CreateOptions {
  deployment?: string;
  table?: string;
  timeColumn?: string;
  referenceTable?: string;
  referenceFilter?: string;
  referenceFile?: string;
  referenceRun?: string;
  referenceTraining?: string;
  codex?: string;
  period: string;
  input: string[];
  output: string[];
  task?: 'classification' | 'regression';
  checks?: string;
  description?: string;
  schedule: boolean;
}

const PERIODS = ['hour', 'day', 'week', 'month'];

/** A time option: ISO 8601 (UTC unless it says otherwise) or milliseconds since the epoch. */
function time(value: string, what: string): number {
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) || !value.includes('T') ? value : `${value}Z`);
  if (!Number.isFinite(t)) throw new Error(`${what} "${value}" is not a time: write 2026-12-01, 2026-12-01T08:00 or milliseconds since the epoch`);
  return t;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The one reference option given, in the server's form; a file is uploaded after the monitor is made. */
function referenceOf(o: CreateOptions): MonitorReference | undefined {
  const given = [o.referenceTable, o.referenceFile, o.referenceRun, o.referenceTraining].filter((v) => v !== undefined);
  if (given.length > 1) throw new Error('give one reference: --reference-table, --reference-file, --reference-run or --reference-training');
  if (o.referenceFilter && !o.referenceTable) throw new Error('--reference-filter goes with --reference-table');
  if (o.referenceTable) return { kind: 'table', table: o.referenceTable, ...(o.referenceFilter ? { filter: o.referenceFilter } : {}) };
  if (o.referenceRun) return { kind: 'run', runId: o.referenceRun };
  if (o.referenceTraining) return { kind: 'training', trainingId: o.referenceTraining };
  return undefined;
}

function checksOf(o: CreateOptions): MonitorCreate['checks'] {
  const checks = (o.checks ? parseJson(o.checks, '--checks') : {}) as NonNullable<MonitorCreate['checks']>;
  if (typeof checks !== 'object' || checks === null || Array.isArray(checks))
    throw new Error('--checks takes a JSON object: {"drift": {…}, "performance": {…}}');
  if (o.task) checks.performance = { ...checks.performance, task: o.task };
  return checks;
}

const uploadReference = (client: ForjaClient, monitorId: string, file: string) =>
  client.monitors.uploadReference(monitorId, new Blob([readFileSync(file)]), path.basename(file));

/** The drift table of a run: one line per compared column. */
function printDrift(run: MonitorRun, json: boolean): void {
  const columns = run.drift?.columns ?? [];
  printList<ColumnDrift>(
    columns,
    [
      { header: 'column', value: (c) => c.column },
      { header: 'kind', value: (c) => c.kind },
      { header: 'method', value: (c) => c.result.method },
      { header: 'statistic', value: (c) => fixed(c.result.statistic) },
      { header: 'p-value', value: (c) => fixed(c.result.pValue) },
      { header: 'threshold', value: (c) => c.result.threshold },
      { header: 'drifted', value: (c) => (c.drifted ? 'yes' : 'no') },
      { header: 'note', value: (c) => c.note ?? '' },
    ],
    json,
  );
}

const fixed = (v: number | null) => (v === null ? null : Number(v.toPrecision(4)));

function summary(run: MonitorRun): string {
  const parts = [`Run ${run.id} ${run.status}: window ${when(run.windowStart)} → ${when(run.windowEnd)}, ${run.currentRows ?? 0} rows`];
  if (run.drift) parts.push(`${run.drift.driftedColumns} of ${run.drift.columns.length} columns drifted${run.drift.datasetDrift ? ' (dataset drift)' : ''}`);
  if (run.performance) {
    const m = Object.entries(run.performance.metrics).filter(([, v]) => v !== null);
    parts.push(`performance on ${run.performance.labelledRows} labelled rows: ${m.map(([k, v]) => `${k} ${fixed(v)}`).join(', ')}`);
    for (const d of run.performance.degraded) parts.push(`  ${d.metric} fell: baseline ${fixed(d.baseline)} → ${fixed(d.current)}`);
  }
  for (const p of run.problems ?? []) parts.push(`  ${p.part}: ${p.message}`);
  if (run.error) parts.push(`error: ${run.error}`);
  return parts.join('\n') + '\n';
}

async function latestRun(client: ForjaClient, monitor: string): Promise<MonitorRun> {
  const page = await client.monitors.runs(monitor, { limit: 1 });
  const last = page.items[0];
  if (!last) throw new Error(`monitor ${monitor} has no runs yet: start one with \`forja monitor run ${monitor}\``);
  return client.monitors.getRun(monitor, last.id);
}

export function registerMonitorCommands(program: Command): void {
  const monitor = program.command('monitor').description('Monitors: drift, performance and explanations of a deployment or table against its reference');

  monitor
    .command('create <name>')
    .description("Create a monitor of a deployment's inference log (--deployment) or of a lake table (--table and --time-column)")
    .option('--deployment <name-or-id>', 'watch this deployment (its inference log must be on)')
    .option('--table <table>', 'watch this lake table…')
    .option('--time-column <column>', '…whose rows this column dates')
    .option('--reference-table <table>', 'reference: a lake table of the group')
    .option('--reference-filter <filter>', "reference: only the table's rows that match (the lake's filter syntax)")
    .option('--reference-file <path>', 'reference: a .parquet or .csv file, uploaded')
    .option('--reference-run <run-id>', "reference: a tracking run's logged dataset")
    .option('--reference-training <id>', "reference: a training run's data")
    .option('--codex <configuration.json>', "MLOps Codex's configuration.json (Period, TrainData, InputCols, OutputCols) instead of the options above")
    .option('--period <period>', 'hour | day | week | month: the window each run looks at', 'day')
    .option('--input <column>', "a model input to compare (repeatable; default: the reference's columns the target has)", collect, [])
    .option('--output <column>', 'a model output to compare (repeatable; default: the prediction columns)', collect, [])
    .option('--task <task>', 'classification | regression: also measure performance once labels are posted')
    .option('--checks <json>', 'checks as JSON: {"drift": {…}, "performance": {…}, "explanations": {…}}')
    .option('--description <text>', 'what the monitor is for')
    .option('--no-schedule', 'run only on demand (`forja monitor run`), not once a period')
    .option('--json', 'print JSON')
    .action(async (name: string, o: CreateOptions, cmd: Command) => {
      const client = clientFor(cmd);
      if (!PERIODS.includes(o.period)) throw new Error(`--period must be one of ${PERIODS.join(', ')} (got "${o.period}")`);
      if (o.task && o.task !== 'classification' && o.task !== 'regression') throw new Error(`--task must be classification or regression (got "${o.task}")`);
      const reference = referenceOf(o);
      let created;
      if (o.codex) {
        if (!o.deployment) throw new Error('--codex sets up a monitor of a deployment: give --deployment');
        const configuration = parseJson(readFileSync(o.codex, 'utf8'), o.codex) as Record<string, unknown>;
        created = await client.monitors.createFromCodex({
          name,
          deployment: o.deployment,
          configuration: configuration as never,
          description: o.description,
          checks: checksOf(o),
          scheduled: o.schedule,
          ...(reference ? { reference } : {}),
        });
      } else {
        if (Boolean(o.deployment) === Boolean(o.table))
          throw new Error('a monitor watches a deployment or a table: give exactly one of --deployment and --table');
        if (o.table && !o.timeColumn) throw new Error(`--table ${o.table} needs --time-column: the column that says when each row happened`);
        created = await client.monitors.create({
          name,
          description: o.description,
          target: o.deployment ? { deployment: o.deployment } : { table: o.table!, timeColumn: o.timeColumn! },
          ...(reference ? { reference } : {}),
          ...(o.input.length ? { inputColumns: o.input } : {}),
          ...(o.output.length ? { outputColumns: o.output } : {}),
          checks: checksOf(o),
          period: o.period as MonitorCreate['period'],
          scheduled: o.schedule,
        });
      }
      if (o.referenceFile) {
        try {
          created = await uploadReference(client, created.id, o.referenceFile);
        } catch (err) {
          // A monitor without the reference it was asked with would compare against nothing.
          await client.monitors.delete(created.id);
          throw err;
        }
      }
      if (jsonOf(cmd)) return printObject(created, true);
      process.stdout.write(
        `Monitor ${created.name} (${created.id}) created: ${created.period} windows${created.scheduled ? `, next run ${when(created.nextRunAt)}` : ', on demand'}.\n`,
      );
      process.stdout.write(`Run it now: forja monitor run ${created.name}\n`);
    });

  monitor
    .command('list', { isDefault: true })
    .description("The group's monitors")
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      printList(
        await clientFor(cmd).monitors.list(),
        [
          { header: 'id', value: (m) => m.id },
          { header: 'name', value: (m) => m.name },
          { header: 'target', value: (m) => ('deployment' in m.target ? `deployment ${m.target.deployment}` : `table ${m.target.table}`) },
          { header: 'period', value: (m) => m.period },
          { header: 'next run', value: (m) => (m.scheduled ? m.nextRunAt : 'on demand') },
          { header: 'last run', value: (m) => (m.lastRun ? `${m.lastRun.status} ${when(m.lastRun.windowEnd)}` : null) },
          { header: 'drift', value: (m) => (m.lastRun?.datasetDrift === null || !m.lastRun ? null : m.lastRun.datasetDrift ? 'yes' : 'no') },
        ],
        jsonOf(cmd),
      );
    });

  monitor
    .command('run <monitor>')
    .description('Run a monitor now (by name or id), wait, and print its drift table')
    .option('--from <time>', 'window start (ISO 8601, UTC unless it says; or epoch ms); default: the last full period')
    .option('--to <time>', 'window end')
    .option('--now', 'the current period so far instead of the last full one')
    .option('--no-wait', 'return once the run is queued')
    .option('--json', 'print the run as JSON')
    .action(async (name: string, o: { from?: string; to?: string; now?: boolean; wait: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      const started = await client.monitors.run(name, {
        ...(o.from ? { from: time(o.from, '--from') } : {}),
        ...(o.to ? { to: time(o.to, '--to') } : {}),
        ...(o.now ? { now: true } : {}),
      });
      process.stderr.write(`Run ${started.id} of ${name}, job ${started.jobId ?? '-'}…\n`);
      if (!o.wait) return;
      if (started.jobId) await tailJobLogs(client, started.jobId, true, (line) => process.stderr.write(`  ${line}\n`));
      const run = await client.monitors.getRun(name, started.id);
      if (jsonOf(cmd)) printObject(run, true);
      else {
        process.stdout.write(summary(run));
        if (run.drift) printDrift(run, false);
      }
      if (run.status !== 'succeeded') process.exitCode = 1;
    });

  monitor
    .command('status <monitor>')
    .description('A monitor (by name or id), its latest runs and open alerts')
    .option('--runs <n>', 'how many runs to list', int, 10)
    .option('--json', 'print JSON')
    .action(async (name: string, o: { runs: number }, cmd: Command) => {
      const client = clientFor(cmd);
      const m = await client.monitors.get(name);
      const runs = (await client.monitors.runs(m.id, { limit: o.runs })).items;
      const alerts = (await client.alerts.list({ monitor: m.id, status: 'open' })).items;
      if (jsonOf(cmd)) return printObject({ monitor: m, runs, openAlerts: alerts }, true);
      printObject(
        {
          id: m.id,
          name: m.name,
          target: 'deployment' in m.target ? `deployment ${m.target.deployment}` : `table ${m.target.table} (${m.target.timeColumn})`,
          reference: m.reference,
          period: m.period,
          schedule: m.scheduled ? `next run ${when(m.nextRunAt)}` : 'on demand',
          inputs: m.inputColumns?.join(' ') ?? '(the reference’s columns)',
          checks: m.checks,
        },
        false,
      );
      process.stdout.write('\n');
      printList(
        runs,
        [
          { header: 'run', value: (r) => r.id },
          { header: 'status', value: (r) => r.status },
          { header: 'trigger', value: (r) => r.trigger },
          { header: 'window end', value: (r) => r.windowEnd },
          { header: 'rows', value: (r) => r.currentRows },
          { header: 'drift share', value: (r) => fixed(r.metrics['drift.share'] ?? null) },
          { header: 'error', value: (r) => (r.error ?? '').split('\n')[0] },
        ],
        false,
      );
      if (alerts.length) {
        process.stdout.write('\nOpen alerts:\n');
        for (const a of alerts)
          process.stdout.write(`  [${a.severity}] ${a.ruleName}: ${a.metric} = ${fixed(a.value)} ${a.operator} ${a.threshold} (run ${a.runId})\n`);
      }
    });

  monitor
    .command('report <monitor> [run-id]')
    .description("Save a run's HTML report (default: the latest run), or print its drift table where the server has no report")
    .option('--out <file>', 'where to save it (default: monitor-<run id>.html)')
    .option('--json', 'print the run as JSON instead')
    .action(async (name: string, runId: string | undefined, o: { out?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const run = runId ? await client.monitors.getRun(name, runId) : await latestRun(client, name);
      if (jsonOf(cmd)) return printObject(run, true);
      let html: string | undefined;
      try {
        html = await (await client.monitors.report(name, run.id)).text();
      } catch (err) {
        // A server without the report route answers ROUTE_NOT_FOUND: the table is the report then.
        if (!(err instanceof ForjaApiError && err.code === 'ROUTE_NOT_FOUND')) throw err;
      }
      if (html === undefined) {
        process.stdout.write(summary(run));
        return printDrift(run, false);
      }
      const out = o.out ?? `monitor-${run.id}.html`;
      writeFileSync(out, html);
      process.stdout.write(`Report of run ${run.id} saved to ${out}\n`);
    });
}
