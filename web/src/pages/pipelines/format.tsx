import type { PipelineRun, PipelineRunStep } from '@forja/contracts';
import { Badge, type Tone } from '../../components/ui';

export { PipelineIcon } from '../../components/icons';

/** Query keys of the pipeline pages. Pipelines belong to a group, so every key starts with it; ['pipelines'] refreshes them all. */
export const pipelineKeys = {
  list: (group: string | undefined) => ['pipelines', group ?? '', 'list'] as const,
  one: (group: string | undefined, name: string) => ['pipelines', group ?? '', 'pipeline', name] as const,
  runs: (group: string | undefined, name: string) => ['pipelines', group ?? '', 'pipeline', name, 'runs'] as const,
  run: (group: string | undefined, runId: string) => ['pipelines', group ?? '', 'run', runId] as const,
};

export const pipelinePath = (name: string) => `/pipelines/${encodeURIComponent(name)}`;
export const pipelineRunPath = (name: string, runId: string, step?: string) =>
  `/pipelines/${encodeURIComponent(name)}/runs/${encodeURIComponent(runId)}${step ? `?step=${encodeURIComponent(step)}` : ''}`;
export const PIPELINES = { to: '/pipelines', label: 'Pipelines' };

/** While a run runs, the pages showing it follow it every 2 s. */
export const LIVE_REFRESH_MS = 2000;

type RunStatus = PipelineRun['status'];
export type StepStatus = PipelineRunStep['status'];

const runTone: Record<RunStatus, Tone> = { running: 'blue', succeeded: 'green', failed: 'red', cancelled: 'muted' };
const runLabel: Record<RunStatus, string> = { running: 'Running', succeeded: 'Succeeded', failed: 'Failed', cancelled: 'Cancelled' };

export function PipelineRunStatusBadge({ status }: { status: RunStatus }) {
  return (
    <span data-testid="pipeline-run-status" data-status={status} className="pl-status">
      <Badge tone={runTone[status]}>
        {status === 'running' && <span className="spinner spinner-inline" aria-hidden="true" />}
        {runLabel[status]}
      </Badge>
    </span>
  );
}

export const stepTone: Record<StepStatus, Tone> = {
  pending: 'neutral',
  queued: 'neutral',
  running: 'blue',
  succeeded: 'green',
  failed: 'red',
  skipped: 'amber',
  cancelled: 'muted',
  reused: 'accent',
};
export const stepLabel: Record<StepStatus, string> = {
  pending: 'Pending',
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  skipped: 'Skipped',
  cancelled: 'Cancelled',
  reused: 'Reused',
};
export const stepHelp: Record<StepStatus, string> = {
  pending: 'Waits for the steps it needs',
  queued: 'Its job waits for a worker',
  running: 'Its job is running',
  succeeded: 'Done: its outputs are available to the steps after it',
  failed: 'Its job failed: see the error and the log',
  skipped: 'Not run: a step it needs did not succeed',
  cancelled: 'The run was cancelled before it finished',
  reused: "Not run: its outputs come from the pipeline's last succeeded run",
};

export function StepStatusBadge({ status }: { status: StepStatus }) {
  return (
    <span data-testid="step-status" data-status={status} className="pl-status">
      <Badge tone={stepTone[status]} title={stepHelp[status]}>
        {status === 'running' && <span className="spinner spinner-inline" aria-hidden="true" />}
        {stepLabel[status]}
      </Badge>
    </span>
  );
}

export const isRunActive = (r: Pick<PipelineRun, 'status'>) => r.status === 'running';

/** How long the run took, or has taken so far. */
export function runDuration(r: Pick<PipelineRun, 'createdAt' | 'finishedAt' | 'status'>, now = Date.now()): number | null {
  if (r.finishedAt !== null) return r.finishedAt - r.createdAt;
  return r.status === 'running' ? now - r.createdAt : null;
}

export function stepDuration(s: Pick<PipelineRunStep, 'startedAt' | 'finishedAt' | 'status'>, now = Date.now()): number | null {
  if (s.startedAt === null) return null;
  if (s.finishedAt !== null) return s.finishedAt - s.startedAt;
  return s.status === 'running' ? now - s.startedAt : null;
}

/** Parses the JSON object of a textarea: {} when empty, an error message when it is not a JSON object. */
export function parseParams(text: string): { value?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return { value: {} };
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'Parameters must be a JSON object, e.g. {"day": "2026-01-31"}' };
    return { value: v as Record<string, unknown> };
  } catch (err) {
    return { error: `Not valid JSON: ${(err as Error).message}` };
  }
}

/** The step counts of a run, in the order a reader cares about: "2 succeeded · 1 failed". */
export function stepSummary(steps: PipelineRunStep[]): string {
  const counts = new Map<StepStatus, number>();
  for (const s of steps) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  const order: StepStatus[] = ['running', 'queued', 'pending', 'succeeded', 'reused', 'failed', 'skipped', 'cancelled'];
  return order
    .filter((st) => counts.has(st))
    .map((st) => `${counts.get(st)} ${st}`)
    .join(' · ');
}
