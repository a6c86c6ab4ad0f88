import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Deployment } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { Button, CreateButton, PageHeader, Time } from '../../components/ui';
import { GroupList } from '../../components/GroupList';
import { TableHead } from '../../components/TableHead';
import { RocketIcon } from '../../components/icons';
import { firstLine } from '../jobs/format';
import { DeploymentStatusBadge, deploymentKeys, deploymentPath, isSettling, kindText, SourceCell } from './format';
import { FromModelDialog, UploadDialog } from './NewDeployment';
import './deployments.css';
import { usePageTitle } from '../../usePageTitle';

/** While anything builds the list follows it; settled lists do not change on their own. */
const LIVE_REFRESH_MS = 2000;

export function DeploymentsPage() {
  const client = useClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { group } = useSession();
  const can = useAbilities();
  const [dialog, setDialog] = useState<'model' | 'upload' | null>(null);

  const list = useQuery({
    queryKey: deploymentKeys.list(group),
    queryFn: () => client.deployments.list(),
    enabled: Boolean(group),
    refetchInterval: (q) => (q.state.data?.some((d) => isSettling(d.status)) ? LIVE_REFRESH_MS : false),
  });
  const mayCreate = group !== undefined && can.canEditGroup(group);
  const rows = list.data ?? [];

  const created = async (d: Deployment) => {
    await queryClient.invalidateQueries({ queryKey: ['deployments'] });
    navigate(deploymentPath(d.id));
  };

  usePageTitle('Deployments');
  return (
    <div className="page" data-testid="section-deployments">
      <PageHeader
        title="Deployments"
        description={
          group ? (
            <>
              Models served as REST endpoints by group <strong>{group}</strong>, with their builds, calls and logs
            </>
          ) : (
            'Models served as REST endpoints, with their builds, calls and logs'
          )
        }
        actions={
          mayCreate && (
            <>
              <Button onClick={() => setDialog('upload')} data-testid="new-upload">
                Upload files
              </Button>
              <CreateButton onClick={() => setDialog('model')} testId="new-from-model">
                Deploy a registered model
              </CreateButton>
            </>
          )
        }
      />
      <GroupList
        group={group}
        icon={<RocketIcon size={26} />}
        things={['deployments', 'deployment']}
        count={rows.length}
        countTestId="deployments-count"
        query={list}
        empty={{
          title: 'No deployments yet',
          action: mayCreate && (
            <Button variant="primary" onClick={() => setDialog('model')}>
              Deploy a registered model
            </Button>
          ),
          text: (
            <>
              Deploy a version of a registered model with no code, or upload a scorer (<code>score(data, base_path)</code>) with its model file and
              requirements.
            </>
          ),
        }}
      >
        <table className="table" data-testid="deployments-table">
          <TableHead columns={['Name', 'Status', 'Kind', 'Source', 'Deployed', 'Message']} />
          <tbody>
            {rows.map((d) => (
              <DeploymentRow key={d.id} deployment={d} />
            ))}
          </tbody>
        </table>
      </GroupList>
      <FromModelDialog open={dialog === 'model'} onClose={() => setDialog(null)} onCreated={created} />
      <UploadDialog open={dialog === 'upload'} onClose={() => setDialog(null)} onCreated={created} />
    </div>
  );
}

function DeploymentRow({ deployment: d }: { deployment: Deployment }) {
  const message = firstLine(d.message);
  return (
    <tr data-testid={`deployment-row-${d.name}`} data-status={d.status}>
      <td className="cell-name">
        <Link to={deploymentPath(d.id)} className="cell-link">
          {d.name}
        </Link>
        <div className="cell-secondary mono">{d.id}</div>
      </td>
      <td>
        <DeploymentStatusBadge status={d.status} />
      </td>
      <td>{kindText(d)}</td>
      <td>
        <SourceCell deployment={d} />
      </td>
      <td>
        <Time at={d.deployedAt} />
      </td>
      <td>
        {message ? (
          <div
            className={`deployment-message-cell${d.status === 'Failed' ? ' is-error' : ''}`}
            title={d.message ?? undefined}
            data-testid="deployment-message-cell"
          >
            {message}
          </div>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}
