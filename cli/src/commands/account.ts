import type { Command } from 'commander';
import { ForjaClient } from '@forja/client';
import { clientFor, DEFAULT_URL, jsonOf, type GlobalOptions } from '../context.js';
import { printObject } from '../output.js';
import { ask, readStdin } from '../prompt.js';
import { readSettings, settingsPath, writeSettings } from '../settings.js';

export function registerAccountCommands(program: Command): void {
  program
    .command('login')
    .description('Log in and save the token in your config file (mode 0600)')
    .option('-u, --username <name>', 'username (asked when missing)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--with-token', 'save the token given by --token or FORJA_TOKEN instead of logging in with a password')
    .action(async (opts: { username?: string; passwordStdin?: boolean; withToken?: boolean }, command: Command) => {
      const g = command.optsWithGlobals<GlobalOptions>();
      const saved = readSettings();
      const url = g.url ?? process.env.FORJA_URL ?? saved.url ?? DEFAULT_URL;
      const client = new ForjaClient({ baseUrl: url });
      let token: string;
      if (opts.withToken) {
        token = g.token ?? process.env.FORJA_TOKEN ?? '';
        if (!token) throw new Error('--with-token needs --token <token> or FORJA_TOKEN.');
        client.token = token;
      } else {
        const username = opts.username ?? (await ask('Username: '));
        const password = opts.passwordStdin ? await readStdin() : await ask('Password: ', true);
        token = (await client.login(username, password)).token;
      }
      const me = await client.whoami();
      writeSettings({ ...saved, url, token, group: g.group ?? saved.group });
      process.stdout.write(`Logged in to ${url} as ${me.user?.username ?? me.tokenName}. Token saved in ${settingsPath()}.\n`);
    });

  program
    .command('logout')
    .description('End the saved session and forget the token')
    .action(async (_opts: unknown, command: Command) => {
      const saved = readSettings();
      if (saved.token)
        await clientFor(command)
          .logout()
          .catch(() => undefined);
      writeSettings({ ...saved, token: undefined });
      process.stdout.write('Logged out.\n');
    });

  program
    .command('whoami')
    .description('Show who the current token belongs to')
    .option('--json', 'print JSON')
    .action(async (_opts: unknown, command: Command) => {
      const me = await clientFor(command).whoami();
      if (jsonOf(command)) return printObject(me, true);
      printObject(
        {
          kind: me.kind,
          user: me.user?.username ?? null,
          admin: me.user?.isAdmin ?? false,
          token: me.tokenName,
          defaultGroup: me.defaultGroup,
          actingIn: me.actingGroup,
          groups: me.memberships.map((m) => `${m.group} (${m.role})`).join(', ') || '-',
        },
        false,
      );
    });
}
