import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { ForjaClient } from '@forja/client';
import type { DeploymentSettings } from '@forja/contracts';
import { clientFor, jsonOf } from '../context.js';
import { printList, printObject } from '../output.js';
import { tailJobLogs } from './jobs.js';
import { int } from '../options.js';

interface DeployOptions {
  name?: string;
  kind?: 'script' | 'pickle' | 'pyfunc';
  source?: string;
  model?: string;
  entrypoint?: string;
  python?: string;
  method?: 'predict' | 'predict_proba';
  minWorkers?: number;
  maxWorkers?: number;
  timeout?: number;
  wait: boolean;
}

/** A folder in Neomaril's layout: the scorer, a model file, requirements.txt, schema.json, .env, and extra files. */
function formFromFolder(dir: string, o: DeployOptions): FormData {
  const files = readdirSync(dir)
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .sort();
  const pick = (explicit: string | undefined, guess: (f: string) => boolean, what: string) => {
    if (explicit) {
      if (!files.includes(explicit)) throw new Error(`${what} "${explicit}" is not a file in ${dir}`);
      return explicit;
    }
    const found = files.filter(guess);
    if (found.length > 1) throw new Error(`${dir} has several ${what} candidates (${found.join(', ')}): name one with --${what}`);
    return found[0];
  };
  const kind = o.kind ?? 'script';
  const source = kind === 'script' ? pick(o.source, (f) => /\.(py|ipynb)$/.test(f), 'source') : undefined;
  if (kind === 'script' && !source) throw new Error(`${dir} has no .py or .ipynb scorer`);
  const model = pick(o.model, (f) => /^model\./.test(f), 'model');
  const form = new FormData();
  form.append('name', o.name ?? path.basename(path.resolve(dir)));
  form.append('kind', kind);
  if (o.entrypoint) form.append('entrypoint', o.entrypoint);
  if (o.python) form.append('pythonVersion', o.python);
  if (o.method) form.append('predictMethod', o.method);
  const settings = {
    ...(o.minWorkers !== undefined ? { minWorkers: o.minWorkers } : {}),
    ...(o.maxWorkers !== undefined ? { maxWorkers: o.maxWorkers } : {}),
    ...(o.timeout !== undefined ? { timeoutMs: o.timeout * 1000 } : {}),
  };
  if (Object.keys(settings).length) form.append('settings', JSON.stringify(settings));
  const add = (field: string, name: string) => form.append(field, new Blob([readFileSync(path.join(dir, name))]), name);
  for (const f of files) {
    if (f === source) add('source', f);
    else if (f === model) add('model', f);
    else if (f === 'requirements.txt') add('requirements', f);
    else if (f === 'schema.json') add('schema', f);
    else if (f === '.env') add('env', f);
    else if (!f.startsWith('.')) add('extra', f);
  }
  return form;
}

async function followBuild(client: ForjaClient, id: string, jobId: string): Promise<number> {
  await tailJobLogs(client, jobId, true, (line) => process.stderr.write(`  ${line}\n`));
  const dep = await client.deployments.get(id);
  if (dep.status === 'Deployed') {
    process.stdout.write(
      `Deployment ${dep.name} (${dep.id}) is Deployed.\nCall it: forja predict ${dep.id} --data '${JSON.stringify(dep.schemaSample ?? { feature: 1 })}'\n`,
    );
    return 0;
  }
  process.stdout.write(`Deployment ${dep.name} (${dep.id}) is ${dep.status}${dep.message ? `: ${dep.message}` : ''}\n`);
  return 1;
}

export function registerDeploymentCommands(program: Command): void {
  program
    .command('deploy <folder-or-uri>')
    .description('Deploy a folder (scorer, model file, requirements.txt, schema.json, .env, extras) or a models:/ URI, streaming the build')
    .option('--name <name>', 'deployment name (default: the folder or model name)')
    .option('--kind <kind>', 'script | pickle | pyfunc (default: script for a folder, pyfunc for a models:/ URI)')
    .option('--source <file>', 'the scorer, when the folder has several .py files')
    .option('--model <file>', 'the model file (default: the file named model.*)')
    .option('--entrypoint <fn>', 'the scorer function (default score)')
    .option('--python <version>', "e.g. 3.11 (default: the server's)")
    .option('--method <method>', 'predict | predict_proba, for pickles and pyfunc')
    .option('--min-workers <n>', 'workers kept warm', int)
    .option('--max-workers <n>', 'workers at most', int)
    .option('--timeout <seconds>', 'per request', int)
    .option('--no-wait', 'return once the build is queued')
    .action(async (target: string, o: DeployOptions, cmd: Command) => {
      const client = clientFor(cmd);
      let created;
      if (target.startsWith('models:/')) {
        const name = o.name ?? target.slice('models:/'.length).split(/[/@]/)[0]!;
        const settings = {
          ...(o.minWorkers !== undefined ? { minWorkers: o.minWorkers } : {}),
          ...(o.maxWorkers !== undefined ? { maxWorkers: o.maxWorkers } : {}),
          ...(o.timeout !== undefined ? { timeoutMs: o.timeout * 1000 } : {}),
        };
        created = await client.deployments.fromModel({
          name,
          modelUri: target,
          kind: o.kind === 'pickle' ? 'pickle' : 'pyfunc',
          predictMethod: o.method,
          pythonVersion: o.python,
          settings,
        });
      } else {
        if (!existsSync(target) || !statSync(target).isDirectory()) throw new Error(`${target} is not a folder or a models:/ URI`);
        created = await client.deployments.upload(formFromFolder(target, o));
      }
      const dep = created.deployment;
      process.stderr.write(`Building ${dep.name} (${dep.id}), job ${created.buildJobId}…\n`);
      if (!o.wait) return;
      process.exitCode = await followBuild(client, dep.id, created.buildJobId);
    });

  const deployments = program.command('deployments').description("The group's model deployments");
  deployments
    .command('list', { isDefault: true })
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      printList(
        await clientFor(cmd).deployments.list(),
        [
          { header: 'id', value: (d) => d.id },
          { header: 'name', value: (d) => d.name },
          { header: 'status', value: (d) => d.status },
          { header: 'kind', value: (d) => d.kind },
          { header: 'source', value: (d) => d.source },
          { header: 'deployed', value: (d) => d.deployedAt },
          { header: 'message', value: (d) => (d.message ?? '').split('\n')[0] },
        ],
        jsonOf(cmd),
      );
    });
  deployments
    .command('show <id>')
    .option('--json', 'print JSON')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const d = await clientFor(cmd).deployments.get(id);
      if (jsonOf(cmd)) return printObject(d, true);
      printObject(
        {
          id: d.id,
          name: d.name,
          status: d.status,
          message: d.message,
          kind: d.kind,
          source: d.source,
          python: d.pythonVersion || 'default',
          environment: d.environment,
          settings: d.settings,
          files: d.files.map((f) => f.name).join(' '),
        },
        false,
      );
    });
  deployments
    .command('logs <id>')
    .description("What the deployment's workers printed")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      process.stdout.write(await clientFor(cmd).deployments.logs(id));
    });
  for (const action of ['disable', 'enable', 'delete'] as const) {
    deployments.command(`${action} <id>`).action(async (id: string, _o: unknown, cmd: Command) => {
      await clientFor(cmd).deployments[action](id);
      process.stdout.write(`Deployment ${id}: ${action}d.\n`);
    });
  }
  deployments
    .command('rebuild <id>')
    .option('--no-wait', 'return once the build is queued')
    .action(async (id: string, o: { wait: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      const r = await client.deployments.rebuild(id);
      process.stderr.write(`Rebuilding ${r.deployment.name}, job ${r.buildJobId}…\n`);
      if (o.wait) process.exitCode = await followBuild(client, id, r.buildJobId);
    });

  deployments
    .command('settings <id>')
    .description('Show the scaling and limit settings, or change those given')
    .option('--min-workers <n>', 'workers kept warm', int)
    .option('--max-workers <n>', 'workers at most', int)
    .option('--timeout-ms <n>', 'per request, waiting included', int)
    .option('--max-queue <n>', 'requests waiting at most', int)
    .option('--max-batch <n>', 'rows per worker call at most', int)
    .option('--memory-mb <n>', "a worker's memory limit", int)
    .option('--scorer-paths <paths>', 'folders | files: what an async scorer gets as score(data_path, model_path)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: Partial<DeploymentSettings> & { json?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      const keys = ['minWorkers', 'maxWorkers', 'timeoutMs', 'maxQueue', 'maxBatch', 'memoryMb', 'scorerPaths'] as const;
      const changes = Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]])) as Partial<DeploymentSettings>;
      const dep = Object.keys(changes).length ? await client.deployments.update(id, changes) : await client.deployments.get(id);
      printObject(dep.settings, jsonOf(cmd));
    });

  program
    .command('predict <deployment-id>')
    .description('Call a deployment with JSON (--data) or a .json, .csv or .parquet file (--file)')
    .option('--data <json>', 'the request body')
    .option('--file <path>', 'a .json, .csv or .parquet file')
    .action(async (id: string, o: { data?: string; file?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      let out: unknown;
      if (o.file) {
        const ext = path.extname(o.file).toLowerCase();
        const contentType = ext === '.csv' ? 'text/csv' : ext === '.parquet' ? 'application/vnd.apache.parquet' : 'application/json';
        out = await client.deployments.predict(id, undefined, { raw: new Uint8Array(readFileSync(o.file)), contentType });
      } else {
        if (!o.data) throw new Error('give the input with --data \'{"…": …}\' or --file');
        let body: unknown;
        try {
          body = JSON.parse(o.data);
        } catch {
          throw new Error('--data is not valid JSON');
        }
        out = await client.deployments.predict(id, body);
      }
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    });
}
