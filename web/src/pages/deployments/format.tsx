import { Link } from 'react-router';
import type { Deployment, DeploymentSettings, DeploymentStatus } from '@forja/contracts';
import { Badge, type Tone } from '../../components/ui';
import { modelPath } from '../models/format';
import { formatDuration } from '../tracking/format';

/** Query keys of the deployment pages. Deployments belong to a group, so every key starts with it; ['deployments'] refreshes them all. */
export const deploymentKeys = {
  list: (group: string | undefined) => ['deployments', group ?? '', 'list'] as const,
  one: (group: string | undefined, id: string) => ['deployments', group ?? '', 'one', id] as const,
  logs: (group: string | undefined, id: string) => ['deployments', group ?? '', 'one', id, 'logs'] as const,
  stats: (group: string | undefined, id: string) => ['deployments', group ?? '', 'one', id, 'stats'] as const,
  code: (group: string | undefined, id: string) => ['deployments', group ?? '', 'one', id, 'code'] as const,
};

const statusTone: Record<DeploymentStatus, Tone> = { Uploaded: 'amber', Building: 'blue', Deployed: 'green', Failed: 'red', Disabled: 'neutral' };
const statusHelp: Record<DeploymentStatus, string> = {
  Uploaded: 'Files uploaded, not built yet',
  Building: 'Being built: environment, model load and a test call',
  Deployed: 'Answering predictions',
  Failed: 'The build failed: see its message and build log',
  Disabled: 'Turned off: predictions answer 409 until it is enabled',
};

export function DeploymentStatusBadge({ status }: { status: DeploymentStatus }) {
  return (
    <span data-testid="deployment-status" data-status={status} className="deployment-status">
      <Badge tone={statusTone[status]} title={statusHelp[status]}>
        {status === 'Building' && <span className="spinner spinner-inline" aria-hidden="true" />}
        {status}
      </Badge>
    </span>
  );
}

/** Still changing on its own: pages showing it poll until it settles. */
export const isSettling = (status: DeploymentStatus) => status === 'Building';

export const kindLabel: Record<Deployment['kind'], string> = { script: 'script', pyfunc: 'MLflow pyfunc', pickle: 'pickle' };
export const kindText = (d: Pick<Deployment, 'kind' | 'predictMethod'>) =>
  d.kind === 'pickle' ? `${kindLabel.pickle} · ${d.predictMethod}` : kindLabel[d.kind];

/** The registered model a `models:/name@alias`, `models:/name/3` or `models:/name/Stage` URI names. */
export function modelNameOf(source: string): string | null {
  if (!source.startsWith('models:/')) return null;
  const name = source.slice('models:/'.length).split(/[/@]/, 1)[0];
  return name ? name : null;
}

/** Where the model came from: uploaded files, or a link to the registered model (at the version it resolved to). */
export function SourceCell({ deployment: d }: { deployment: Pick<Deployment, 'source' | 'modelVersion'> }) {
  const name = d.modelVersion?.name ?? modelNameOf(d.source);
  if (!name) return <span className="muted">{d.source === 'files' ? 'uploaded files' : d.source}</span>;
  const to = d.modelVersion ? `${modelPath(name)}?version=${encodeURIComponent(d.modelVersion.version)}` : modelPath(name);
  return (
    <span className="deployment-source">
      <Link to={to} className="mono" data-testid="deployment-source-link">
        {d.source}
      </Link>
      {d.modelVersion && <span className="muted small"> · v{d.modelVersion.version}</span>}
    </span>
  );
}

export function settingsText(s: DeploymentSettings): string {
  const workers = s.minWorkers === s.maxWorkers ? `${s.maxWorkers}` : `${s.minWorkers}–${s.maxWorkers}`;
  return `${workers} worker${s.maxWorkers === 1 ? '' : 's'} · timeout ${formatDuration(s.timeoutMs)} · queue ${s.maxQueue} · batch ${s.maxBatch} · ${s.memoryMb} MB each${s.network ? ' · network allowed' : ''}${s.public ? ' · public' : ''}`;
}

export const deploymentPath = (id: string) => `/deployments/${encodeURIComponent(id)}`;

export const DEPLOYMENTS = { to: '/deployments', label: 'Deployments' };
