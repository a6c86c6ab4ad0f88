import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import Fastify from 'fastify';
import fastifyStatic from '@fastify/static';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import type { Services } from '../services.js';
import { registerAuthRoutes } from '../auth/routes.js';
import { registerSystemRoutes } from '../system/routes.js';
import { SystemOverviewService } from '../system/overview.js';
import { registerTrackingRoutes } from '../tracking/routes.js';
import { registerMlflowRoutes } from '../mlflow/routes.js';
import { mlflowErrorBody } from '../mlflow/wire.js';
import { registerArtifactRoutes } from '../artifacts/routes.js';
import { registerLoggedModelRoutes } from '../tracking/logged-model-routes.js';
import { registerRegistryRoutes } from '../registry/routes.js';
import { registerJobRoutes } from '../jobs/routes.js';
import { registerWebhookRoutes } from '../webhooks/routes.js';
import { registerDeploymentRoutes } from '../deployments/routes.js';
import { registerBatchRoutes } from '../batch/routes.js';
import { registerLakeRoutes } from '../lake/routes.js';
import { registerTrainingRoutes } from '../training/routes.js';
import { registerPipelineRoutes } from '../pipelines/routes.js';
import { registerMonitorRoutes } from '../monitoring/routes.js';
import { registerMonitorReportRoutes } from '../monitoring/report-routes.js';
import { registerDriftRoutes } from '../monitoring/drift-routes.js';
import { registerAlertRoutes } from '../alerts/routes.js';
import { registerPerformanceRoutes } from '../monitoring/performance-routes.js';
import { registerLabelRoutes } from '../monitoring/labels-routes.js';
import { registerCodexRoutes } from '../compat/codex/routes.js';
import { registerDhuoRoutes } from '../compat/dhuo/routes.js';
import { registerAuthHooks } from './auth-hooks.js';
import { apiPrefixOf } from './prefixes.js';
import { errorHandler } from './errors.js';
import { registerOpenApi } from './openapi.js';
import type { App } from './types.js';
import { AppError } from '../errors.js';

/** A caller's X-Request-Id is kept when it is 1–200 safe characters (it names inference log rows); else one is made. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,200}$/;

export interface AppOptions {
  config: Config;
  services: Services;
  version: string;
  /** A pino logger config, or false to log nothing (tests). */
  logger?: boolean | object;
}

export async function buildApp({ config, services, version, logger }: AppOptions): Promise<App> {
  const app = Fastify({
    logger: logger ?? { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-dhuo-access-key"]'] },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  await registerOpenApi(app, version);

  registerAuthHooks(app, services.authenticator, services.access, services.audit);
  const s = services;
  // Each domain's routes get the services they call, and nothing else.
  const overview = new SystemOverviewService({
    version,
    db: s.db,
    lake: s.lake,
    jobs: s.jobs,
    sandbox: s.sandbox,
    dataDir: config.dataDir,
    artifactsDir: config.artifactsDir,
  });
  registerSystemRoutes(app, { db: s.db, sandbox: s.sandbox, overview }, version);
  registerAuthRoutes(app, { audit: s.audit, groups: s.groups, tokens: s.tokens, users: s.users });
  registerTrackingRoutes(app, { tracking: s.tracking, metricBulk: s.metricBulk });
  registerMlflowRoutes(app, { tracking: s.tracking, loggedModels: s.loggedModels, metricBulk: s.metricBulk, registry: s.registry, artifacts: s.artifacts });
  registerArtifactRoutes(app, { artifacts: s.artifacts, uploads: s.uploads });
  registerLoggedModelRoutes(app, { loggedModels: s.loggedModels, artifacts: s.artifacts });
  registerRegistryRoutes(app, { registry: s.registry });
  registerJobRoutes(app, { jobs: s.jobs });
  registerWebhookRoutes(app, { webhooks: s.webhooks });
  registerDeploymentRoutes(app, { deployments: s.deployments, executions: s.executions, lake: s.lake, groups: s.groups });
  registerBatchRoutes(app, { batch: s.batch, schedules: s.schedules });
  registerLakeRoutes(app, { lake: s.lake, lakeScoring: s.lakeScoring });
  registerTrainingRoutes(app, { training: s.training });
  registerPipelineRoutes(app, { pipelines: s.pipelines });
  registerMonitorRoutes(app, { monitors: s.monitors, lake: s.lake });
  registerMonitorReportRoutes(app, { monitors: s.monitors });
  registerDriftRoutes(app, { drift: s.drift });
  registerAlertRoutes(app, { alerts: s.alerts });
  registerPerformanceRoutes(app, { performance: s.performance });
  registerLabelRoutes(app, { labels: s.labels });
  registerDhuoRoutes(app, {
    tracking: s.tracking,
    artifacts: s.artifacts,
    uploads: s.uploads,
    registry: s.registry,
    deployments: s.deployments,
    batch: s.batch,
    schedules: s.schedules,
    groups: s.groups,
  });
  registerCodexRoutes(app, {
    deployments: s.deployments,
    executions: s.executions,
    access: s.access,
    groups: s.groups,
    tokens: s.tokens,
    tenant: config.codexTenant,
    training: s.training,
    tracking: s.tracking,
    monitors: s.monitors,
    lake: s.lake,
  });

  app.get('/api/v1/openapi.json', { config: { auth: { public: true } }, schema: { hide: true } }, async () => app.swagger());

  const webDir = config.webDir;
  const hasWeb = webDir !== undefined && existsSync(path.join(webDir, 'index.html'));
  if (hasWeb) await app.register(fastifyStatic, { root: webDir, wildcard: false, index: ['index.html'] });

  app.setNotFoundHandler((request, reply) => {
    const url = request.url;
    const where = url.split('?')[0]!;
    const api = apiPrefixOf(where);
    // MLflow's prefixes answer as MLflow's API does, so its client sees ENDPOINT_NOT_FOUND.
    if (api === 'mlflow')
      return reply
        .status(404)
        .type('application/json')
        .send(mlflowErrorBody('ENDPOINT_NOT_FOUND', `Forja does not serve ${request.method} ${where} on its MLflow API.`));
    const wantsPage = (request.headers.accept ?? '').includes('text/html') || !path.extname(where);
    if (!api && hasWeb && request.method === 'GET' && wantsPage) {
      // Client-side routes of the single-page UI (a browser navigation asks for HTML, even for /groups/team.v2).
      return reply.type('text/html; charset=utf-8').sendFile('index.html');
    }
    throw new AppError('ROUTE_NOT_FOUND', `No route ${request.method} ${where}. The API is described at /api/v1/openapi.json.`);
  });

  return app;
}
