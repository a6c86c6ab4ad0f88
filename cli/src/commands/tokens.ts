import type { Command } from 'commander';
import { clientFor, jsonOf } from '../context.js';
import { printList } from '../output.js';

export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('Personal, service and group tokens');

  tokens
    .command('list', { isDefault: true })
    .description("List your personal tokens, or a group's tokens with --for-group")
    .option('--for-group <group>', "list this group's service and group tokens (group admins)")
    .option('--all', 'include revoked tokens')
    .option('--json', 'print JSON')
    .action(async (o: { forGroup?: string; all?: boolean }, cmd: Command) => {
      const items = await clientFor(cmd).tokens.list({ group: o.forGroup, includeRevoked: o.all });
      printList(
        items,
        [
          { header: 'id', value: (t) => t.id },
          { header: 'name', value: (t) => t.name },
          { header: 'kind', value: (t) => t.kind },
          { header: 'prefix', value: (t) => t.prefix },
          { header: 'group', value: (t) => t.group },
          { header: 'role', value: (t) => t.role },
          { header: 'expires', value: (t) => t.expiresAt },
          { header: 'last used', value: (t) => t.lastUsedAt },
          { header: 'revoked', value: (t) => t.revokedAt },
        ],
        jsonOf(cmd),
      );
    });

  tokens
    .command('create <name>')
    .description('Create a token and print its secret (shown once)')
    .option('-k, --kind <kind>', 'personal | service | group', 'personal')
    .option('--for-group <group>', 'the group of a service or group token')
    .option('-r, --role <role>', 'role of a service token: viewer | editor | admin')
    .option('--expires-in-days <days>', 'expiry in days', (v) => Number(v))
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        o: { kind: 'personal' | 'service' | 'group'; forGroup?: string; role?: 'viewer' | 'editor' | 'admin'; expiresInDays?: number },
        cmd: Command,
      ) => {
        const created = await clientFor(cmd).tokens.create({ name, kind: o.kind, group: o.forGroup, role: o.role, expiresInDays: o.expiresInDays });
        if (jsonOf(cmd)) {
          process.stdout.write(JSON.stringify(created, null, 2) + '\n');
          return;
        }
        process.stdout.write(`Created ${created.token.kind} token "${created.token.name}" (id ${created.token.id}).\n`);
        process.stdout.write(`Secret (shown once, store it now):\n${created.secret}\n`);
      },
    );

  tokens
    .command('revoke <id>')
    .description('Revoke a token by id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const t = await clientFor(cmd).tokens.revoke(id);
      process.stdout.write(`Revoked token "${t.name}" (${t.prefix}…).\n`);
    });
}
