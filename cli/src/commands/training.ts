import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { TrainingRun } from '@forja/contracts';
import { clientFor, jsonOf } from '../context.js';
import { printList, printObject } from '../output.js';
import { tailJobLogs } from './jobs.js';
import { collect, int, when } from '../options.js';

const metricsText = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : Number(v.toPrecision(4))}`)
    .join(' ');

function file(p: string, what: string): Blob {
  if (!existsSync(p) || !statSync(p).isFile()) throw new Error(`${what} ${p} is not a file`);
  return new Blob([readFileSync(p)]);
}

interface StartOptions {
  experiment: string;
  source: string;
  data?: string;
  table?: string;
  filter?: string;
  requirements?: string;
  extra: string[];
  runName?: string;
  modelType?: string;
  trainFunction?: string;
  python?: string;
  timeout?: number;
  follow?: boolean;
}

const dataOf = (r: TrainingRun) => r.data.file ?? (r.data.table ? `${r.data.table}${r.data.filter ? ` WHERE ${r.data.filter}` : ''}` : '-');

export function registerTrainingCommands(program: Command): void {
  const training = program
    .command('training')
    .description('Training runs: train_model(df, base_path) on a file or a lake table as a job, tracked; promote the model');

  training
    .command('start')
    .description('Start a training run; with --follow, print its log and metrics, and exit 1 unless it succeeded')
    .requiredOption('--experiment <name>', 'experiment to track it in (made if missing)')
    .requiredOption('--source <file.py>', 'the script defining train_model(df, base_path)')
    .option('--data <file>', 'training data: a .csv or .parquet file')
    .option('--table <name>', 'training data: a lake table instead of a file')
    .option('--filter <expr>', 'with --table: the rows to train on, e.g. "day >= \'2026-01-01\'"')
    .option('--requirements <file>', 'requirements.txt for the environment')
    .option('--extra <file>', 'another file the script reads beside it (repeatable)', collect, [])
    .option('--run-name <name>', 'the tracking run name')
    .option('--model-type <type>', 'Classification | Regression | Unsupervised (default Classification)')
    .option('--train-function <fn>', 'the function to call (default train_model)')
    .option('--python <version>', "e.g. 3.11 (default: the server's)")
    .option('--timeout <seconds>', 'stop it after this long', int)
    .option('-f, --follow', 'print its log until it ends')
    .option('--json', 'print the training run as JSON')
    .action(async (o: StartOptions, cmd: Command) => {
      if (o.data && o.table) throw new Error('give the training data as --data FILE or --table TABLE, not both');
      if (!o.data && !o.table) throw new Error('give the training data: --data FILE (.csv or .parquet) or --table TABLE');
      if (o.filter !== undefined && !o.table) throw new Error('--filter goes with --table');
      const form = new FormData();
      form.append('source', file(o.source, '--source'), path.basename(o.source));
      if (o.data) form.append('data', file(o.data, '--data'), path.basename(o.data));
      if (o.requirements) form.append('requirements', file(o.requirements, '--requirements'), 'requirements.txt');
      for (const e of o.extra) form.append('extra', file(e, '--extra'), path.basename(e));
      const fields: Record<string, string | number | undefined> = {
        experimentName: o.experiment,
        runName: o.runName,
        modelType: o.modelType,
        trainFunction: o.trainFunction,
        pythonVersion: o.python,
        table: o.table,
        filter: o.filter,
        timeoutSeconds: o.timeout,
      };
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.append(k, String(v));
      const client = clientFor(cmd);
      const run = await client.training.start(form);
      const json = jsonOf(cmd);
      process.stderr.write(`Training run ${run.id} started in experiment ${run.experimentName} (tracking run ${run.trackingRunId}, job ${run.jobId}).\n`);
      if (!o.follow) {
        if (json) return printObject(run, true);
        process.stderr.write(`Follow it: forja jobs logs ${run.jobId} --follow\n`);
        return;
      }
      await tailJobLogs(client, run.jobId, true, (l) => (json ? process.stderr : process.stdout).write(l + '\n'));
      const done = await client.training.get(run.id);
      if (json) printObject(done, true);
      if (done.status === 'succeeded') {
        process.stderr.write(
          `Training run ${done.id} succeeded${Object.keys(done.metrics).length ? `: ${metricsText(done.metrics)}` : ''}.\nPromote it: forja training promote ${done.id} --model NAME [--deploy NAME]\n`,
        );
      } else {
        process.stderr.write(`Training run ${done.id} ${done.status}${done.error ? `: ${done.error.trim()}` : ''}\n`);
        process.exitCode = 1;
      }
    });

  training
    .command('ls', { isDefault: true })
    .alias('list')
    .description('Training runs, newest first')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      printList(
        await clientFor(cmd).training.list(),
        [
          { header: 'id', value: (r) => r.id },
          { header: 'experiment', value: (r) => r.experimentName },
          { header: 'status', value: (r) => r.status },
          { header: 'source', value: (r) => r.sourceName },
          { header: 'data', value: (r) => dataOf(r) },
          { header: 'metrics', value: (r) => metricsText(r.metrics) || '-' },
          { header: 'promoted', value: (r) => (r.promoted ? `${r.promoted.model} v${r.promoted.version}` : '-') },
          { header: 'created', value: (r) => when(r.createdAt) },
        ],
        jsonOf(cmd),
      );
    });

  training
    .command('show <id>')
    .description('A training run: status, data, metrics, error, its tracking run and what it was promoted to')
    .option('--json', 'print JSON')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const r = await clientFor(cmd).training.get(id);
      if (jsonOf(cmd)) return printObject(r, true);
      printObject(
        {
          id: r.id,
          experiment: `${r.experimentName} (${r.experimentId})`,
          'tracking run': r.trackingRunId,
          job: r.jobId,
          status: r.status,
          'model type': r.modelType,
          source: `${r.sourceName} (${r.trainFunction})`,
          data: dataOf(r),
          python: r.pythonVersion || 'default',
          metrics: metricsText(r.metrics) || '-',
          error: r.error,
          promoted: r.promoted
            ? `${r.promoted.model} version ${r.promoted.version}${r.promoted.deploymentId ? `, deployment ${r.promoted.deploymentId}` : ''}`
            : '-',
          created: `${when(r.createdAt)}${r.createdBy ? ` by ${r.createdBy}` : ''}`,
        },
        false,
      );
    });

  training
    .command('cancel <id>')
    .description('Stop a training run')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const r = await clientFor(cmd).training.cancel(id);
      process.stdout.write(`Training run ${r.id}: ${r.status}.\n`);
    });

  training
    .command('promote <id>')
    .description('Register the trained model as a new version of a model, and deploy it with --deploy')
    .requiredOption('--model <name>', 'registered model name (made if missing)')
    .option('--deploy <name>', 'also deploy the new version under this deployment name')
    .option('--operation <op>', 'with --deploy: sync | async (default sync)')
    .option('--no-wait', 'with --deploy: return once the build is queued')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { model: string; deploy?: string; operation?: 'sync' | 'async'; wait: boolean }, cmd: Command) => {
      if (o.operation && !o.deploy) throw new Error('--operation goes with --deploy');
      const client = clientFor(cmd);
      const r = await client.training.promote(id, {
        modelName: o.model,
        ...(o.deploy ? { deploy: { name: o.deploy, operation: o.operation ?? 'sync' } } : {}),
      });
      if (jsonOf(cmd)) printObject(r, true);
      else
        process.stdout.write(
          `Registered ${r.modelVersion.name} version ${r.modelVersion.version} (models:/${r.modelVersion.name}/${r.modelVersion.version}).\n`,
        );
      if (!r.deploymentId || !r.buildJobId) return;
      process.stderr.write(`Building deployment ${o.deploy} (${r.deploymentId}), job ${r.buildJobId}…\n`);
      if (!o.wait) return;
      await tailJobLogs(client, r.buildJobId, true, (line) => process.stderr.write(`  ${line}\n`));
      const dep = await client.deployments.get(r.deploymentId);
      const line = `Deployment ${dep.name} (${dep.id}) is ${dep.status}${dep.status === 'Deployed' || !dep.message ? '' : `: ${dep.message}`}\n`;
      (jsonOf(cmd) ? process.stderr : process.stdout).write(line);
      if (dep.status !== 'Deployed') process.exitCode = 1;
    });
}
