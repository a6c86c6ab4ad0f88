import type { Command } from 'commander';
import { ForjaClient } from '@forja/client';
import { readSettings } from './settings.js';

export interface GlobalOptions {
  url?: string;
  token?: string;
  group?: string;
  json?: boolean;
}

export const DEFAULT_URL = 'http://127.0.0.1:5050';

/** Global flags win, then FORJA_URL / FORJA_TOKEN / FORJA_GROUP, then what `forja login` saved. */
export function clientFor(command: Command): ForjaClient {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const saved = readSettings();
  return new ForjaClient({
    baseUrl: opts.url ?? process.env.FORJA_URL ?? saved.url ?? DEFAULT_URL,
    token: opts.token ?? process.env.FORJA_TOKEN ?? saved.token,
    group: opts.group ?? process.env.FORJA_GROUP ?? saved.group,
  });
}

export const jsonOf = (command: Command): boolean => Boolean(command.optsWithGlobals<GlobalOptions>().json);
