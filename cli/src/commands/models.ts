import type { Command } from 'commander';
import {
  ApprovalListSchema,
  ApprovalRequestSchema,
  ModelVersionPageSchema,
  ModelVersionSchema,
  OkSchema,
  RegisteredModelPageSchema,
  RegisteredModelSchema,
  TransitionResultSchema,
} from '@forja/contracts';
import { clientFor, jsonOf } from '../context.js';
import { printList, printObject } from '../output.js';
import { downloadStorePath, storePathOf } from '../transfer.js';

const enc = encodeURIComponent;

export function registerModelCommands(program: Command): void {
  const models = program.command('models').description("The group's model registry");

  models
    .command('list', { isDefault: true })
    .description('List registered models')
    .option('--filter <filter>', "e.g. \"name LIKE 'fraud%' AND tags.team = 'risk'\"")
    .option('--json', 'print JSON')
    .action(async (o: { filter?: string }, cmd: Command) => {
      const page = await clientFor(cmd).request('POST', '/api/v1/models/search', RegisteredModelPageSchema, { body: { filter: o.filter, maxResults: 1000 } });
      printList(
        page.registeredModels,
        [
          { header: 'name', value: (m) => m.name },
          { header: 'latest', value: (m) => m.latestVersions.map((v) => `v${v.version}:${v.currentStage}`).join(' ') || '-' },
          { header: 'aliases', value: (m) => m.aliases.map((a) => `${a.alias}→v${a.version}`).join(' ') || '-' },
          { header: 'updated', value: (m) => m.lastUpdatedTime },
        ],
        jsonOf(cmd),
      );
    });

  models
    .command('show <name>')
    .description('A model with its aliases and newest version per stage')
    .option('--json', 'print JSON')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const m = await clientFor(cmd).request('GET', `/api/v1/models/${enc(name)}`, RegisteredModelSchema);
      if (jsonOf(cmd)) return printObject(m, true);
      printObject(
        {
          name: m.name,
          group: m.group,
          description: m.description || '-',
          aliases: m.aliases.map((a) => `${a.alias}→v${a.version}`).join(' ') || '-',
          tags: m.tags.map((t) => `${t.key}=${t.value}`).join(' ') || '-',
        },
        false,
      );
    });

  models
    .command('versions <name>')
    .description("A model's versions, newest first")
    .option('--json', 'print JSON')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const page = await clientFor(cmd).request('POST', '/api/v1/model-versions/search', ModelVersionPageSchema, {
        body: { filter: `name = '${name.replace(/'/g, "''")}'`, maxResults: 1000 },
      });
      printList(
        page.modelVersions,
        [
          { header: 'version', value: (v) => v.version },
          { header: 'stage', value: (v) => v.currentStage },
          { header: 'aliases', value: (v) => v.aliases.join(' ') || '-' },
          { header: 'run', value: (v) => v.runId },
          { header: 'created', value: (v) => v.creationTime },
        ],
        jsonOf(cmd),
      );
    });

  models
    .command('transition <name> <version> <stage>')
    .description('Move a version to None, Staging, Production or Archived (may open an approval request)')
    .option('--archive-existing', 'archive the versions now in that stage')
    .option('-m, --comment <text>', 'why, for the approvers')
    .action(async (name: string, version: string, stage: string, o: { archiveExisting?: boolean; comment?: string }, cmd: Command) => {
      const r = await clientFor(cmd).request('POST', `/api/v1/models/${enc(name)}/versions/${enc(version)}/transition`, TransitionResultSchema, {
        body: { stage: stage.charAt(0).toUpperCase() + stage.slice(1).toLowerCase(), archiveExistingVersions: Boolean(o.archiveExisting), comment: o.comment },
      });
      if (r.approvalRequest)
        process.stdout.write(
          `${stage} needs an approval: request ${r.approvalRequest.id} is waiting for an approver (forja models approve ${r.approvalRequest.id}). Version ${version} stays in ${r.modelVersion.currentStage}.\n`,
        );
      else process.stdout.write(`${name} version ${version} is now in ${r.modelVersion.currentStage}.\n`);
    });

  models
    .command('alias <name> <alias> [version]')
    .description('Point an alias at a version, or with --delete remove it')
    .option('--delete', 'remove the alias')
    .action(async (name: string, alias: string, version: string | undefined, o: { delete?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      if (o.delete) {
        await client.request('DELETE', `/api/v1/models/${enc(name)}/aliases/${enc(alias)}`, OkSchema);
        process.stdout.write(`Removed ${name}@${alias}.\n`);
        return;
      }
      if (!version) throw new Error('Name the version the alias should point at (or pass --delete).');
      await client.request('PUT', `/api/v1/models/${enc(name)}/aliases/${enc(alias)}`, OkSchema, { body: { version } });
      process.stdout.write(`${name}@${alias} → version ${version}.\n`);
    });

  models
    .command('approvals')
    .description("The group's approval requests")
    .option('--all', 'include decided ones')
    .option('--json', 'print JSON')
    .action(async (o: { all?: boolean }, cmd: Command) => {
      const list = await clientFor(cmd).request('GET', '/api/v1/approvals', ApprovalListSchema, { query: { status: o.all ? undefined : 'pending' } });
      printList(
        list.items,
        [
          { header: 'id', value: (a) => a.id },
          { header: 'model', value: (a) => `${a.model} v${a.version}` },
          { header: 'to', value: (a) => a.toStage },
          { header: 'status', value: (a) => a.status },
          { header: 'requested by', value: (a) => a.requestedBy },
          { header: 'comment', value: (a) => a.comment },
        ],
        jsonOf(cmd),
      );
    });

  for (const decision of ['approve', 'reject'] as const) {
    models
      .command(`${decision} <requestId>`)
      .description(decision === 'approve' ? 'Approve a request (performs the transition)' : 'Reject a request')
      .option('-m, --comment <text>', 'a comment for the requester')
      .action(async (id: string, o: { comment?: string }, cmd: Command) => {
        const r = await clientFor(cmd).request('POST', `/api/v1/approvals/${enc(id)}/decision`, ApprovalRequestSchema, {
          body: { decision, comment: o.comment },
        });
        process.stdout.write(
          `Request ${r.id} ${r.status}: ${r.model} version ${r.version} → ${r.toStage}${r.status === 'approved' ? ' done' : ' not done'}.\n`,
        );
      });
  }

  models
    .command('download <uri> [destination]')
    .description('Download the files of models:/name/3, models:/name/Production or models:/name@alias, with a progress bar')
    .action(async (uri: string, dest: string | undefined, _o: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      const v = await client.request('GET', '/api/v1/models/resolve', ModelVersionSchema, { query: { uri } });
      const storePath = storePathOf(v.storageLocation);
      if (storePath === undefined) throw new Error(`Version ${v.version} keeps its files at ${v.storageLocation}, which this server does not serve.`);
      const n = await downloadStorePath(client, storePath, dest ?? '.');
      process.stdout.write(`Downloaded ${v.name} version ${v.version} (${n} file${n === 1 ? '' : 's'}).\n`);
    });
}
