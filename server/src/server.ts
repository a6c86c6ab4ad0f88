import type { Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { bootstrap, type BootstrapResult } from './auth/bootstrap.js';
import { buildApp } from './http/app.js';
import type { App } from './http/types.js';
import { createServices, startBackground, stopBackground, type Services } from './services.js';
import { VERSION } from './version.js';

export interface RunningServer {
  app: App;
  services: Services;
  url: string;
  bootstrap: BootstrapResult;
  /** Stops taking requests, lets in-flight ones finish, then closes the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: boolean | object;
  /** Runs once the services exist and before workers start taking jobs (tests register job kinds here). */
  beforeStart?: (services: Services) => void | Promise<void>;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const db = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  // Background work logs through the HTTP app's logger, which exists once the app is built.
  let logger: App['log'] | undefined;
  const log = { warn: (m: string) => logger?.warn(m), error: (m: string) => logger?.error(m) };
  let listening: string | undefined;
  const services = createServices(db, config, { log, publicUrl: () => config.publicUrl ?? listening ?? `http://127.0.0.1:${config.port}` });
  let app: App | undefined;
  let boot: BootstrapResult;
  try {
    await services.engine.init();
    await services.lake.engine.init();
    boot = await bootstrap(services.authStore, services.tokens, { adminPasswordHash: config.adminPasswordHash, adminTokenHash: config.adminTokenHash });
    await services.tracking.ensureDefaultExperiment();
    await options.beforeStart?.(services);
    app = await buildApp({ config, services, version: VERSION, logger: options.logger });
    logger = app.log;
    for (const warning of config.warnings) app.log.warn(warning);
    // What a crash left in scratch folders goes now, and what later ones leave, every few minutes.
    await services.tempSweeper.sweep();
    services.tempSweeper.start();
    await app.listen({ host: config.host, port: config.port });
    const bound = app.server.address();
    listening = `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${typeof bound === 'object' && bound ? bound.port : config.port}`;
    if (config.workers > 0) {
      await services.engine.start();
      startBackground(services, log);
    }
  } catch (err) {
    await services.tempSweeper.stop();
    stopBackground(services);
    await app?.close();
    await services.engine.stop();
    await services.lake.engine.close();
    await db.close();
    throw err;
  }
  const running = app;
  const address = running.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  let closing: Promise<void> | undefined;
  return {
    app: running,
    services,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    bootstrap: boot,
    close: () =>
      (closing ??= (async () => {
        await services.tempSweeper.stop();
        stopBackground(services);
        await running.close();
        // The calls answered until now: their counts and sampled rows are written before the stores close.
        await services.usage.close().catch(() => undefined);
        await services.inferenceLog.close();
        await services.engine.stop();
        await services.runtime.stopAll();
        await services.lake.engine.close();
        await db.close();
      })()),
  };
}
