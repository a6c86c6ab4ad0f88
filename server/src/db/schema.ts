/**
 * Table types for Kysely. Conventions that hold on both SQLite and PostgreSQL:
 * ids are text, times are bigint milliseconds (read back as numbers), booleans are 0/1 integers,
 * and JSON is stored as text.
 */
export interface UsersTable {
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  password_hash: string | null;
  is_admin: number;
  disabled: number;
  default_group_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface GroupsTable {
  id: string;
  name: string;
  description: string;
  created_at: number;
  created_by: string | null;
}

export interface MembershipsTable {
  group_id: string;
  user_id: string;
  role: 'viewer' | 'editor' | 'admin';
  created_at: number;
}

export interface TokensTable {
  id: string;
  kind: 'session' | 'personal' | 'service' | 'group';
  name: string;
  prefix: string;
  hash: string;
  user_id: string | null;
  group_id: string | null;
  role: 'viewer' | 'editor' | 'admin' | null;
  created_at: number;
  created_by: string | null;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: string;
  at: number;
  actor_id: string | null;
  actor_name: string | null;
  /** The token the actor used (a session counts), null for a password over HTTP Basic or the system. */
  actor_token_id: string | null;
  /** That token's name when it was used; "session" for a login session. */
  actor_token_name: string | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  group_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: string | null;
}

export interface CountersTable {
  name: string;
  value: number;
}

export interface ExperimentsTable {
  id: string;
  group_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: 'active' | 'deleted';
  creation_time: number;
  last_update_time: number;
  deleted_time: number | null;
}

export interface KeyValueTable {
  key: string;
  value: string;
}

export interface RunsTable {
  id: string;
  experiment_id: string;
  group_id: string;
  name: string;
  user_id: string;
  status: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: 'active' | 'deleted';
  deleted_time: number | null;
}

export interface MetricsTable {
  run_id: string;
  key: string;
  value: number;
  timestamp: number;
  step: number;
  is_nan: number;
}

/** A metric point of a run linked to a logged model, with the dataset it was measured on (MLflow 3). */
export interface LoggedModelMetricsTable extends MetricsTable {
  model_id: string;
  dataset_name: string | null;
  dataset_digest: string | null;
}

export interface DatasetsTable {
  id: string;
  experiment_id: string;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
}

export interface RunInputsTable {
  run_id: string;
  dataset_id: string;
  /** JSON array of {key, value}. */
  tags: string;
  /** The input's `mlflow.data.context` tag (training, eval…), kept apart so filters can use it. */
  context: string | null;
}

export interface LoggedModelsTable {
  id: string;
  experiment_id: string;
  group_id: string;
  name: string;
  model_type: string | null;
  source_run_id: string | null;
  status: 'LOGGED_MODEL_PENDING' | 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED';
  status_message: string | null;
  artifact_uri: string;
  creator_id: string | null;
  creation_time: number;
  last_updated_time: number;
  lifecycle_stage: 'active' | 'deleted';
}

export interface RegisteredModelsTable {
  id: string;
  group_id: string;
  name: string;
  description: string;
  creation_time: number;
  last_updated_time: number;
  created_by: string | null;
  last_version: number;
}

export interface ModelVersionsTable {
  model_id: string;
  version: number;
  source: string;
  storage_location: string;
  run_id: string | null;
  run_link: string | null;
  logged_model_id: string | null;
  description: string;
  current_stage: 'None' | 'Staging' | 'Production' | 'Archived';
  status: 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';
  creation_time: number;
  last_updated_time: number;
  created_by: string | null;
  deleted: number;
}

export interface ApprovalRequestsTable {
  id: string;
  group_id: string;
  model_id: string;
  version: number;
  from_stage: string;
  to_stage: string;
  archive_existing: number;
  status: 'pending' | 'approved' | 'rejected' | 'cancelled';
  requested_by: string;
  requested_by_id: string | null;
  requested_at: number;
  comment: string | null;
  decided_by: string | null;
  decided_at: number | null;
  decision_comment: string | null;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobsTable {
  id: string;
  group_id: string | null;
  kind: string;
  queue: string;
  status: JobStatus;
  params: string;
  result: string | null;
  error: string | null;
  priority: number;
  attempt: number;
  max_attempts: number;
  backoff_ms: number;
  timeout_ms: number;
  token: string;
  run_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  heartbeat_at: number | null;
  dispatch_ref: string | null;
  cancel_requested: number;
  dedupe_key: string | null;
  progress: string | null;
  created_by: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface JobLogsTable {
  job_id: string;
  seq: number;
  attempt: number;
  ts: number;
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
}

export interface WorkersTable {
  id: string;
  host: string;
  pid: number;
  mode: 'embedded' | 'standalone';
  concurrency: number;
  version: string;
  running: string;
  started_at: number;
  last_seen_at: number;
  stopped_at: number | null;
}

export interface WebhooksTable {
  id: string;
  group_id: string;
  name: string;
  url: string;
  events: string;
  description: string;
  active: number;
  secret_sealed: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event: string;
  payload: string;
  status: 'pending' | 'retrying' | 'delivered' | 'failed';
  attempts: number;
  response_status: number | null;
  response_body: string | null;
  error: string | null;
  duration_ms: number | null;
  job_id: string | null;
  created_at: number;
  last_attempt_at: number | null;
  delivered_at: number | null;
}

/** Calls of a deployment in one minute (ms at the minute's start), with latency buckets b0…b35 (deployments/usage-histogram.ts). */
export type DeploymentUsageTable = { deployment_id: string; minute: number; calls: number; errors: number } & { [bucket: `b${number}`]: number };

export interface DeploymentsTable {
  id: string;
  group_id: string;
  name: string;
  status: 'Uploaded' | 'Building' | 'Deployed' | 'Failed' | 'Disabled';
  message: string | null;
  operation: 'sync' | 'async';
  kind: 'script' | 'pyfunc' | 'pickle';
  source: string;
  model_name: string | null;
  model_version: string | null;
  entrypoint: string | null;
  predict_method: 'predict' | 'predict_proba';
  python_version: string;
  model_path: string;
  files: string;
  requirements: string;
  secrets_sealed: string | null;
  schema_sample: string | null;
  settings: string;
  env_key: string | null;
  build_job_id: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  deployed_at: number | null;
}

export interface ExecutionsTable {
  id: string;
  deployment_id: string;
  group_id: string;
  status: 'Requested' | 'Running' | 'Succeeded' | 'Failed';
  message: string | null;
  input_name: string;
  input_size: number;
  output_name: string | null;
  output_size: number | null;
  job_id: string | null;
  created_by: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface BatchDeploysTable {
  project_id: string;
  version: number;
  status: 'Building' | 'Ready' | 'Failed';
  message: string | null;
  script_name: string;
  python_version: string;
  requirements: string;
  env_key: string | null;
  build_job_id: string | null;
  created_by: string | null;
  created_at: number;
}

export interface AlertRulesTable {
  id: string;
  group_id: string;
  monitor_id: string;
  name: string;
  metric: string;
  operator: '>' | '>=' | '<' | '<=';
  threshold: number;
  consecutive: number;
  severity: 'info' | 'warning' | 'critical';
  enabled: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface AlertStreaksTable {
  rule_id: string;
  metric: string;
  breaches: number;
  episode_alert_id: string | null;
  last_run_id: string;
  updated_at: number;
}

export interface AlertsTable {
  id: string;
  group_id: string;
  monitor_id: string;
  monitor_name: string;
  rule_id: string;
  rule_name: string;
  severity: 'info' | 'warning' | 'critical';
  metric: string;
  value: number;
  operator: '>' | '>=' | '<' | '<=';
  threshold: number;
  run_id: string;
  status: 'open' | 'acknowledged' | 'resolved';
  fired_at: number;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  resolved_by: string | null;
  resolved_at: number | null;
  resolution: string | null;
  note: string | null;
}

export interface Database {
  users: UsersTable;
  groups: GroupsTable;
  memberships: MembershipsTable;
  tokens: TokensTable;
  audit_log: AuditLogTable;
  counters: CountersTable;
  experiments: ExperimentsTable;
  experiment_tags: KeyValueTable & { experiment_id: string };
  runs: RunsTable;
  params: KeyValueTable & { run_id: string };
  run_tags: KeyValueTable & { run_id: string };
  metrics: MetricsTable;
  latest_metrics: MetricsTable;
  datasets: DatasetsTable;
  run_inputs: RunInputsTable;
  logged_models: LoggedModelsTable;
  logged_model_tags: KeyValueTable & { model_id: string };
  logged_model_params: KeyValueTable & { model_id: string };
  run_outputs: { run_id: string; model_id: string; step: number };
  run_model_inputs: { run_id: string; model_id: string };
  logged_model_metrics: LoggedModelMetricsTable;
  registered_models: RegisteredModelsTable;
  registered_model_tags: KeyValueTable & { model_id: string };
  model_versions: ModelVersionsTable;
  model_version_tags: KeyValueTable & { model_id: string; version: number };
  model_aliases: { model_id: string; alias: string; version: number };
  group_settings: { group_id: string; approval_stages: string; approvers: string; updated_at: number };
  webhooks: WebhooksTable;
  deployments: DeploymentsTable;
  executions: ExecutionsTable;
  deployment_usage: DeploymentUsageTable;
  cluster_profiles: { size: number; name: string; cpus: number; memory_mb: number; parallel_runs: number };
  pipelines: {
    id: string;
    group_id: string;
    name: string;
    version: number;
    definition: string;
    steps: string;
    files: string;
    created_by: string | null;
    created_at: number;
    updated_at: number;
  };
  pipeline_runs: {
    id: string;
    pipeline_id: string;
    group_id: string;
    pipeline_version: number;
    status: 'running' | 'succeeded' | 'failed' | 'cancelled';
    params: string;
    from_step: string | null;
    created_by: string | null;
    created_at: number;
    finished_at: number | null;
  };
  pipeline_steps: {
    run_id: string;
    step_id: string;
    status: 'pending' | 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'reused';
    job_id: string | null;
    outputs: string | null;
    error: string | null;
    started_at: number | null;
    finished_at: number | null;
  };
  monitors: {
    id: string;
    group_id: string;
    name: string;
    description: string;
    /** JSON: the target as given ({deployment} or {table, timeColumn}). */
    target: string;
    deployment_id: string | null;
    /** JSON MonitorReference, or null until one is set. */
    reference: string | null;
    input_columns: string | null;
    output_columns: string | null;
    checks: string;
    period: 'hour' | 'day' | 'week' | 'month';
    scheduled: number;
    next_run_at: number | null;
    created_by: string | null;
    created_at: number;
    updated_at: number;
  };
  monitor_runs: {
    id: string;
    monitor_id: string;
    status: 'queued' | 'running' | 'succeeded' | 'failed';
    job_id: string | null;
    trigger: 'schedule' | 'manual';
    window_start: number;
    window_end: number;
    current_rows: number | null;
    reference_rows: number | null;
    drift: string | null;
    performance: string | null;
    explanations: string | null;
    metrics: string;
    problems: string;
    error: string | null;
    created_at: number;
    finished_at: number | null;
  };
  training_runs: {
    id: string;
    group_id: string;
    /** 1, 2, 3, … within the group (MLOps Codex's integer execution id). */
    number: number;
    experiment_id: string;
    tracking_run_id: string;
    job_id: string;
    model_type: string;
    source_name: string;
    train_function: string;
    data_file: string | null;
    data_table: string | null;
    data_filter: string | null;
    python_version: string;
    requirements: string;
    /** JSON {model, version, deploymentId?} once promoted. */
    promoted: string | null;
    created_by: string | null;
    created_at: number;
  };
  batch_projects: {
    id: string;
    group_id: string;
    name: string;
    description: string;
    cluster_size: number;
    created_by: string | null;
    created_at: number;
    updated_at: number;
  };
  batch_deploys: BatchDeploysTable;
  schedules: {
    id: string;
    group_id: string;
    project_id: string;
    cron: string;
    timezone: string;
    params: string;
    missed_policy: 'skip' | 'run_once';
    timeout_seconds: number;
    paused: number;
    next_fire_at: number | null;
    last_fire_at: number | null;
    created_by: string | null;
    created_at: number;
  };
  batch_runs: {
    id: string;
    project_id: string;
    version: number;
    params: string;
    trigger: 'manual' | 'schedule' | 'pipeline';
    job_id: string;
    created_by: string | null;
    created_at: number;
  };
  webhook_deliveries: WebhookDeliveriesTable;
  approval_requests: ApprovalRequestsTable;
  jobs: JobsTable;
  job_logs: JobLogsTable;
  workers: WorkersTable;
  sandbox_users: { group_id: string; slot: number };
  alert_rules: AlertRulesTable;
  alert_streaks: AlertStreaksTable;
  alerts: AlertsTable;
}
