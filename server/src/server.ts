import type { Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { bootstrap, type BootstrapResult } from './auth/bootstrap.js';
import { buildApp } from './http/app.js';
import type { App } from './http/types.js';
import { createServices, type Services } from './services.js';
import { VERSION } from './version.js';

export interface RunningServer {
  app: App;
  services: Services;
  url: string;
  bootstrap: BootstrapResult;
  /** Stops taking requests, lets in-flight ones finish, then closes the database. */
  close(): Promise<void>;
}

export async function startServer(config: Config, options: { logger?: boolean | object } = {}): Promise<RunningServer> {
  const db = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  const services = createServices(db, config);
  const boot = await bootstrap(services.authStore, services.tokens, { adminPassword: config.adminPassword, adminToken: config.adminToken });
  await services.tracking.ensureDefaultExperiment();
  const app = await buildApp({ config, services, version: VERSION, logger: options.logger });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await app.close();
    await db.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  let closing: Promise<void> | undefined;
  return {
    app,
    services,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    bootstrap: boot,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await db.close();
      })()),
  };
}
