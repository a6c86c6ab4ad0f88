import type { TrainingRun } from '@forja/contracts';
import { Badge, type Tone } from '../../components/ui';

export { TrainingIcon } from '../../components/icons';

/** Query keys of the training pages; runs belong to a group, so every key starts with it. */
export const trainingKeys = {
  list: (group: string | undefined) => ['training', group ?? '', 'list'] as const,
  one: (group: string | undefined, id: string) => ['training', group ?? '', 'run', id] as const,
};

export const trainingPath = (id: string) => `/training/${encodeURIComponent(id)}`;
export const TRAINING = { to: '/training', label: 'Training' };
export const LIVE_REFRESH_MS = 2000;

const tone: Record<TrainingRun['status'], Tone> = { queued: 'neutral', running: 'blue', succeeded: 'green', failed: 'red', cancelled: 'muted' };
const label: Record<TrainingRun['status'], string> = { queued: 'Queued', running: 'Running', succeeded: 'Succeeded', failed: 'Failed', cancelled: 'Cancelled' };

export function TrainingStatusBadge({ status }: { status: TrainingRun['status'] }) {
  return (
    <span data-testid="training-status" data-status={status} className="tr-status">
      <Badge tone={tone[status]}>
        {status === 'running' && <span className="spinner spinner-inline" aria-hidden="true" />}
        {label[status]}
      </Badge>
    </span>
  );
}

export const isActive = (r: Pick<TrainingRun, 'status'>) => r.status === 'queued' || r.status === 'running';

const number = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });
export const formatMetric = (v: number) => (Number.isInteger(v) ? String(v) : number.format(v));

/** Where the data came from, in one line: the file, or the lake table and its filter. */
export function dataText(d: TrainingRun['data']): string {
  if (d.table) return d.filter ? `${d.table} where ${d.filter}` : d.table;
  return d.file ?? '—';
}
