import { z } from 'zod';
import {
  MonitorListSchema,
  MonitorMetricSeriesSchema,
  MonitorRunPageSchema,
  MonitorRunSchema,
  MonitorSchema,
  type CodexMonitorCreate,
  type MonitorCreate,
  type MonitorRunRequest,
  type MonitorUpdate,
  DriftReportSchema,
  type DriftTablesRequest,
  InferenceLogInfoSchema,
  UsageSeriesSchema,
  type DeploymentSettingsPatch,
  type UsageStep,
  ArtifactListSchema,
  LoggedModelListSchema,
  RunMetricPointsSchema,
  ArtifactUploadedSchema,
  UploadCompletedSchema,
  UploadStateSchema,
  AuditListSchema,
  ExperimentPageSchema,
  ExperimentColumnsSchema,
  ExperimentSchema,
  MetricHistorySchema,
  MetricHistoriesSchema,
  RunInfoSchema,
  RunPageSchema,
  RunBulkResultSchema,
  RunSchema,
  GroupListSchema,
  GroupSchema,
  LoginResponseSchema,
  MemberListSchema,
  MemberSchema,
  OkSchema,
  TokenCreatedSchema,
  TokenListSchema,
  TokenSchema,
  UserListSchema,
  UserSchema,
  VersionSchema,
  WhoamiSchema,
  SandboxStatusSchema,
  SystemOverviewSchema,
  ApprovalListSchema,
  ApprovalRequestSchema,
  ModelVersionPageSchema,
  ModelVersionSchema,
  RegisteredModelPageSchema,
  RegisteredModelSchema,
  RegistrySettingsSchema,
  TimelineSchema,
  TransitionResultSchema,
  type ModelSearch,
  type ModelVersionCreate,
  type RegisteredModelCreate,
  type RegistrySettingsUpdate,
  JobLogsSchema,
  BatchDeployListSchema,
  BatchDeploySchema,
  type BatchProjectCreateSchema,
  BatchProjectListSchema,
  BatchProjectSchema,
  type BatchProjectUpdateSchema,
  BatchRunListSchema,
  BatchRunSchema,
  ClusterProfileListSchema,
  ScheduleListSchema,
  ScheduleSchema,
  type ScheduleUpdateSchema,
  type BatchRunCreate,
  type ScheduleCreate,
  DeploymentCreatedSchema,
  DeploymentListSchema,
  DeploymentSchema,
  DeploymentStatsSchema,
  PredictCodeSchema,
  type DeploymentFromModel,
  ExecutionListSchema,
  ExecutionSchema,
  type ExecutionFromTableSchema,
  JobPageSchema,
  JobSchema,
  WorkerListSchema,
  WebhookDeliveryPageSchema,
  WebhookDeliverySchema,
  WebhookListSchema,
  WebhookSchema,
  WebhookWithSecretSchema,
  type JobStatus,
  type WebhookCreate,
  type WebhookUpdate,
  type Stage,
  type ExperimentCreate,
  type ExperimentSearch,
  type GroupCreate,
  type LogBatch,
  type Role,
  type RunCreate,
  type RunSearch,
  type RunBulk,
  type MetricHistoriesSearch,
  type RunStatus,
  type TokenCreate,
  type UserCreate,
  type UserUpdate,
  LakeBatchPredictionListSchema,
  LakeBatchPredictionSchema,
  LakeRowsSchema,
  LakeTableListSchema,
  LakeTableSchema,
  LakeWriteResultSchema,
  type LakeBatchPredictionCreate,
  type LakeQuery,
  type LakeWriteQuery,
  PipelineListSchema,
  PipelineRunListSchema,
  PipelineRunSchema,
  PipelineSchema,
  type PipelineRunCreate,
  TrainingPromotedSchema,
  TrainingRunListSchema,
  TrainingRunSchema,
  type TrainingPromote,
  AlertPageSchema,
  AlertRuleListSchema,
  AlertRuleSchema,
  AlertSchema,
  LabelsResultSchema,
  PerformanceReportSchema,
  type AlertRuleCreate,
  type AlertRuleUpdate,
  type LabelsPost,
  type PerformanceRequest,
} from '@forja/contracts';
import { ForjaApiError, ForjaConnectionError } from './errors.js';

export interface ClientOptions {
  /** Server URL, e.g. http://127.0.0.1:5050. */
  baseUrl: string;
  token?: string;
  /** Group to act in when a call names none (sent as X-Forja-Group). */
  group?: string;
  /** Retries on connection errors and 502/503/504, never on a 4xx. */
  retries?: number;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined>;
/** Bodies that can be sent again on a retry, unlike a stream. */
type RawBody = string | Blob | ArrayBuffer | Uint8Array<ArrayBuffer>;

export interface SendOptions {
  body?: unknown;
  rawBody?: RawBody;
  /** With rawBody; application/octet-stream when omitted. */
  contentType?: string;
  form?: FormData;
  /** A body sent once as it is read (a big file); never retried. */
  stream?: ReadableStream<Uint8Array>;
  query?: Query;
  signal?: AbortSignal;
  /** Overrides the client's retries for this call. */
  retries?: number;
}

export interface RunUpdate {
  status?: RunStatus;
  endTime?: number;
  runName?: string;
}

/**
 * The TypeScript SDK. Every response is parsed with the same zod schema the server validates with.
 *
 * @example
 * const forja = new ForjaClient({ baseUrl: 'http://127.0.0.1:5050' });
 * await forja.login('admin', 'secret-password');
 * console.log((await forja.whoami()).user?.username);
 */
export class ForjaClient {
  readonly baseUrl: string;
  token: string | undefined;
  group: string | undefined;
  private readonly retries: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.group = options.group;
    this.retries = options.retries ?? 2;
    // Browsers reject a detached `fetch` ("Illegal invocation"), so call it through a wrapper.
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** Sends a request and returns the response of a success; throws ForjaApiError on an error status. */
  async send(method: string, path: string, options: SendOptions = {}): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.group) headers['x-forja-group'] = this.group;
    let body: RawBody | FormData | ReadableStream<Uint8Array> | undefined = options.rawBody ?? options.form ?? options.stream;
    // fetch writes a multipart body's content type itself (with its boundary).
    if (options.rawBody !== undefined || options.stream !== undefined) headers['content-type'] = options.contentType ?? 'application/octet-stream';
    else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const init: RequestInit & { duplex?: 'half' } = { method, headers, body, signal: options.signal, ...(options.stream ? { duplex: 'half' } : {}) };
    const retries = options.stream ? 0 : (options.retries ?? this.retries);
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.fetchImpl(url, init);
      } catch (err) {
        if (options.signal?.aborted) throw err;
        if (attempt < retries) {
          await sleep(backoff(attempt));
          continue;
        }
        throw new ForjaConnectionError(this.baseUrl, (err as Error).cause ?? err);
      }
      if ([502, 503, 504].includes(response.status) && attempt < retries) {
        await sleep(backoff(attempt));
        continue;
      }
      if (response.ok) return response;
      const text = await response.text();
      const parsed = safeJson(text) as
        | { error?: { code?: string; message?: string; details?: unknown; requestId?: string }; error_code?: string; message?: string }
        | undefined;
      // Forja's {"error": {…}}, or MLflow's {"error_code", "message"} (as /invocations answers).
      const err = parsed?.error ?? (typeof parsed?.error_code === 'string' ? { code: parsed.error_code, message: parsed.message } : undefined);
      throw ForjaApiError.from(
        response.status,
        err?.code ?? `HTTP_${response.status}`,
        err?.message ?? (text.slice(0, 200) || response.statusText),
        err?.details,
        err?.requestId ?? response.headers.get('x-request-id') ?? undefined,
      );
    }
  }

  /** Sends a request and parses the answer with `schema`; throws ForjaApiError on an error status. */
  async request<S extends z.ZodTypeAny>(method: string, path: string, schema: S, options: SendOptions = {}): Promise<z.infer<S>> {
    const text = await (await this.send(method, path, options)).text();
    return schema.parse(text ? safeJson(text) : undefined);
  }

  /** Logs in and keeps the session token for later calls. */
  async login(username: string, password: string) {
    const result = await this.request('POST', '/api/v1/auth/login', LoginResponseSchema, { body: { username, password } });
    this.token = result.token;
    return result;
  }
  logout() {
    return this.request('POST', '/api/v1/auth/logout', OkSchema);
  }
  version() {
    return this.request('GET', '/api/v1/version', VersionSchema);
  }
  /** How the server runs user code (system administrators). */
  sandboxStatus() {
    return this.request('GET', '/api/v1/system/sandbox', SandboxStatusSchema);
  }
  /** Version, storage sizes, job queue, workers, disk and sandbox of the server (system administrators). */
  systemOverview() {
    return this.request('GET', '/api/v1/admin/system', SystemOverviewSchema);
  }

  whoami() {
    return this.request('GET', '/api/v1/whoami', WhoamiSchema);
  }

  readonly users = {
    list: (query: { limit?: number; pageToken?: string } = {}) => this.request('GET', '/api/v1/users', UserListSchema, { query }),
    create: (user: UserCreate) => this.request('POST', '/api/v1/users', UserSchema, { body: user }),
    get: (username: string) => this.request('GET', `/api/v1/users/${enc(username)}`, UserSchema),
    update: (username: string, patch: UserUpdate) => this.request('PATCH', `/api/v1/users/${enc(username)}`, UserSchema, { body: patch }),
  };

  readonly groups = {
    list: async () => (await this.request('GET', '/api/v1/groups', GroupListSchema)).items,
    create: (group: GroupCreate) => this.request('POST', '/api/v1/groups', GroupSchema, { body: group }),
    get: (name: string) => this.request('GET', `/api/v1/groups/${enc(name)}`, GroupSchema),
    update: (name: string, description: string) => this.request('PATCH', `/api/v1/groups/${enc(name)}`, GroupSchema, { body: { description } }),
    delete: (name: string) => this.request('DELETE', `/api/v1/groups/${enc(name)}`, OkSchema),
    members: async (name: string) => (await this.request('GET', `/api/v1/groups/${enc(name)}/members`, MemberListSchema)).items,
    setMember: (name: string, username: string, role: Role) =>
      this.request('PUT', `/api/v1/groups/${enc(name)}/members/${enc(username)}`, MemberSchema, { body: { role } }),
    removeMember: (name: string, username: string) => this.request('DELETE', `/api/v1/groups/${enc(name)}/members/${enc(username)}`, OkSchema),
  };

  readonly tokens = {
    list: async (query: { group?: string; includeRevoked?: boolean } = {}) => (await this.request('GET', '/api/v1/tokens', TokenListSchema, { query })).items,
    create: (token: TokenCreate) => this.request('POST', '/api/v1/tokens', TokenCreatedSchema, { body: token }),
    revoke: (id: string) => this.request('DELETE', `/api/v1/tokens/${enc(id)}`, TokenSchema),
  };

  /** Experiments of the client's group (X-Forja-Group); ids work across the groups the caller can read. */
  readonly experiments = {
    create: (experiment: ExperimentCreate) => this.request('POST', '/api/v1/experiments', ExperimentSchema, { body: experiment }),
    /** One page; pass the answer's nextPageToken back as pageToken for the next. */
    search: (search: ExperimentSearch = {}) => this.request('POST', '/api/v1/experiments/search', ExperimentPageSchema, { body: search }),
    get: (id: string) => this.request('GET', `/api/v1/experiments/${enc(id)}`, ExperimentSchema),
    getByName: (name: string) => this.request('GET', `/api/v1/experiments/by-name/${enc(name)}`, ExperimentSchema),
    /** Every metric, param and tag key of the active runs, newest first, with how many runs have it and how many values. */
    columns: (id: string) => this.request('GET', `/api/v1/experiments/${enc(id)}/columns`, ExperimentColumnsSchema),
    rename: (id: string, name: string) => this.request('PATCH', `/api/v1/experiments/${enc(id)}`, ExperimentSchema, { body: { name } }),
    /** Deletes with its runs, restorably; `permanent` on an already deleted one removes it and its artifacts. */
    delete: (id: string, options: { permanent?: boolean } = {}) =>
      this.request('DELETE', `/api/v1/experiments/${enc(id)}`, OkSchema, { query: { permanent: options.permanent || undefined } }),
    restore: (id: string) => this.request('POST', `/api/v1/experiments/${enc(id)}/restore`, OkSchema),
    setTag: (id: string, key: string, value: string) => this.request('PUT', `/api/v1/experiments/${enc(id)}/tags/${enc(key)}`, OkSchema, { body: { value } }),
    deleteTag: (id: string, key: string) => this.request('DELETE', `/api/v1/experiments/${enc(id)}/tags/${enc(key)}`, OkSchema),
  };

  readonly runs = {
    create: (run: RunCreate) => this.request('POST', '/api/v1/runs', RunSchema, { body: run }),
    /**
     * One page of runs. `columns` (e.g. ["metrics.acc", "params.lr"]) makes the server return only
     * those keys, which keeps pages small when runs log hundreds of metrics.
     */
    search: (search: RunSearch) => this.request('POST', '/api/v1/runs/search', RunPageSchema, { body: search }),
    get: (runId: string) => this.request('GET', `/api/v1/runs/${enc(runId)}`, RunSchema),
    update: (runId: string, patch: RunUpdate) => this.request('PATCH', `/api/v1/runs/${enc(runId)}`, RunInfoSchema, { body: patch }),
    delete: (runId: string, options: { permanent?: boolean } = {}) =>
      this.request('DELETE', `/api/v1/runs/${enc(runId)}`, OkSchema, { query: { permanent: options.permanent || undefined } }),
    restore: (runId: string) => this.request('POST', `/api/v1/runs/${enc(runId)}/restore`, OkSchema),
    /** Delete, restore or tag many runs in one call (all or nothing). */
    bulk: (action: RunBulk) => this.request('POST', '/api/v1/runs/bulk', RunBulkResultSchema, { body: action }),
    /** Metrics, params and tags in one transaction. */
    logBatch: (runId: string, batch: LogBatch) => this.request('POST', `/api/v1/runs/${enc(runId)}/batch`, OkSchema, { body: batch }),
    deleteTag: (runId: string, key: string) => this.request('DELETE', `/api/v1/runs/${enc(runId)}/tags/${enc(key)}`, OkSchema),
    /** Every logged value of a metric by step; without maxResults the whole history in one answer. NaN arrives as "NaN". */
    metricHistory: (runId: string, key: string, query: { maxResults?: number; pageToken?: string } = {}) =>
      this.request('GET', `/api/v1/runs/${enc(runId)}/metrics/${enc(key)}/history`, MetricHistorySchema, { query }),
    /** Per metric: how many points and over which steps, to tell single values from histories without fetching them. */
    metricPoints: (runId: string) => this.request('GET', `/api/v1/runs/${enc(runId)}/metric-points`, RunMetricPointsSchema),
    /** One metric's history in up to 100 runs at once, each sampled to `maxResults` points (default 2500), in the order asked. */
    metricHistories: (search: MetricHistoriesSearch) => this.request('POST', '/api/v1/runs/metric-histories', MetricHistoriesSchema, { body: search }),
    /** One directory of the run's artifacts ('' is the root). */
    listArtifacts: (runId: string, path = '') => this.request('GET', `/api/v1/runs/${enc(runId)}/artifacts`, ArtifactListSchema, { query: { path } }),
    /** Where an artifact downloads from; the request needs this client's Authorization header, so use downloadArtifact from code. */
    artifactUrl: (runId: string, path: string) => `${this.baseUrl}/api/v1/runs/${enc(runId)}/artifacts/file?path=${enc(path)}`,
    /** The artifact's response, body unread, so callers can stream it, read a prefix or take a Blob. */
    downloadArtifact: (runId: string, path: string, options: { signal?: AbortSignal } = {}) =>
      this.send('GET', `/api/v1/runs/${enc(runId)}/artifacts/file`, { query: { path }, signal: options.signal }),
    /** The MLflow 3 logged models the run made, with flavors, signature, input example and registered versions. */
    loggedModels: (runId: string) => this.request('GET', `/api/v1/runs/${enc(runId)}/logged-models`, LoggedModelListSchema),
    uploadArtifact: (runId: string, path: string, body: RawBody) =>
      this.request('PUT', `/api/v1/runs/${enc(runId)}/artifacts/file`, ArtifactUploadedSchema, { rawBody: body, query: { path } }),
  };

  /** The files of an MLflow 3 logged model (they live under the model, not under its run's artifacts). */
  readonly loggedModels = {
    listArtifacts: (modelId: string, path = '') =>
      this.request('GET', `/api/v1/logged-models/${enc(modelId)}/artifacts`, ArtifactListSchema, { query: { path } }),
    downloadArtifact: (modelId: string, path: string, options: { signal?: AbortSignal } = {}) =>
      this.send('GET', `/api/v1/logged-models/${enc(modelId)}/artifacts/file`, { query: { path }, signal: options.signal }),
  };

  /**
   * Resumable chunked uploads of one artifact file, for files too big to send in one request:
   * start, append each chunk at its offset, complete. After a failure, status().received is where
   * to go on from.
   */
  readonly uploads = {
    start: (runId: string, path: string, size?: number) =>
      this.request('POST', `/api/v1/runs/${enc(runId)}/uploads`, UploadStateSchema, { body: { path, size } }),
    status: (uploadId: string) => this.request('GET', `/api/v1/uploads/${enc(uploadId)}`, UploadStateSchema),
    /** Never retried: a chunk the server took is refused when sent again at the same offset, so resume from status(). */
    append: (uploadId: string, offset: number, chunk: RawBody | ReadableStream<Uint8Array>) =>
      this.request('PUT', `/api/v1/uploads/${enc(uploadId)}`, UploadStateSchema, {
        ...(chunk instanceof ReadableStream ? { stream: chunk } : { rawBody: chunk }),
        query: { offset },
        retries: 0,
      }),
    /** Checks the size (and the SHA-256 when given) and makes the file visible. */
    complete: (uploadId: string, sha256?: string) =>
      this.request('POST', `/api/v1/uploads/${enc(uploadId)}/complete`, UploadCompletedSchema, { body: { sha256 } }),
    abort: (uploadId: string) => this.request('DELETE', `/api/v1/uploads/${enc(uploadId)}`, OkSchema),
  };

  /** The group's model registry (registered models, versions, stages, aliases, approvals). */
  readonly models = {
    create: (model: RegisteredModelCreate) => this.request('POST', '/api/v1/models', RegisteredModelSchema, { body: model }),
    search: (query: ModelSearch = {}) => this.request('POST', '/api/v1/models/search', RegisteredModelPageSchema, { body: query }),
    get: (name: string) => this.request('GET', `/api/v1/models/${enc(name)}`, RegisteredModelSchema),
    update: (name: string, patch: { newName?: string; description?: string }) =>
      this.request('PATCH', `/api/v1/models/${enc(name)}`, RegisteredModelSchema, { body: patch }),
    delete: (name: string) => this.request('DELETE', `/api/v1/models/${enc(name)}`, OkSchema),
    setTag: (name: string, key: string, value: string) => this.request('PUT', `/api/v1/models/${enc(name)}/tags/${enc(key)}`, OkSchema, { body: { value } }),
    deleteTag: (name: string, key: string) => this.request('DELETE', `/api/v1/models/${enc(name)}/tags/${enc(key)}`, OkSchema),
    createVersion: (name: string, version: ModelVersionCreate) =>
      this.request('POST', `/api/v1/models/${enc(name)}/versions`, ModelVersionSchema, { body: version }),
    getVersion: (name: string, version: string | number) =>
      this.request('GET', `/api/v1/models/${enc(name)}/versions/${enc(String(version))}`, ModelVersionSchema),
    updateVersion: (name: string, version: string | number, description: string) =>
      this.request('PATCH', `/api/v1/models/${enc(name)}/versions/${enc(String(version))}`, ModelVersionSchema, { body: { description } }),
    deleteVersion: (name: string, version: string | number) => this.request('DELETE', `/api/v1/models/${enc(name)}/versions/${enc(String(version))}`, OkSchema),
    setVersionTag: (name: string, version: string | number, key: string, value: string) =>
      this.request('PUT', `/api/v1/models/${enc(name)}/versions/${enc(String(version))}/tags/${enc(key)}`, OkSchema, { body: { value } }),
    deleteVersionTag: (name: string, version: string | number, key: string) =>
      this.request('DELETE', `/api/v1/models/${enc(name)}/versions/${enc(String(version))}/tags/${enc(key)}`, OkSchema),
    /** The newest version in each stage (every stage without `stages`). */
    latest: async (name: string, stages?: Stage[]) =>
      (
        await this.request('GET', `/api/v1/models/${enc(name)}/latest`, z.object({ modelVersions: z.array(ModelVersionSchema) }), {
          query: { stages: stages?.join(',') },
        })
      ).modelVersions,
    searchVersions: (query: ModelSearch = {}) => this.request('POST', '/api/v1/model-versions/search', ModelVersionPageSchema, { body: query }),
    /** Moves a version, or opens an approval request when the group gates that stage (see `approvalRequest`). */
    transition: (name: string, version: string | number, stage: Stage, options: { archiveExistingVersions?: boolean; comment?: string } = {}) =>
      this.request('POST', `/api/v1/models/${enc(name)}/versions/${enc(String(version))}/transition`, TransitionResultSchema, {
        body: { stage, archiveExistingVersions: options.archiveExistingVersions ?? false, comment: options.comment },
      }),
    setAlias: (name: string, alias: string, version: string | number) =>
      this.request('PUT', `/api/v1/models/${enc(name)}/aliases/${enc(alias)}`, OkSchema, { body: { version: String(version) } }),
    deleteAlias: (name: string, alias: string) => this.request('DELETE', `/api/v1/models/${enc(name)}/aliases/${enc(alias)}`, OkSchema),
    getAlias: (name: string, alias: string) => this.request('GET', `/api/v1/models/${enc(name)}/aliases/${enc(alias)}`, ModelVersionSchema),
    /** models:/name/3, models:/name/Production, models:/name/latest or models:/name@alias. */
    resolve: (uri: string) => this.request('GET', '/api/v1/models/resolve', ModelVersionSchema, { query: { uri } }),
    timeline: (name: string) => this.request('GET', `/api/v1/models/${enc(name)}/timeline`, TimelineSchema),
    settings: () => this.request('GET', '/api/v1/registry/settings', RegistrySettingsSchema),
    updateSettings: (settings: RegistrySettingsUpdate) => this.request('PUT', '/api/v1/registry/settings', RegistrySettingsSchema, { body: settings }),
    approvals: async (status?: 'pending' | 'approved' | 'rejected' | 'cancelled') =>
      (await this.request('GET', '/api/v1/approvals', ApprovalListSchema, { query: { status } })).items,
    approval: (id: string) => this.request('GET', `/api/v1/approvals/${enc(id)}`, ApprovalRequestSchema),
    decide: (id: string, decision: 'approve' | 'reject', comment?: string) =>
      this.request('POST', `/api/v1/approvals/${enc(id)}/decision`, ApprovalRequestSchema, { body: { decision, comment } }),
  };

  /** Background jobs of the group: read, wait for, tail and cancel. */
  readonly jobs = {
    list: (query: { status?: JobStatus; kind?: string; limit?: number; pageToken?: string } = {}) =>
      this.request('GET', '/api/v1/jobs', JobPageSchema, { query }),
    /** With waitSeconds, the server answers once the job has finished or that long has passed. */
    get: (id: string, options: { waitSeconds?: number } = {}) =>
      this.request('GET', `/api/v1/jobs/${enc(id)}`, JobSchema, { query: { waitSeconds: options.waitSeconds } }),
    logs: (id: string, query: { after?: number; limit?: number } = {}) => this.request('GET', `/api/v1/jobs/${enc(id)}/logs`, JobLogsSchema, { query }),
    cancel: (id: string) => this.request('POST', `/api/v1/jobs/${enc(id)}/cancel`, JobSchema),
    workers: async () => (await this.request('GET', '/api/v1/workers', WorkerListSchema)).workers,
  };

  /** The group's model deployments. */
  readonly deployments = {
    list: async () => (await this.request('GET', '/api/v1/deployments', DeploymentListSchema)).items,
    get: (id: string) => this.request('GET', `/api/v1/deployments/${enc(id)}`, DeploymentSchema),
    /** Files (source, model, requirements, schema, env, extra) and fields (name, kind, entrypoint, pythonVersion, settings) as multipart. */
    upload: (form: FormData) => this.request('POST', '/api/v1/deployments', DeploymentCreatedSchema, { form }),
    fromModel: (body: DeploymentFromModel) => this.request('POST', '/api/v1/deployments/from-model', DeploymentCreatedSchema, { body }),
    /** Changes only the settings sent (inferenceLog's fields too: sending its retention keeps its sample rate). */
    update: (id: string, settings: DeploymentSettingsPatch) =>
      this.request('PATCH', `/api/v1/deployments/${enc(id)}`, DeploymentSchema, { body: { settings } }),
    rebuild: (id: string) => this.request('POST', `/api/v1/deployments/${enc(id)}/rebuild`, DeploymentCreatedSchema),
    disable: (id: string) => this.request('POST', `/api/v1/deployments/${enc(id)}/disable`, DeploymentSchema),
    enable: (id: string) => this.request('POST', `/api/v1/deployments/${enc(id)}/enable`, DeploymentSchema),
    delete: (id: string) => this.request('DELETE', `/api/v1/deployments/${enc(id)}`, OkSchema),
    logs: async (id: string) => (await this.request('GET', `/api/v1/deployments/${enc(id)}/logs`, z.object({ runtime: z.string() }))).runtime,
    stats: (id: string) => this.request('GET', `/api/v1/deployments/${enc(id)}/stats`, DeploymentStatsSchema),
    code: (id: string) => this.request('GET', `/api/v1/deployments/${enc(id)}/code`, PredictCodeSchema),
    /** Calls, errors and latency p50/p95/p99 per minute, hour or day (from/to in ms; the last 24 h by default), from the first call on. */
    usage: (id: string, query: { from?: number; to?: number; step?: UsageStep } = {}) =>
      this.request('GET', `/api/v1/deployments/${enc(id)}/usage`, UsageSeriesSchema, { query }),
    /** The inference log's lake table (read it with `lake`), settings, rows, first and last call, and this server's dropped calls. */
    inferenceLog: (id: string) => this.request('GET', `/api/v1/deployments/${enc(id)}/inference-log`, InferenceLogInfoSchema),
    /** JSON in and out; pass `{ raw, contentType }` to send CSV or Parquet bytes. */
    predict: async (id: string, input: unknown, options: { raw?: RawBody; contentType?: string } = {}): Promise<unknown> => {
      // Not retried: an input that crashes a worker would crash the next ones too.
      const res = await this.send('POST', `/api/v1/deployments/${enc(id)}/predict`, {
        ...(options.raw !== undefined ? { rawBody: options.raw, contentType: options.contentType } : { body: input }),
        retries: 0,
      });
      return safeJson(await res.text());
    },
    /** The URL of a deployment's MLflow `/invocations`, what clients of `mlflow models serve` (and dashboards) post to. */
    invocationsUrl: (id: string) => `${this.baseUrl}/api/v1/deployments/${enc(id)}/invocations`,
    /**
     * Calls MLflow's `/invocations` with a body in one of MLflow's formats and returns the answer as
     * `mlflow models serve` gives it (`{ predictions }`). `dataframe_split` (the default) takes
     * `{ columns, data }` or a list of records; `dataframe_records` records; `inputs` records, columns
     * (`{ x: [1, 2] }`) or a tensor (rows of values); `instances` records or rows; `csv` CSV text with a
     * header row. `params` goes beside the data (not with CSV). MLflow's errors throw a ForjaApiError
     * whose code is MLflow's error_code (400).
     */
    invoke: async (id: string, input: unknown, options: { format?: MlflowFormat; params?: Record<string, unknown> } = {}): Promise<unknown> => {
      const format = options.format ?? 'dataframe_split';
      const path = `/api/v1/deployments/${enc(id)}/invocations`;
      if (format === 'csv') {
        if (typeof input !== 'string') throw new TypeError("format 'csv' takes CSV text with a header row");
        if (options.params) throw new TypeError("MLflow's CSV bodies carry no params: use format 'dataframe_split' with params");
        return safeJson(await (await this.send('POST', path, { rawBody: input, contentType: 'text/csv', retries: 0 })).text());
      }
      const body = {
        [format]: format === 'dataframe_split' && Array.isArray(input) ? splitOf(input as Record<string, unknown>[]) : input,
        ...(options.params ? { params: options.params } : {}),
      };
      return safeJson(await (await this.send('POST', path, { body, retries: 0 })).text());
    },
    /**
     * Starts an async execution on one file (multipart field "input"); 202 with the execution in
     * Requested. A stream is sent once as it is read (with a progress bar, say). Never retried: a
     * second attempt would start a second execution.
     */
    execute: (id: string, file: Blob | ReadableStream<Uint8Array>, name: string) => {
      const path = `/api/v1/deployments/${enc(id)}/executions`;
      if (!(file instanceof ReadableStream)) {
        const form = new FormData();
        form.append('input', file, name);
        return this.request('POST', path, ExecutionSchema, { form, retries: 0 });
      }
      const { stream, contentType } = multipartStream('input', name, file);
      return this.request('POST', path, ExecutionSchema, { stream, contentType, retries: 0 });
    },
    /** Starts an async execution on the rows of a lake table (written as input.parquet or input.csv). */
    executeTable: (id: string, body: z.input<typeof ExecutionFromTableSchema>) =>
      this.request('POST', `/api/v1/deployments/${enc(id)}/executions/from-table`, ExecutionSchema, { body, retries: 0 }),
    /** The deployment's executions, newest first. */
    executions: async (id: string) => (await this.request('GET', `/api/v1/deployments/${enc(id)}/executions`, ExecutionListSchema)).items,
    execution: (id: string, executionId: string) => this.request('GET', `/api/v1/deployments/${enc(id)}/executions/${enc(executionId)}`, ExecutionSchema),
    /** The output file of a succeeded execution, to stream (content-disposition has its name). */
    executionResult: (id: string, executionId: string) => this.send('GET', `/api/v1/deployments/${enc(id)}/executions/${enc(executionId)}/result`),
    /** Waits for the build job, polling with the server's long-poll; the deployment as it ended. */
    waitReady: async (id: string, options: { timeoutMs?: number } = {}) => {
      const deadline = Date.now() + (options.timeoutMs ?? 900_000);
      let dep = await this.deployments.get(id);
      while (dep.status === 'Building' || dep.status === 'Uploaded') {
        if (Date.now() > deadline) throw new Error(`Deployment ${dep.name} is still ${dep.status} after ${(options.timeoutMs ?? 900_000) / 1000} s.`);
        if (dep.buildJobId) await this.jobs.get(dep.buildJobId, { waitSeconds: 20 });
        else await sleep(1000);
        dep = await this.deployments.get(id);
      }
      return dep;
    },
  };

  /** Batch projects: versioned script deploys, runs with parameters, schedules; cluster profiles. */
  /** Lake tables of the client's group: rows travel as Parquet or CSV, never as JSON arrays. */
  readonly lake = {
    tables: async () => (await this.request('GET', '/api/v1/lake/tables', LakeTableListSchema)).items,
    describe: (name: string) => this.request('GET', `/api/v1/lake/tables/${enc(name)}`, LakeTableSchema),
    /** Writes rows (Parquet bytes or CSV text, or a stream of either); mode "fail" (the default) makes a new table. */
    write: (name: string, rows: RawBody | ReadableStream<Uint8Array>, options: LakeWriteQuery & { format?: 'parquet' | 'csv' } = {}) => {
      const { format = 'parquet', ...query } = options;
      const contentType = format === 'csv' ? 'text/csv' : 'application/vnd.apache.parquet';
      const body = rows instanceof ReadableStream ? { stream: rows } : { rawBody: rows };
      // A write is not idempotent: never sent twice.
      return this.request('POST', `/api/v1/lake/tables/${enc(name)}/rows`, LakeWriteResultSchema, { ...body, contentType, query: query as Query, retries: 0 });
    },
    /** One JSON page; pass nextPageToken back as pageToken for the next. */
    rows: (name: string, query: Omit<LakeQuery, 'format'> = {}) =>
      this.request('POST', `/api/v1/lake/tables/${enc(name)}/query`, LakeRowsSchema, { body: { ...query, format: 'json' } }),
    /** The whole read as a Parquet or CSV response to stream (x-forja-rows has the row count). */
    download: (name: string, query: Omit<LakeQuery, 'format'> & { format: 'parquet' | 'csv' }) =>
      this.send('POST', `/api/v1/lake/tables/${enc(name)}/query`, { body: query }),
    rename: (name: string, newName: string) => this.request('PATCH', `/api/v1/lake/tables/${enc(name)}`, LakeTableSchema, { body: { name: newName } }),
    drop: (name: string) => this.request('DELETE', `/api/v1/lake/tables/${enc(name)}`, OkSchema),
    /** Scores Parquet rows with a registered model on the server; the response is Parquet with a PREDICT column. */
    predict: (model: string, parquet: RawBody) =>
      this.send('POST', '/api/v1/lake/predict', { rawBody: parquet, contentType: 'application/vnd.apache.parquet', query: { model }, retries: 0 }),
    batchPredictions: async () => (await this.request('GET', '/api/v1/lake/batch-predictions', LakeBatchPredictionListSchema)).items,
    startBatchPrediction: (body: LakeBatchPredictionCreate) =>
      this.request('POST', '/api/v1/lake/batch-predictions', LakeBatchPredictionSchema, { body, retries: 0 }),
    batchPrediction: (jobId: string) => this.request('GET', `/api/v1/lake/batch-predictions/${enc(jobId)}`, LakeBatchPredictionSchema),
    cancelBatchPrediction: (jobId: string) => this.request('POST', `/api/v1/lake/batch-predictions/${enc(jobId)}/cancel`, LakeBatchPredictionSchema),
  };

  /** Drift per column between a reference and a current sample (Evidently's tests and thresholds by default). */
  readonly drift = {
    /** Two lake tables of the client's group, each with an optional filter and VERSION. */
    tables: (body: DriftTablesRequest) => this.request('POST', '/api/v1/drift', DriftReportSchema, { body }),
    /** Multipart: files "reference" and "current" (Parquet, or CSV named *.csv) and the field "options" (DriftOptions as JSON). */
    files: (form: FormData) => this.request('POST', '/api/v1/drift', DriftReportSchema, { form }),
  };

  readonly batch = {
    projects: async () => (await this.request('GET', '/api/v1/batch/projects', BatchProjectListSchema)).items,
    create: (body: z.input<typeof BatchProjectCreateSchema>) => this.request('POST', '/api/v1/batch/projects', BatchProjectSchema, { body }),
    get: (name: string) => this.request('GET', `/api/v1/batch/projects/${enc(name)}`, BatchProjectSchema),
    update: (name: string, patch: z.input<typeof BatchProjectUpdateSchema>) =>
      this.request('PATCH', `/api/v1/batch/projects/${enc(name)}`, BatchProjectSchema, { body: patch }),
    delete: (name: string) => this.request('DELETE', `/api/v1/batch/projects/${enc(name)}`, OkSchema),
    /** Multipart: "source" (.py), optional "requirements", field pythonVersion. */
    deploy: (name: string, form: FormData) =>
      this.request('POST', `/api/v1/batch/projects/${enc(name)}/deploys`, z.object({ deploy: BatchDeploySchema, buildJobId: z.string() }), { form }),
    deploys: async (name: string) => (await this.request('GET', `/api/v1/batch/projects/${enc(name)}/deploys`, BatchDeployListSchema)).items,
    run: (name: string, body: BatchRunCreate = {}) => this.request('POST', `/api/v1/batch/projects/${enc(name)}/runs`, BatchRunSchema, { body }),
    runs: async (name: string) => (await this.request('GET', `/api/v1/batch/projects/${enc(name)}/runs`, BatchRunListSchema)).items,
    getRun: (name: string, runId: string) => this.request('GET', `/api/v1/batch/projects/${enc(name)}/runs/${enc(runId)}`, BatchRunSchema),
    cancelRun: (name: string, runId: string) => this.request('POST', `/api/v1/batch/projects/${enc(name)}/runs/${enc(runId)}/cancel`, BatchRunSchema),
    schedule: (name: string, body: ScheduleCreate) => this.request('POST', `/api/v1/batch/projects/${enc(name)}/schedules`, ScheduleSchema, { body }),
    schedules: async (name?: string) =>
      (await this.request('GET', name ? `/api/v1/batch/projects/${enc(name)}/schedules` : '/api/v1/schedules', ScheduleListSchema)).items,
    updateSchedule: (id: string, patch: z.input<typeof ScheduleUpdateSchema>) =>
      this.request('PATCH', `/api/v1/schedules/${enc(id)}`, ScheduleSchema, { body: patch }),
    deleteSchedule: (id: string) => this.request('DELETE', `/api/v1/schedules/${enc(id)}`, OkSchema),
    clusters: async () => (await this.request('GET', '/api/v1/clusters', ClusterProfileListSchema)).items,
  };

  /** Training runs (MLOps Codex custom training): train_model(df, base_path) as a job, then promote it. */
  readonly training = {
    /** Files source (.py), data (.csv/.parquet) or the field table (+ filter), requirements, repeated extra; fields experimentName, runName, description, modelType, trainFunction, pythonVersion, timeoutSeconds. */
    start: (form: FormData) => this.request('POST', '/api/v1/training/runs', TrainingRunSchema, { form, retries: 0 }),
    list: async () => (await this.request('GET', '/api/v1/training/runs', TrainingRunListSchema)).items,
    get: (id: string) => this.request('GET', `/api/v1/training/runs/${enc(id)}`, TrainingRunSchema),
    cancel: (id: string) => this.request('POST', `/api/v1/training/runs/${enc(id)}/cancel`, TrainingRunSchema),
    /** A registered model version of a succeeded run, and a deployment of it with `deploy`. */
    promote: (id: string, body: TrainingPromote) =>
      this.request('POST', `/api/v1/training/runs/${enc(id)}/promote`, TrainingPromotedSchema, { body, retries: 0 }),
  };

  /** Pipelines of the group: a YAML DAG of scripts and platform actions, run step by step as jobs. */
  readonly pipelines = {
    /** Multipart: "definition" = the YAML, repeated "file" = each file it names. Each upload is a new version. */
    upload: (name: string, form: FormData) => this.request('PUT', `/api/v1/pipelines/${enc(name)}`, PipelineSchema, { form, retries: 0 }),
    list: async () => (await this.request('GET', '/api/v1/pipelines', PipelineListSchema)).items,
    get: (name: string) => this.request('GET', `/api/v1/pipelines/${enc(name)}`, PipelineSchema),
    /** Starts a run (202); `fromStep` reruns that step and what depends on it, reusing earlier outputs. */
    run: (name: string, body: PipelineRunCreate = {}) => this.request('POST', `/api/v1/pipelines/${enc(name)}/runs`, PipelineRunSchema, { body, retries: 0 }),
    /** The pipeline's runs, newest first. */
    runs: async (name: string) => (await this.request('GET', `/api/v1/pipelines/${enc(name)}/runs`, PipelineRunListSchema)).items,
    getRun: (runId: string) => this.request('GET', `/api/v1/pipeline-runs/${enc(runId)}`, PipelineRunSchema),
    cancelRun: (runId: string) => this.request('POST', `/api/v1/pipeline-runs/${enc(runId)}/cancel`, PipelineRunSchema),
    /** Runs the failed, skipped and cancelled steps of a finished run again (202). */
    retryRun: (runId: string) => this.request('POST', `/api/v1/pipeline-runs/${enc(runId)}/retry`, PipelineRunSchema, { retries: 0 }),
  };

  /** Monitors: a deployment's inference log (or a lake table) compared with a reference, window by window. */
  readonly monitors = {
    list: async (query: { deployment?: string } = {}) => (await this.request('GET', '/api/v1/monitors', MonitorListSchema, { query })).items,
    create: (body: MonitorCreate) => this.request('POST', '/api/v1/monitors', MonitorSchema, { body, retries: 0 }),
    /** From MLOps Codex's configuration.json: JSON, or a form with the "configuration" file (and a "data" file, the training data). */
    createFromCodex: (body: CodexMonitorCreate | FormData) =>
      body instanceof FormData
        ? this.request('POST', '/api/v1/monitors/codex', MonitorSchema, { form: body, retries: 0 })
        : this.request('POST', '/api/v1/monitors/codex', MonitorSchema, { body, retries: 0 }),
    get: (idOrName: string) => this.request('GET', `/api/v1/monitors/${enc(idOrName)}`, MonitorSchema),
    update: (idOrName: string, patch: MonitorUpdate) => this.request('PATCH', `/api/v1/monitors/${enc(idOrName)}`, MonitorSchema, { body: patch }),
    delete: (idOrName: string) => this.request('DELETE', `/api/v1/monitors/${enc(idOrName)}`, OkSchema),
    /** The reference rows as a file (Parquet or CSV): kept in the lake as monitor_ref_<id>. */
    uploadReference: (idOrName: string, file: Blob, filename: string) => {
      const form = new FormData();
      form.append('data', file, filename);
      return this.request('POST', `/api/v1/monitors/${enc(idOrName)}/reference`, MonitorSchema, { form, retries: 0 });
    },
    /** Runs now (202): the last full window, `{ now: true }` for the current one so far, or `{ from, to }`. */
    run: (idOrName: string, body: MonitorRunRequest = {}) =>
      this.request('POST', `/api/v1/monitors/${enc(idOrName)}/runs`, MonitorRunSchema, { body, retries: 0 }),
    runs: (idOrName: string, query: { limit?: number; pageToken?: string } = {}) =>
      this.request('GET', `/api/v1/monitors/${enc(idOrName)}/runs`, MonitorRunPageSchema, { query }),
    getRun: (idOrName: string, runId: string) => this.request('GET', `/api/v1/monitors/${enc(idOrName)}/runs/${enc(runId)}`, MonitorRunSchema),
    /** Metric series by window end; names comma-separated or a list, `drift.*` for a prefix. */
    metrics: (idOrName: string, query: { names?: string | string[]; from?: number; to?: number } = {}) =>
      this.request('GET', `/api/v1/monitors/${enc(idOrName)}/metrics`, MonitorMetricSeriesSchema, {
        query: { ...query, names: Array.isArray(query.names) ? query.names.join(',') : query.names },
      }),
    /** A finished run's shareable report: one HTML file with its charts inline (no script), to save or stream; 409 while the run is queued or running. */
    report: (idOrName: string, runId: string) => this.send('GET', `/api/v1/monitors/${enc(idOrName)}/runs/${enc(runId)}/report.html`),
  };

  /** The group's registry webhooks (group admins). */
  readonly webhooks = {
    list: async () => (await this.request('GET', '/api/v1/webhooks', WebhookListSchema)).items,
    /** The signing secret is in the answer once, never again. */
    create: (hook: WebhookCreate) => this.request('POST', '/api/v1/webhooks', WebhookWithSecretSchema, { body: hook }),
    get: (id: string) => this.request('GET', `/api/v1/webhooks/${enc(id)}`, WebhookSchema),
    update: (id: string, patch: WebhookUpdate) =>
      this.request('PATCH', `/api/v1/webhooks/${enc(id)}`, WebhookSchema.extend({ secret: z.string().optional() }), { body: patch }),
    delete: (id: string) => this.request('DELETE', `/api/v1/webhooks/${enc(id)}`, OkSchema),
    deliveries: (id: string, query: { limit?: number; pageToken?: string } = {}) =>
      this.request('GET', `/api/v1/webhooks/${enc(id)}/deliveries`, WebhookDeliveryPageSchema, { query }),
    ping: (id: string) => this.request('POST', `/api/v1/webhooks/${enc(id)}/ping`, WebhookDeliverySchema),
    redeliver: (id: string, deliveryId: string) =>
      this.request('POST', `/api/v1/webhooks/${enc(id)}/deliveries/${enc(deliveryId)}/redeliver`, WebhookDeliverySchema),
  };

  /** Alert rules of monitors and the alerts they fired (issue 17). */
  readonly alerts = {
    list: (query: { status?: 'open' | 'acknowledged' | 'resolved'; monitor?: string; limit?: number; pageToken?: string } = {}) =>
      this.request('GET', '/api/v1/alerts', AlertPageSchema, { query }),
    get: (id: string) => this.request('GET', `/api/v1/alerts/${enc(id)}`, AlertSchema),
    /** Open → acknowledged; a 409 when it is not open. */
    acknowledge: (id: string, note?: string) =>
      this.request('POST', `/api/v1/alerts/${enc(id)}/acknowledge`, AlertSchema, { body: note === undefined ? {} : { note } }),
    /** Open or acknowledged → resolved; a 409 when already resolved. */
    resolve: (id: string, note?: string) =>
      this.request('POST', `/api/v1/alerts/${enc(id)}/resolve`, AlertSchema, { body: note === undefined ? {} : { note } }),
    rules: async (monitorId: string) => (await this.request('GET', `/api/v1/monitors/${enc(monitorId)}/alert-rules`, AlertRuleListSchema)).items,
    getRule: (monitorId: string, ruleId: string) => this.request('GET', `/api/v1/monitors/${enc(monitorId)}/alert-rules/${enc(ruleId)}`, AlertRuleSchema),
    createRule: (monitorId: string, rule: AlertRuleCreate) =>
      this.request('POST', `/api/v1/monitors/${enc(monitorId)}/alert-rules`, AlertRuleSchema, { body: rule }),
    updateRule: (monitorId: string, ruleId: string, patch: AlertRuleUpdate) =>
      this.request('PATCH', `/api/v1/monitors/${enc(monitorId)}/alert-rules/${enc(ruleId)}`, AlertRuleSchema, { body: patch }),
    deleteRule: (monitorId: string, ruleId: string) => this.request('DELETE', `/api/v1/monitors/${enc(monitorId)}/alert-rules/${enc(ruleId)}`, OkSchema),
  };

  /** Ground truth for logged predictions, and performance computed against labels (issue 17). */
  readonly labels = {
    /** By request id and row, by a key column of the logged inputs, or from a lake table. */
    post: (deploymentId: string, labels: LabelsPost) =>
      this.request('POST', `/api/v1/deployments/${enc(deploymentId)}/labels`, LabelsResultSchema, { body: labels }),
    /** Classifier or regressor metrics of predictions against labels (inline or a lake table), with degradations against a baseline. */
    performance: (request: PerformanceRequest) => this.request('POST', '/api/v1/performance', PerformanceReportSchema, { body: request }),
  };

  audit(query: { group?: string; actor?: string; token?: string; action?: string; limit?: number; pageToken?: string } = {}) {
    return this.request('GET', '/api/v1/audit', AuditListSchema, { query });
  }
}

const enc = encodeURIComponent;

/** A multipart/form-data body of one file field, streamed: the file is read as it is sent. */
function multipartStream(field: string, filename: string, file: ReadableStream<Uint8Array>): { stream: ReadableStream<Uint8Array>; contentType: string } {
  const boundary = `----forja${Math.random().toString(16).slice(2)}${Date.now().toString(16)}`;
  // The quoted-string form browsers use: quotes and line breaks escaped, the rest as UTF-8.
  const quoted = (v: string) => v.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
  const utf8 = new TextEncoder();
  const head = utf8.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(field)}"; filename="${quoted(filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = utf8.encode(`\r\n--${boundary}--\r\n`);
  const reader = file.getReader();
  let started = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(head);
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        controller.enqueue(tail);
        controller.close();
      } else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { stream, contentType: `multipart/form-data; boundary=${boundary}` };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const backoff = (attempt: number) => Math.min(2000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2);

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** MLflow's /invocations body formats (the key the data goes under), and CSV. */
export type MlflowFormat = 'dataframe_split' | 'dataframe_records' | 'instances' | 'inputs' | 'csv';

/** Records as MLflow's dataframe_split: the columns in first-seen order, one row of values per record. */
function splitOf(records: Record<string, unknown>[]): { columns: string[]; data: unknown[][] } {
  const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
  return { columns, data: records.map((r) => columns.map((c) => r[c] ?? null)) };
}
