import type { Command } from 'commander';
import { RoleSchema, type Role } from '@forja/contracts';
import { clientFor, jsonOf } from '../context.js';
import { printList, printObject } from '../output.js';

const role = (v: string): Role => {
  const r = RoleSchema.safeParse(v);
  if (!r.success) throw new Error(`role must be viewer, editor or admin (got "${v}")`);
  return r.data;
};

export function registerGroupCommands(program: Command): void {
  const groups = program.command('groups').description('Groups: the namespace of every resource, and their members');

  groups
    .command('list', { isDefault: true })
    .description('List your groups')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const items = await clientFor(cmd).groups.list();
      printList(
        items,
        [
          { header: 'name', value: (g) => g.name },
          { header: 'my role', value: (g) => g.myRole },
          { header: 'description', value: (g) => g.description },
          { header: 'created', value: (g) => g.createdAt },
        ],
        jsonOf(cmd),
      );
    });

  groups
    .command('create <name>')
    .description('Create a group; you become its admin')
    .option('-d, --description <text>', 'description', '')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { description: string }, cmd: Command) => {
      printObject(await clientFor(cmd).groups.create({ name, description: o.description }), jsonOf(cmd));
    });

  groups
    .command('members <group>')
    .description("List a group's members")
    .option('--json', 'print JSON')
    .action(async (group: string, _o: unknown, cmd: Command) => {
      const items = await clientFor(cmd).groups.members(group);
      printList(
        items,
        [
          { header: 'username', value: (m) => m.username },
          { header: 'role', value: (m) => m.role },
          { header: 'added', value: (m) => m.addedAt },
        ],
        jsonOf(cmd),
      );
    });

  groups
    .command('add-member <group> <username>')
    .description('Add a member, or change their role')
    .option('-r, --role <role>', 'viewer | editor | admin', role, 'viewer' as Role)
    .action(async (group: string, username: string, o: { role: Role }, cmd: Command) => {
      const m = await clientFor(cmd).groups.setMember(group, username, o.role);
      process.stdout.write(`${m.username} is ${m.role} in ${group}.\n`);
    });

  groups
    .command('remove-member <group> <username>')
    .description('Remove a member from a group')
    .action(async (group: string, username: string, _o: unknown, cmd: Command) => {
      await clientFor(cmd).groups.removeMember(group, username);
      process.stdout.write(`${username} removed from ${group}.\n`);
    });
}
