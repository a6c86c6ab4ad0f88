import type { Command } from 'commander';
import { clientFor, jsonOf } from '../context.js';
import { printList, printObject } from '../output.js';
import { ask, readStdin } from '../prompt.js';

export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('Users (system administrators)');

  users
    .command('list', { isDefault: true })
    .description('List users')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      const all = [];
      let pageToken: string | undefined;
      do {
        const page = await client.users.list({ limit: 500, pageToken });
        all.push(...page.items);
        pageToken = page.nextPageToken;
      } while (pageToken);
      printList(
        all,
        [
          { header: 'username', value: (u) => u.username },
          { header: 'name', value: (u) => u.displayName },
          { header: 'admin', value: (u) => (u.isAdmin ? 'yes' : 'no') },
          { header: 'disabled', value: (u) => (u.disabled ? 'yes' : 'no') },
          { header: 'default group', value: (u) => u.defaultGroup },
          { header: 'created', value: (u) => u.createdAt },
        ],
        jsonOf(cmd),
      );
    });

  users
    .command('create <username>')
    .description('Create a user (asks for the password, or reads it with --password-stdin)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--admin', 'make the user a system administrator')
    .option('--display-name <name>', 'display name')
    .option('--email <email>', 'e-mail address')
    .option('--json', 'print JSON')
    .action(async (username: string, o: { passwordStdin?: boolean; admin?: boolean; displayName?: string; email?: string }, cmd: Command) => {
      const password = o.passwordStdin ? await readStdin() : await ask(`Password for ${username}: `, true);
      const user = await clientFor(cmd).users.create({ username, password, isAdmin: Boolean(o.admin), displayName: o.displayName, email: o.email });
      printObject(user, jsonOf(cmd));
    });

  users
    .command('disable <username>')
    .description('Disable a user: their tokens stop working')
    .action(async (username: string, _o: unknown, cmd: Command) => {
      await clientFor(cmd).users.update(username, { disabled: true });
      process.stdout.write(`${username} is disabled.\n`);
    });

  users
    .command('enable <username>')
    .description('Enable a disabled user')
    .action(async (username: string, _o: unknown, cmd: Command) => {
      await clientFor(cmd).users.update(username, { disabled: false });
      process.stdout.write(`${username} is enabled.\n`);
    });
}
