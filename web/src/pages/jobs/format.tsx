import type { Job, JobStatus } from '@forja/contracts';
import { Badge, type Tone } from '../../components/ui';

export { jobKeys, jobPath } from '../../jobs';

const statusTone: Record<JobStatus, Tone> = { queued: 'neutral', running: 'blue', succeeded: 'green', failed: 'red', cancelled: 'muted' };

export function JobStatusBadge({ status }: { status: JobStatus }) {
  return (
    <span data-testid="job-status" data-status={status}>
      <Badge tone={statusTone[status]}>{status}</Badge>
    </span>
  );
}

export const isActive = (status: JobStatus) => status === 'queued' || status === 'running';

/** How long the last attempt took, or has taken so far while running. */
export function jobDuration(job: Pick<Job, 'startedAt' | 'finishedAt' | 'status'>, now = Date.now()): number | null {
  if (job.startedAt === null) return null;
  if (job.finishedAt !== null) return job.finishedAt - job.startedAt;
  return job.status === 'running' ? now - job.startedAt : null;
}

export const firstLine = (text: string | null) => (text ? (text.split('\n', 1)[0] ?? '') : '');

export const JOBS = { to: '/jobs', label: 'Jobs' };
