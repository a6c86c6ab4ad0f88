import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { ConfigOverrides } from '@forja/server';
import { int } from '../options.js';

/** The server's code, loaded by the two commands that run it (every other command starts faster without it). */
const serverModule = () => import('@forja/server');

/** The built web UI, when this CLI runs from the repository. */
function defaultWebDir(): string | undefined {
  const dir = fileURLToPath(new URL('../../../web/dist', import.meta.url));
  return existsSync(dir) ? dir : undefined;
}

/** Ctrl-C or SIGTERM: say what happens (%s is the signal), close once, exit 0 — or 1 if closing failed. */
function stopOnSignals(close: () => Promise<void>, message: string): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(message.replace('%s', signal) + '\n');
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`error while stopping: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('Run the Forja server: API, web UI, scheduler and embedded workers')
    .option('--host <host>', 'address to listen on (FORJA_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (FORJA_PORT, default 5050)', int)
    .option('--data-dir <dir>', 'data directory (FORJA_DATA_DIR, default ./forja-data)')
    .option('--database-url <url>', 'sqlite:<file> or postgres://… (FORJA_DATABASE_URL)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (FORJA_LOG_LEVEL)')
    .action(async (opts: { host?: string; port?: number; dataDir?: string; databaseUrl?: string; logLevel?: ConfigOverrides['logLevel'] }) => {
      const { loadConfig, ConfigError, startServer } = await serverModule();
      let config;
      try {
        config = loadConfig(process.env, { ...opts, webDir: process.env.FORJA_WEB_DIR || defaultWebDir() });
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`forja: invalid configuration: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      const server = await startServer(config);
      const lines = [
        '',
        `  Forja is running at ${server.url}`,
        `  API docs:  ${server.url}/docs`,
        `  Data:      ${config.dataDir} (${config.databaseUrl.startsWith('sqlite:') ? 'SQLite' : 'PostgreSQL'})`,
      ];
      if (server.bootstrap.generatedPassword) {
        lines.push(
          `  Log in as "admin" with password: ${server.bootstrap.generatedPassword}`,
          '  (shown once; change it under Admin → Users, or set FORJA_ADMIN_PASSWORD before the first start)',
        );
      } else if (server.bootstrap.createdAdmin) {
        lines.push('  Log in as "admin" with the password from FORJA_ADMIN_PASSWORD.');
      } else {
        lines.push('  Log in with your Forja user (the first user is "admin").');
      }
      if (!config.webDir) lines.push('  (web UI not built: run `npm run build` to serve it here)');
      process.stdout.write(lines.join('\n') + '\n\n');
      stopOnSignals(() => server.close(), '\n%s: finishing requests in flight and stopping…');
    });

  program
    .command('worker')
    .description('Run a worker that takes jobs from a shared PostgreSQL database')
    .option('--database-url <url>', 'postgres://… shared with the servers (FORJA_DATABASE_URL)')
    .option('--concurrency <n>', 'jobs run at once (FORJA_WORKERS, default 4)', int)
    .option('--data-dir <dir>', 'data directory for job files (FORJA_DATA_DIR, default ./forja-data)')
    .action(async (opts: { databaseUrl?: string; concurrency?: number; dataDir?: string }) => {
      const { loadConfig, ConfigError, startWorker } = await serverModule();
      let config;
      try {
        const env = { ...process.env, ...(opts.concurrency !== undefined ? { FORJA_WORKERS: String(opts.concurrency) } : {}) };
        config = loadConfig(env, { databaseUrl: opts.databaseUrl, dataDir: opts.dataDir });
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`forja worker: invalid configuration: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      if (!config.databaseUrl.startsWith('postgres')) {
        process.stderr.write(
          "forja worker: workers share jobs through PostgreSQL. Set FORJA_DATABASE_URL=postgres://… (the same as the server's).\n" +
            'With the embedded SQLite default, `forja server` already runs the workers in its own process.\n',
        );
        process.exit(2);
      }
      let worker;
      try {
        worker = await startWorker(config);
      } catch (err) {
        process.stderr.write(`forja worker: ${(err as Error).message}\n`);
        process.exit(1);
      }
      const where = new URL(config.databaseUrl);
      process.stdout.write(`forja worker ${worker.workerId} taking jobs from ${where.host}${where.pathname} (${config.workers} at a time)\n`);
      stopOnSignals(() => worker.close(), '%s: handing running jobs back to the queue and stopping…');
    });
}
