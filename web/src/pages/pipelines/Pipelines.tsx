import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Pipeline } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { Button, CreateButton, PageHeader, Time, relativeTime } from '../../components/ui';
import { GroupList } from '../../components/GroupList';
import { num, TableHead } from '../../components/TableHead';
import { isRunActive, LIVE_REFRESH_MS, PipelineIcon, pipelineKeys, pipelinePath, pipelineRunPath, PipelineRunStatusBadge } from './format';
import { UploadDialog } from './UploadDialog';
import './pipelines.css';
import { usePageTitle } from '../../usePageTitle';

/** The group's pipelines: DAGs of steps uploaded as YAML, with their last run. */
export function PipelinesPage() {
  const client = useClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { group } = useSession();
  const can = useAbilities();
  const [uploading, setUploading] = useState(false);
  const list = useQuery({ queryKey: pipelineKeys.list(group), queryFn: () => client.pipelines.list(), enabled: Boolean(group) });
  const mayEdit = group !== undefined && can.canEditGroup(group);
  const rows = list.data ?? [];

  const uploaded = async (p: Pipeline) => {
    await queryClient.invalidateQueries({ queryKey: ['pipelines', group ?? ''] });
    navigate(pipelinePath(p.name));
  };

  usePageTitle('Pipelines');
  return (
    <div className="page" data-testid="section-pipelines">
      <PageHeader
        title="Pipelines"
        description={
          <>
            DAGs of steps
            {group ? (
              <>
                {' '}
                in group <strong>{group}</strong>
              </>
            ) : null}
            : scripts and platform actions (train, register, deploy, batch-predict) with parameters passed between them
          </>
        }
        actions={
          mayEdit && (
            <CreateButton onClick={() => setUploading(true)} testId="upload-pipeline">
              Upload pipeline
            </CreateButton>
          )
        }
      />
      <GroupList
        group={group}
        icon={<PipelineIcon size={26} />}
        things={['pipelines', 'pipeline']}
        count={rows.length}
        countTestId="pipelines-count"
        query={list}
        empty={{
          title: 'No pipelines yet',
          action: mayEdit && (
            <Button variant="primary" onClick={() => setUploading(true)}>
              Upload pipeline
            </Button>
          ),
          text: (
            <>
              A pipeline is a YAML file of steps with <code>needs</code> between them. A step hands values to the steps after it by writing a JSON object to{' '}
              <code>$FORJA_OUTPUTS</code>; they read them as <code>{'${{ steps.<id>.outputs.<key> }}'}</code>.
            </>
          ),
        }}
      >
        <table className="table" data-testid="pipelines-table">
          <TableHead columns={['Name', 'Version', num('Steps'), 'Last run', 'Updated']} />
          <tbody>
            {rows.map((p) => (
              <PipelineRow key={p.id} pipeline={p} />
            ))}
          </tbody>
        </table>
      </GroupList>
      <UploadDialog open={uploading} onClose={() => setUploading(false)} onUploaded={uploaded} />
    </div>
  );
}

function PipelineRow({ pipeline: p }: { pipeline: Pipeline }) {
  const client = useClient();
  const { group } = useSession();
  // The list has no run summary, so each row reads its pipeline's runs (newest first) and follows a running one.
  const runs = useQuery({
    queryKey: pipelineKeys.runs(group, p.name),
    queryFn: () => client.pipelines.runs(p.name),
    refetchInterval: (q) => (q.state.data?.[0] && isRunActive(q.state.data[0]) ? LIVE_REFRESH_MS : false),
  });
  const last = runs.data?.[0];
  const actions = [...new Set(p.steps.map((s) => s.action))];
  return (
    <tr data-testid={`pipeline-row-${p.name}`}>
      <td className="cell-name">
        <Link to={pipelinePath(p.name)} className="cell-link">
          {p.name}
        </Link>
        <div className="cell-secondary">{actions.join(', ')}</div>
      </td>
      <td className="mono" data-testid="pipeline-version">
        v{p.version}
      </td>
      <td className="num" data-testid="pipeline-steps">
        {p.steps.length}
      </td>
      <td data-testid="pipeline-last-run">
        {runs.isPending ? (
          <span className="muted">…</span>
        ) : last ? (
          <Link to={pipelineRunPath(p.name, last.id)} className="pl-last-run">
            <PipelineRunStatusBadge status={last.status} />
            <span className="muted small" title={new Date(last.finishedAt ?? last.createdAt).toISOString()}>
              {relativeTime(last.finishedAt ?? last.createdAt)}
            </span>
          </Link>
        ) : (
          <span className="muted">never run</span>
        )}
      </td>
      <td>
        <Time at={p.updatedAt} />
        {p.createdBy && <div className="cell-secondary">by {p.createdBy}</div>}
      </td>
    </tr>
  );
}
