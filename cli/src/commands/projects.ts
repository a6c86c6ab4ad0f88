import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { clientFor, jsonOf } from '../context.js';
import { printList } from '../output.js';
import { tailJobLogs } from './jobs.js';
import { collect, int, params, when } from '../options.js';

export function registerProjectCommands(program: Command): void {
  const projects = program.command('projects').description("The group's batch projects: deploy a script, run it now or on a schedule");
  projects
    .command('list', { isDefault: true })
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      printList(
        await clientFor(cmd).batch.projects(),
        [
          { header: 'name', value: (p) => p.name },
          { header: 'cluster', value: (p) => p.clusterSize },
          { header: 'version', value: (p) => p.currentVersion ?? '-' },
          { header: 'description', value: (p) => p.description },
        ],
        jsonOf(cmd),
      );
    });
  projects
    .command('create <name>')
    .option('--cluster <size>', 'cluster size 1, 2 or 3', int)
    .option('--description <text>', 'what it does')
    .action(async (name: string, o: { cluster?: number; description?: string }, cmd: Command) => {
      const p = await clientFor(cmd).batch.create({ name, clusterSize: o.cluster, description: o.description });
      process.stdout.write(`Batch project ${p.name} created (cluster size ${p.clusterSize}).\n`);
    });
  projects
    .command('deploy <name> <script>')
    .description('Deploy a new version of the script, streaming its environment build')
    .option('--requirements <file>', 'requirements.txt')
    .option('--python <version>', 'e.g. 3.11')
    .action(async (name: string, script: string, o: { requirements?: string; python?: string }, cmd: Command) => {
      const client = clientFor(cmd);
      const form = new FormData();
      form.append('source', new Blob([readFileSync(script)]), path.basename(script));
      if (o.requirements) form.append('requirements', new Blob([readFileSync(o.requirements)]), 'requirements.txt');
      if (o.python) form.append('pythonVersion', o.python);
      const r = await client.batch.deploy(name, form);
      process.stderr.write(`Building ${name} version ${r.deploy.version}…\n`);
      await tailJobLogs(client, r.buildJobId, true, (l) => process.stderr.write(`  ${l}\n`));
      const d = (await client.batch.deploys(name)).find((x) => x.version === r.deploy.version)!;
      process.stdout.write(
        d.status === 'Ready' ? `${name} version ${d.version} is Ready.\n` : `${name} version ${d.version} ${d.status}: ${d.message ?? ''}\n`,
      );
      if (d.status !== 'Ready') process.exitCode = 1;
    });
  projects
    .command('run <name>')
    .description('Run the current version now')
    .option('-p, --param <key=value>', 'a parameter (repeatable)', collect, [])
    .option('--timeout <seconds>', 'kill it after this long', int)
    .option('-f, --follow', 'print its log until it ends')
    .action(async (name: string, o: { param: string[]; timeout?: number; follow?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      const run = await client.batch.run(name, { params: params(o.param), timeoutSeconds: o.timeout });
      process.stderr.write(`Run ${run.id} of ${name} version ${run.version} queued (job ${run.jobId}).\n`);
      if (!o.follow) return;
      await tailJobLogs(client, run.jobId, true, (l) => process.stdout.write(l + '\n'));
      const done = await client.batch.getRun(name, run.id);
      process.stderr.write(`Run ${run.id} ${done.status}${done.error ? `: ${done.error.split('\n')[0]}` : ''}\n`);
      if (done.status !== 'succeeded') process.exitCode = 1;
    });
  projects
    .command('runs <name>')
    .description('Run history, newest first')
    .option('--json', 'print JSON')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      printList(
        await clientFor(cmd).batch.runs(name),
        [
          { header: 'id', value: (r) => r.id },
          { header: 'version', value: (r) => r.version },
          { header: 'status', value: (r) => r.status },
          { header: 'trigger', value: (r) => r.trigger },
          { header: 'created', value: (r) => r.createdAt },
          { header: 'error', value: (r) => (r.error ?? '').split('\n')[0] },
        ],
        jsonOf(cmd),
      );
    });
  projects.command('cancel <name> <run>').action(async (name: string, run: string, _o: unknown, cmd: Command) => {
    const r = await clientFor(cmd).batch.cancelRun(name, run);
    process.stdout.write(`Run ${run}: ${r.status}.\n`);
  });

  const schedules = program.command('schedules').description('Cron schedules of batch projects');
  schedules
    .command('list', { isDefault: true })
    .option('--project <name>', 'only this project')
    .option('--json', 'print JSON')
    .action(async (o: { project?: string }, cmd: Command) => {
      printList(
        await clientFor(cmd).batch.schedules(o.project),
        [
          { header: 'id', value: (s) => s.id },
          { header: 'project', value: (s) => s.project },
          { header: 'cron', value: (s) => s.cron },
          { header: 'tz', value: (s) => s.timezone },
          { header: 'state', value: (s) => (s.paused ? 'paused' : 'active') },
          { header: 'next fire times', value: (s) => s.nextFireTimes.slice(0, 3).map(when).join(' ') || '-' },
        ],
        jsonOf(cmd),
      );
    });
  schedules
    .command('add <project> <cron>')
    .description('Run the project on a cron: 5 fields, or 6 with seconds first')
    .option('--tz <zone>', 'IANA time zone (default UTC)')
    .option('-p, --param <key=value>', 'a parameter (repeatable)', collect, [])
    .option('--missed <policy>', 'skip | run_once: ticks missed while no server ran')
    .action(async (project: string, cron: string, o: { tz?: string; param: string[]; missed?: 'skip' | 'run_once' }, cmd: Command) => {
      const s = await clientFor(cmd).batch.schedule(project, { cron, timezone: o.tz, params: params(o.param), missedPolicy: o.missed });
      process.stdout.write(`Schedule ${s.id}: ${project} at "${s.cron}" (${s.timezone}). Next: ${s.nextFireTimes.slice(0, 3).map(when).join(', ')}\n`);
    });
  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    schedules.command(`${action} <id>`).action(async (id: string, _o: unknown, cmd: Command) => {
      const s = await clientFor(cmd).batch.updateSchedule(id, { paused });
      process.stdout.write(`Schedule ${id} ${s.paused ? 'paused' : `resumed; next ${when(s.nextFireTimes[0] ?? null)}`}.\n`);
    });
  }
  schedules.command('delete <id>').action(async (id: string, _o: unknown, cmd: Command) => {
    await clientFor(cmd).batch.deleteSchedule(id);
    process.stdout.write(`Schedule ${id} deleted.\n`);
  });
}
