import { LakeBatchPredictionCreateSchema } from '@forja/contracts';
import { z } from 'zod';

/**
 * What a worker process has beyond running code. A kind that needs one is dispatched only to
 * engines created with it, so an engine never claims a job it cannot run.
 * - `lake`: the lake opens here (the server's DuckDB file opens only in the server; a PostgreSQL
 *   lake, FORJA_LAKE_URL, opens everywhere).
 */
export const CAPABILITIES = ['lake'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface JobDefinition {
  /** The job's parameters, checked when it is queued and parsed again when a worker claims it. */
  payload: z.ZodType<Record<string, unknown>>;
  /** Callers may pass their own where the user chooses the limit (training, batch runs). */
  timeoutMs: number;
  maxAttempts: number;
  /** First retry delay (doubling each time); the engine's default when absent. */
  backoffMs?: number;
  needs?: Capability;
}

const Id = z.string().min(1);

/** A registered model version laid out on the server, ready to load in its environment. */
export const StagedModelSchema = z.object({
  name: z.string(),
  version: z.string(),
  kind: z.enum(['pyfunc', 'pickle']),
  path: z.string(),
  requirements: z.string(),
});

/** Every job kind the platform queues, declared once: what it carries, how long and how often it may run, and where. */
export const JOB_CATALOG = {
  'webhook.deliver': {
    payload: z.object({ deliveryId: Id, webhook: z.string() }),
    timeoutMs: 30_000,
    // Six attempts; with the default 10 s first wait (the server's setting), over about five minutes (10, 20, 40, 80, 160 s).
    maxAttempts: 6,
  },
  'deployment.build': { payload: z.object({ deploymentId: Id, name: z.string(), note: z.string().max(2000).optional() }), timeoutMs: 3600_000, maxAttempts: 1 },
  // Two attempts: a worker that dies mid-run gets one retry, which adopts a finished result.
  'deployment.execute': { payload: z.object({ executionId: Id, deploymentId: Id }), timeoutMs: 6 * 3600_000, maxAttempts: 2, backoffMs: 1000 },
  'batch.build': { payload: z.object({ projectId: Id, version: z.number().int(), project: z.string() }), timeoutMs: 3600_000, maxAttempts: 1 },
  'batch.run': {
    payload: z.object({ runId: Id, projectId: Id, project: z.string(), version: z.number().int(), params: z.record(z.string(), z.unknown()).default({}) }),
    timeoutMs: 3600_000,
    maxAttempts: 1,
  },
  'lake.batch_predict': {
    payload: LakeBatchPredictionCreateSchema.extend({ staged: StagedModelSchema }),
    timeoutMs: 6 * 3600_000,
    maxAttempts: 2,
    needs: 'lake',
  },
  'training.run': { payload: z.object({ trainingId: Id, group: z.string() }), timeoutMs: 3600_000, maxAttempts: 1 },
  'pipeline.step': { payload: z.object({ runId: Id, stepId: z.string() }), timeoutMs: 24 * 3600_000, maxAttempts: 1 },
  // A monitor's look at one window: reads the lake (reference and window exports), so it runs where the lake opens.
  'monitor.run': { payload: z.object({ runId: Id, monitorId: Id }), timeoutMs: 3600_000, maxAttempts: 2, backoffMs: 5000, needs: 'lake' },
} satisfies Record<string, JobDefinition>;

export type JobKind = keyof typeof JOB_CATALOG;

/**
 * What a handler of kind K reads. Kinds outside the catalog (tests' and benches' own) carry plain,
 * unchecked parameters and need no capability.
 */
export type JobPayload<K extends string> = K extends JobKind ? z.output<(typeof JOB_CATALOG)[K]['payload']> : Record<string, unknown>;
/** What a caller queuing a job of kind K passes (defaults not yet applied). */
export type JobPayloadInput<K extends string> = K extends JobKind ? z.input<(typeof JOB_CATALOG)[K]['payload']> : Record<string, unknown>;

export function definitionOf(kind: string): JobDefinition | undefined {
  return Object.hasOwn(JOB_CATALOG, kind) ? JOB_CATALOG[kind as JobKind] : undefined;
}

/** The catalog's kinds that an engine with these capabilities must leave to others. */
export function kindsBeyond(capabilities: ReadonlySet<Capability>): string[] {
  return Object.entries(JOB_CATALOG as Record<string, JobDefinition>)
    .filter(([, d]) => d.needs !== undefined && !capabilities.has(d.needs))
    .map(([kind]) => kind);
}

/**
 * Parses a payload by its kind's schema; the message names the first bad field. Kinds outside the
 * catalog pass through as they are.
 */
export function parsePayload<K extends string>(kind: K, value: unknown): { ok: true; payload: JobPayload<K> } | { ok: false; message: string } {
  const def = definitionOf(kind);
  if (!def) return { ok: true, payload: (value ?? {}) as JobPayload<K> };
  const r = def.payload.safeParse(value);
  if (r.success) return { ok: true, payload: r.data as JobPayload<K> };
  const issue = r.error.issues[0]!;
  return { ok: false, message: `${issue.path.length ? `"${issue.path.join('.')}"` : 'the parameters'}: ${issue.message}` };
}

/** A stored job's parameters (the row's JSON), parsed by its kind's schema; throws saying why they do not fit. */
export function readPayload<K extends string>(kind: K, params: string): JobPayload<K> {
  let raw: unknown;
  try {
    raw = JSON.parse(params);
  } catch {
    throw new Error(`The job's parameters are not JSON; it cannot run.`);
  }
  const parsed = parsePayload(kind, raw);
  if (!parsed.ok) throw new Error(`The job's parameters do not fit a ${kind} job (${parsed.message}); it cannot run.`);
  return parsed.payload;
}
