import { Link } from 'react-router';
import type { JobOwner } from '@forja/contracts';
import { deploymentPath } from '../deployments/format';
import { lakeTablePath } from '../lake/format';
import { monitorRunPath } from '../monitoring/format';
import { pipelineRunPath } from '../pipelines/format';
import { projectPath } from '../projects/format';
import { trainingPath } from '../training/format';

/** What each kind of owner is called, and the page that shows it. */
const OWNERS: Record<JobOwner['type'], { label: string; path: (o: JobOwner) => string }> = {
  deployment: { label: 'Deployment', path: (o) => deploymentPath(o.id) },
  project: { label: 'Project', path: (o) => projectPath(o.name) },
  pipeline_run: { label: 'Run of pipeline', path: (o) => pipelineRunPath(o.name, o.id) },
  training_run: { label: 'Training run', path: (o) => trainingPath(o.id) },
  monitor_run: { label: 'Run of monitor', path: (o) => monitorRunPath(o.parentId ?? '', o.id) },
  lake_table: { label: 'Lake table', path: (o) => lakeTablePath(o.name) },
  webhook: { label: 'Webhook', path: () => '/admin/webhooks' },
};

/** The thing a job works for, as a link to its page; a dash for jobs of nothing (or of something deleted). */
export function JobOwnerLink({ owner }: { owner: JobOwner | null }) {
  if (!owner) return <span className="muted">—</span>;
  const { label, path } = OWNERS[owner.type];
  return (
    <span data-testid="job-owner" data-owner-type={owner.type}>
      <span className="muted">{label} </span>
      <Link to={path(owner)} className="cell-link">
        {owner.name}
      </Link>
    </span>
  );
}
