import type { BatchDeploy, BatchRun, ClusterProfile } from '@forja/contracts';
import { Badge, type Tone } from '../../components/ui';

export { ProjectIcon } from '../../components/icons';

/** Query keys of the batch project pages. Projects belong to a group, so every key starts with it; ['batch'] refreshes them all. */
export const projectKeys = {
  list: (group: string | undefined) => ['batch', group ?? '', 'projects'] as const,
  /** Every schedule of the group, for the counts of the list. */
  allSchedules: (group: string | undefined) => ['batch', group ?? '', 'schedules'] as const,
  one: (group: string | undefined, name: string) => ['batch', group ?? '', 'project', name] as const,
  deploys: (group: string | undefined, name: string) => ['batch', group ?? '', 'project', name, 'deploys'] as const,
  runs: (group: string | undefined, name: string) => ['batch', group ?? '', 'project', name, 'runs'] as const,
  schedules: (group: string | undefined, name: string) => ['batch', group ?? '', 'project', name, 'schedules'] as const,
  clusters: ['clusters'] as const,
};

export const projectPath = (name: string) => `/projects/${encodeURIComponent(name)}`;
export const PROJECTS = { to: '/projects', label: 'Projects' };

/** While anything builds or runs the lists follow it, every 2 s; settled lists do not change on their own. */
export const LIVE_REFRESH_MS = 2000;

const deployTone: Record<BatchDeploy['status'], Tone> = { Building: 'blue', Ready: 'green', Failed: 'red' };
const deployHelp: Record<BatchDeploy['status'], string> = {
  Building: 'Its Python environment is being built',
  Ready: 'Built: runs can use it',
  Failed: 'The build failed: see its message and build log',
};

export function DeployStatusBadge({ status }: { status: BatchDeploy['status'] }) {
  return (
    <span data-testid="deploy-status" data-status={status} className="project-status">
      <Badge tone={deployTone[status]} title={deployHelp[status]}>
        {status === 'Building' && <span className="spinner spinner-inline" aria-hidden="true" />}
        {status}
      </Badge>
    </span>
  );
}

const runTone: Record<BatchRun['status'], Tone> = { queued: 'neutral', running: 'blue', succeeded: 'green', failed: 'red', cancelled: 'muted' };
const runLabel: Record<BatchRun['status'], string> = { queued: 'Queued', running: 'Running', succeeded: 'Succeeded', failed: 'Failed', cancelled: 'Cancelled' };

export function RunStatusBadge({ status }: { status: BatchRun['status'] }) {
  return (
    <span data-testid="run-status" data-status={status} className="project-status">
      <Badge tone={runTone[status]}>
        {status === 'running' && <span className="spinner spinner-inline" aria-hidden="true" />}
        {runLabel[status]}
      </Badge>
    </span>
  );
}

export const isRunActive = (r: Pick<BatchRun, 'status'>) => r.status === 'queued' || r.status === 'running';

/** How long the run took, or has taken so far. */
export function runDuration(r: Pick<BatchRun, 'startedAt' | 'finishedAt' | 'status'>, now = Date.now()): number | null {
  if (r.startedAt === null) return null;
  if (r.finishedAt !== null) return r.finishedAt - r.startedAt;
  return r.status === 'running' ? now - r.startedAt : null;
}

/** "exit 3" from the server's "The process exited with code 3. Last lines: …"; otherwise the error's first line. */
export function exitText(r: Pick<BatchRun, 'status' | 'error'>): { short: string; isError: boolean } | null {
  if (r.status === 'succeeded') return { short: 'exit 0', isError: false };
  if (!r.error) return null;
  const code = /exited with code (-?\d+)/.exec(r.error);
  if (code) return { short: `exit ${code[1]}`, isError: true };
  return { short: r.error.split('\n', 1)[0] ?? '', isError: true };
}

/** Params as one compact line for a table cell. */
export function paramsText(params: Record<string, unknown>): string {
  const keys = Object.keys(params);
  if (keys.length === 0) return '';
  return JSON.stringify(params);
}

export const profileText = (p: Pick<ClusterProfile, 'cpus' | 'memoryMb' | 'parallelRuns'>) =>
  `${p.cpus} CPU${p.cpus === 1 ? '' : 's'} · ${formatMemory(p.memoryMb)} · ${p.parallelRuns} parallel run${p.parallelRuns === 1 ? '' : 's'}`;

export function formatMemory(mb: number): string {
  if (mb >= 1024 && mb % 1024 === 0) return `${mb / 1024} GB`;
  if (mb >= 1024) return `${(mb / 1024).toFixed(1)} GB`;
  return `${mb} MB`;
}

/** Parses the JSON object of a textarea: {} when empty, an error message when it is not a JSON object. */
export function parseParams(text: string): { value?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return { value: {} };
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'Parameters must be a JSON object, e.g. {"date": "2026-01-31"}' };
    return { value: v as Record<string, unknown> };
  } catch (err) {
    return { error: `Not valid JSON: ${(err as Error).message}` };
  }
}
