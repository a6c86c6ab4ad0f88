import type { Config } from './config.js';
import type { Db } from './db/database.js';
import { AccessPolicy } from './auth/access.js';
import { AuditLog } from './auth/audit.js';
import { Authenticator } from './auth/authenticator.js';
import { GroupsService } from './auth/groups-service.js';
import { AuthStore } from './auth/store.js';
import { TokensService } from './auth/tokens-service.js';
import { SessionBearers } from './auth/session-bearers.js';
import { UsersService } from './auth/users-service.js';
import { TrackingService } from './tracking/service.js';
import { TrackingStore } from './tracking/store.js';
import { ArtifactsService } from './artifacts/service.js';
import { LoggedModelsService } from './tracking/logged-models.js';
import { LoggedModelsStore } from './tracking/logged-models-store.js';
import { MetricBulkService } from './tracking/metric-bulk.js';
import { LocalArtifactStore } from './artifacts/local-store.js';
import { ChunkedUploads } from './artifacts/uploads.js';
import { RegistryService } from './registry/service.js';
import { RegistryStore } from './registry/store.js';
import { createJobEngine } from './jobs/create-engine.js';
import type { JobEngine } from './jobs/engine.js';
import type { EngineLog } from './jobs/graphile-dispatch.js';
import { JobsService } from './jobs/service.js';
import { EventBus } from './events.js';
import { WebhooksStore } from './webhooks/store.js';
import { WebhooksService } from './webhooks/service.js';
import { DELIVER_KIND, deliveryHandler } from './webhooks/deliver.js';
import { DeploymentsStore } from './deployments/store.js';
import { BUILD_KIND, DeploymentsService } from './deployments/service.js';
import { DeploymentRuntime } from './deployments/runtime.js';
import { EXECUTE_KIND, ExecutionsService } from './deployments/executions.js';
import { BATCH_BUILD_KIND, BATCH_RUN_KIND, BatchService } from './batch/service.js';
import { SchedulesService } from './batch/schedules.js';
import { BatchStore } from './batch/store.js';
import { Environments } from './runtime/environments.js';
import { Sandbox } from './runtime/sandbox.js';
import { SandboxUserStore } from './runtime/sandbox-user-store.js';
import path from 'node:path';
import type { LakeEngine } from './lake/engine.js';
import { DuckDBLakeEngine } from './lake/duckdb-engine.js';
import { PostgresLakeEngine } from './lake/postgres-engine.js';
import { LakeService } from './lake/service.js';
import { DriftService } from './monitoring/stats/service.js';
import { UsageRecorder } from './deployments/usage.js';
import { UsageStore } from './deployments/usage-store.js';
import { InferenceLog, inferenceTableOf } from './monitoring/inference-log.js';
import { LAKE_PREDICT_KIND, LakeScoringService } from './lake/scoring.js';
import { TRAINING_KIND, TrainingService } from './training/service.js';
import { TrainingStore } from './training/store.js';
import { PIPELINE_STEP_KIND, PipelinesService } from './pipelines/service.js';
import { PipelinesStore } from './pipelines/store.js';
import { TempSweeper } from './system/temp-sweeper.js';
import { MONITOR_RUN_KIND, MonitorsService } from './monitoring/service.js';
import { MonitorsStore } from './monitoring/store.js';
import { ReferenceResolver } from './monitoring/reference.js';
import { AlertsService } from './alerts/service.js';
import { AlertsStore } from './alerts/store.js';
import { PerformanceService } from './monitoring/performance-service.js';
import { LabelsService } from './monitoring/labels.js';
import { Explainer } from './monitoring/explain.js';

/** Every service, wired once from real parts. Tests build this the same way with a temporary database. */
export interface Services {
  db: Db;
  authStore: AuthStore;
  authenticator: Authenticator;
  access: AccessPolicy;
  audit: AuditLog;
  users: UsersService;
  groups: GroupsService;
  tokens: TokensService;
  tracking: TrackingService;
  artifacts: ArtifactsService;
  loggedModels: LoggedModelsService;
  metricBulk: MetricBulkService;
  uploads: ChunkedUploads;
  registry: RegistryService;
  engine: JobEngine;
  jobs: JobsService;
  events: EventBus;
  webhooks: WebhooksService;
  deployments: DeploymentsService;
  executions: ExecutionsService;
  batch: BatchService;
  schedules: SchedulesService;
  /** This process's model worker pools; stopped with the server. */
  runtime: DeploymentRuntime;
  lake: LakeService;
  /** Per-minute counts of every sync call; flushed to the database every ~10 s and on close. */
  usage: UsageRecorder;
  /** Sampled calls on their way to each deployment's log table; flushed every ~2 s and on close. */
  inferenceLog: InferenceLog;
  lakeScoring: LakeScoringService;
  /** Drift between two tables or two files (POST /api/v1/drift). */
  drift: DriftService;
  training: TrainingService;
  pipelines: PipelinesService;
  monitors: MonitorsService;
  /** SHAP importance of a deployment's model, for monitor runs. */
  explainer: Explainer;
  /** How user code runs here; its status is shown to admins. */
  sandbox: Sandbox;
  tempSweeper: TempSweeper;
  alerts: AlertsService;
  performance: PerformanceService;
  labels: LabelsService;
}

export interface ServiceOptions {
  /** Where background work reports trouble (the server's logger). */
  log: EngineLog;
  /** Embedded in the server, or a standalone `forja worker`. */
  mode?: 'embedded' | 'standalone';
  /** The URL jobs hand to the scripts they run (FORJA_URL), once the server knows where it listens. */
  publicUrl?: () => string;
  clock?: () => number;
}

export function createServices(
  db: Db,
  config: Pick<
    Config,
    | 'sessionTtlHours'
    | 'artifactsDir'
    | 'databaseUrl'
    | 'workers'
    | 'jobLeaseMs'
    | 'secretKey'
    | 'webhookRetryMs'
    | 'deploymentsDir'
    | 'runtimeDir'
    | 'batchDir'
    | 'lakeFile'
    | 'lakeUrl'
    | 'lakeMaxUploadBytes'
    | 'sandbox'
    | 'sandboxUidBase'
    | 'uvCacheDir'
    | 'wheelhouse'
  >,
  options: ServiceOptions,
): Services {
  const clock = options.clock ?? Date.now;
  const authStore = new AuthStore(db);
  const access = new AccessPolicy({ store: authStore, clock });
  const audit = new AuditLog({ store: authStore, access, clock });
  const bearers = new SessionBearers(config.secretKey);
  const authenticator = new Authenticator({ store: authStore, audit, bearers, clock });
  authenticator.onInvalidate(() => access.invalidate());
  const artifactStore = new LocalArtifactStore(config.artifactsDir);
  const groups = new GroupsService({ store: authStore, access, audit, authenticator, clock });
  const trackingStore = new TrackingStore(db);
  const tracking = new TrackingService({ store: trackingStore, groups, access, audit, artifactStore, clock });
  const artifacts = new ArtifactsService({ store: artifactStore, tracking });
  const loggedModels = new LoggedModelsService({ store: new LoggedModelsStore(db), tracking, clock });
  const metricBulk = new MetricBulkService({ store: trackingStore, tracking });
  // The lake opens in the server, and everywhere when it is PostgreSQL; a standalone worker cannot open the server's DuckDB file.
  const lakeOpensHere = config.lakeUrl !== undefined || options.mode !== 'standalone';
  const engine = createJobEngine(db, { ...config, mode: options.mode ?? 'embedded', capabilities: lakeOpensHere ? ['lake'] : [], log: options.log, clock });
  const events = new EventBus((err, event) => options.log.error(`handling event ${event.type} failed: ${err.message}`));
  const webhookStore = new WebhooksStore(db);
  const webhooks = new WebhooksService({ store: webhookStore, engine, audit, secretKey: config.secretKey, retryMs: config.webhookRetryMs, clock });
  events.subscribe((e) => webhooks.onEvent(e));
  engine.register(DELIVER_KIND, deliveryHandler(webhookStore, config.secretKey, clock));
  // Finished monitor runs are checked against their alert rules; fired and resolved alerts go back on the bus for webhooks.
  // Rules belong to monitors, found when a rule is read or written (monitors is made further down).
  const alerts = new AlertsService({ store: new AlertsStore(db), audit, events, monitors: (scope, idOrName) => monitors.get(scope, idOrName), clock });
  events.subscribe((e) => alerts.onEvent(e));
  const registry = new RegistryService({ store: new RegistryStore(db), tracking, loggedModels, audit, groups, events, clock });
  // Slot 0 of the uid range is the shared package cache's builder; groups are numbered from 1.
  const sandbox = Sandbox.detect(config.sandbox, new SandboxUserStore(db, config.sandboxUidBase), config.sandboxUidBase);
  if (sandbox.status.mode !== 'bwrap') options.log.warn(`user code sandbox ${sandbox.status.mode}: ${sandbox.status.reason}`);
  const runtime = new DeploymentRuntime(sandbox);
  const environments = new Environments(config.runtimeDir, { sandbox, sharedCacheDir: config.uvCacheDir, wheelhouse: config.wheelhouse });
  const lakeDir = path.dirname(config.lakeFile);
  const lake = new LakeService({
    engine: createLakeEngine(config, options.mode ?? 'embedded'),
    audit,
    tempDir: path.join(lakeDir, 'tmp'),
    maxUploadBytes: config.lakeMaxUploadBytes,
    clock,
  });
  const reportTo = (what: string) => (err: unknown) => options.log.error(`${what}: ${(err as Error).message}`);
  const usage = new UsageRecorder({ store: new UsageStore(db), clock, onError: reportTo('Storing deployment usage failed') });
  const inferenceLog = new InferenceLog({ lake, lakeHere: lakeOpensHere, clock, onError: reportTo('Writing the inference log failed') });
  const deploymentsStore = new DeploymentsStore(db);
  const deployments = new DeploymentsService({
    store: deploymentsStore,
    engine,
    envs: environments,
    runtime,
    registry,
    artifacts,
    audit,
    secretKey: config.secretKey,
    root: config.deploymentsDir,
    usage,
    inferenceLog,
    clock,
  });
  engine.register(BUILD_KIND, deployments.buildHandler());
  const executions = new ExecutionsService({ store: deploymentsStore, deployments, engine, clock });
  engine.register(EXECUTE_KIND, executions.handler());
  const tokens = new TokensService({ store: authStore, access, audit, authenticator, bearers, sessionTtlMs: config.sessionTtlHours * 3600_000, clock });
  const batchStore = new BatchStore(db);
  const batch = new BatchService({
    store: batchStore,
    engine,
    envs: environments,
    tokens,
    groups,
    audit,
    root: config.batchDir,
    publicUrl: options.publicUrl ?? (() => 'http://127.0.0.1:5050'),
    clock,
  });
  engine.register(BATCH_BUILD_KIND, batch.buildHandler());
  engine.register(BATCH_RUN_KIND, batch.runHandler());
  const trainingStore = new TrainingStore(db);
  const monitorsStore = new MonitorsStore(db);
  const pipelinesStore = new PipelinesStore(db);
  const jobs = new JobsService({
    engine,
    groups,
    access,
    audit,
    owners: {
      deployment: (ids) => deploymentsStore.namesOf(ids),
      project: (ids) => batchStore.projectNamesOf(ids),
      pipelineRun: (ids) => pipelinesStore.pipelineNamesOfRuns(ids),
      trainingRun: (ids) => trainingStore.namesOf(ids),
      monitor: (ids) => monitorsStore.namesOf(ids),
    },
    clock,
  });
  const lakeScoring = new LakeScoringService({
    lake,
    registry,
    artifacts,
    envs: environments,
    engine,
    jobs,
    audit,
    modelsDir: path.join(lakeDir, 'models'),
  });
  engine.register(LAKE_PREDICT_KIND, lakeScoring.handler());
  const training = new TrainingService({
    store: trainingStore,
    engine,
    envs: environments,
    tracking,
    artifacts,
    registry,
    deployments,
    lake,
    audit,
    root: path.join(path.dirname(config.batchDir), 'training'),
    clock,
  });
  engine.register(TRAINING_KIND, training.handler());
  const labels = new LabelsService({ lake, deployments, audit, logTableOf: inferenceTableOf, tempDir: lake.tempDir, clock });
  // A monitor run's performance part is performance.ofWindow.
  const performance = new PerformanceService({ lake, labels, tempDir: lake.tempDir });
  // Beside the environments: a sandbox mounting it shows nothing of the lake's folder.
  const explainDir = path.join(config.runtimeDir, 'explain');
  const explainer = new Explainer({ deployments, envs: environments, workDir: explainDir });
  const monitors = new MonitorsService({
    store: monitorsStore,
    engine,
    lake,
    deployments,
    groups,
    audit,
    events,
    references: new ReferenceResolver({ lake, tracking, artifacts, training, tempDir: lake.tempDir }),
    cacheDir: path.join(lakeDir, 'monitors'),
    log: options.log,
    parts: { performance: (req) => performance.ofWindow(req), explain: (req, ctx) => explainer.explain(req, ctx) },
    clock,
  });
  engine.register(MONITOR_RUN_KIND, monitors.handler());
  const pipelines = new PipelinesService({
    store: pipelinesStore,
    engine,
    envs: environments,
    tokens,
    training,
    registry,
    deployments,
    lakeScoring,
    lake,
    monitors,
    groups,
    audit,
    publicUrl: options.publicUrl ?? (() => 'http://127.0.0.1:5050'),
    root: path.join(path.dirname(config.batchDir), 'pipelines'),
    clock,
  });
  engine.register(PIPELINE_STEP_KIND, pipelines.handler());
  const staging = (root: string) => ({ dir: path.join(root, '.staging') });
  const tempSweeper = new TempSweeper(
    [
      // DuckDB spills into the lake's scratch folder too; its files are its own to manage.
      { dir: lake.tempDir, holds: (name) => !name.startsWith('duckdb_temp') },
      // Resumable chunked uploads live in .uploads/chunked until completed or aborted.
      { dir: artifactStore.tmpDir, holds: (name) => name !== 'chunked' },
      { dir: path.join(lakeDir, 'models'), holds: (name) => name.includes('.tmp-') },
      ...[deployments.root, batch.root, training.root, pipelines.root].map(staging),
      { dir: explainDir },
    ],
    options.log,
  );
  return {
    db,
    sandbox,
    authStore,
    authenticator,
    access,
    audit,
    users: new UsersService({ store: authStore, access, audit, authenticator, clock }),
    groups,
    tokens,
    tracking,
    artifacts,
    loggedModels,
    metricBulk,
    uploads: new ChunkedUploads(artifacts, clock),
    registry,
    engine,
    jobs,
    events,
    webhooks,
    deployments,
    executions,
    batch,
    schedules: new SchedulesService({ store: batchStore, batch, groups, audit, log: options.log, clock }),
    runtime,
    lake,
    usage,
    inferenceLog,
    lakeScoring,
    drift: new DriftService({ lake }),
    training,
    pipelines,
    monitors,
    explainer,
    tempSweeper,
    alerts,
    performance,
    labels,
  };
}

/** The periodic work of a process that takes jobs: schedules and monitors' windows fire, pipeline runs left behind by a crash move on. */
export function startBackground(services: Services, log: EngineLog): void {
  services.schedules.start();
  services.monitors.start();
  services.pipelines.startReconciler(30_000, (err) => log.error(`Repairing pipeline runs failed: ${(err as Error).message}`));
  services.inferenceLog.startRetention(() => services.deployments.retentionTargets(), 3_600_000);
}

export function stopBackground(services: Services): void {
  services.schedules.stop();
  services.monitors.stop();
  services.pipelines.stopReconciler();
  services.inferenceLog.stopRetention();
}

/** PostgreSQL when FORJA_LAKE_URL says so, else the DuckDB file, which only the server may open. */
function createLakeEngine(config: Pick<Config, 'lakeFile' | 'lakeUrl'>, mode: 'embedded' | 'standalone'): LakeEngine {
  const tmp = path.join(path.dirname(config.lakeFile), 'tmp');
  if (config.lakeUrl) return new PostgresLakeEngine(config.lakeUrl, tmp);
  // A standalone worker never opens the server's file (it lacks the `lake` capability, so it takes no lake jobs).
  return new DuckDBLakeEngine(config.lakeFile, tmp, mode === 'embedded');
}
