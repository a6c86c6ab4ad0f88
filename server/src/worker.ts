import type { Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { createServices, startBackground, stopBackground, type Services } from './services.js';

export interface RunningWorker {
  workerId: string;
  services: Services;
  /** Stops taking jobs; running ones go back to the queue without spending an attempt. */
  close(): Promise<void>;
}

/**
 * A standalone worker (`forja worker`): the same services as the server, no HTTP, taking jobs
 * from the shared PostgreSQL database next to the servers' embedded workers.
 */
export async function startWorker(
  config: Config,
  options: { log?: (level: 'warn' | 'error', message: string) => void; beforeStart?: (s: Services) => void | Promise<void> } = {},
): Promise<RunningWorker> {
  if (!config.databaseUrl.startsWith('postgres'))
    throw new Error("workers share jobs through PostgreSQL: set FORJA_DATABASE_URL=postgres://… (the same as the servers').");
  if (config.workers < 1) throw new Error('FORJA_WORKERS is 0: a worker with no job slots would do nothing.');
  const db = openDatabase(config.databaseUrl);
  const write = options.log ?? ((level, message) => process.stderr.write(JSON.stringify({ level, time: Date.now(), msg: message }) + '\n'));
  try {
    await migrateToLatest(db);
    const log = { warn: (m: string) => write('warn', m), error: (m: string) => write('error', m) };
    for (const warning of config.warnings) log.warn(warning);
    const services = createServices(db, config, {
      mode: 'standalone',
      log,
      publicUrl: () => config.publicUrl ?? `http://127.0.0.1:${config.port}`,
    });
    await services.engine.init();
    await services.lake.engine.init();
    await options.beforeStart?.(services);
    await services.engine.start();
    startBackground(services, log);
    let closing: Promise<void> | undefined;
    return {
      workerId: services.engine.workerId,
      services,
      close: () =>
        (closing ??= (async () => {
          stopBackground(services);
          await services.engine.stop();
          await services.runtime.stopAll();
          await services.inferenceLog.close();
          await services.lake.engine.close();
          await db.close();
        })()),
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}
