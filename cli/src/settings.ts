import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What `forja login` remembers: where the server is and the token to use. */
export interface CliSettings {
  url?: string;
  token?: string;
  group?: string;
}

export function settingsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FORJA_CONFIG) return path.resolve(env.FORJA_CONFIG);
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'forja', 'config.json');
}

export function readSettings(file = settingsPath()): CliSettings {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CliSettings;
  } catch {
    throw new Error(`${file} is not valid JSON; fix it or delete it and run \`forja login\` again.`);
  }
}

/** Written with 0600: the file holds a token. */
export function writeSettings(settings: CliSettings, file = settingsPath()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(settings, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}
