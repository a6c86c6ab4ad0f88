import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Deployment, ModelVersion } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { Button, ErrorText, Spinner, Time } from '../../components/ui';
import { RocketIcon } from '../../components/icons';
import { TableHead } from '../../components/TableHead';
import { DeploymentStatusBadge, deploymentKeys, deploymentPath, kindText } from '../deployments/format';
import { FromModelDialog } from '../deployments/NewDeployment';

/** The deployments serving a model version, and "Deploy this version" for the group's editors. */
export function VersionDeployments({ version: v, canEdit }: { version: ModelVersion; canEdit: boolean }) {
  const client = useClient();
  const { group } = useSession();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [deploying, setDeploying] = useState(false);
  // A group has few deployments: the list is read once and shared with the deployments page's cache.
  const deployments = useQuery({
    queryKey: deploymentKeys.list(group),
    queryFn: () => client.deployments.list(),
    enabled: Boolean(group),
    select: (all) => all.filter((d) => d.modelVersion?.name === v.name && d.modelVersion.version === v.version),
  });
  const created = async (d: Deployment) => {
    await queryClient.invalidateQueries({ queryKey: ['deployments'] });
    navigate(deploymentPath(d.id));
  };
  const list = deployments.data ?? [];
  return (
    <section className="card" aria-label={`Deployments of version ${v.version}`} data-testid="version-deployments">
      <div className="card-head">
        <h3>Deployments of version {v.version}</h3>
        {deployments.isSuccess && <span className="muted">{list.length}</span>}
        <div className="toolbar-spacer" />
        {canEdit && (
          <Button size="sm" variant="primary" onClick={() => setDeploying(true)} data-testid="deploy-version">
            <RocketIcon size={14} /> Deploy this version
          </Button>
        )}
      </div>
      {deployments.isPending ? (
        <Spinner label="Loading deployments…" />
      ) : deployments.isError ? (
        <div className="card-pad">
          <ErrorText error={deployments.error} />
        </div>
      ) : list.length === 0 ? (
        <div className="card-pad muted" data-testid="no-version-deployments">
          No deployment serves this version.{canEdit ? ' Deploy it to answer predictions over HTTP.' : ''}
        </div>
      ) : (
        <table className="table">
          <TableHead columns={['Deployment', 'Status', 'Kind', 'Created']} />
          <tbody>
            {list.map((d) => (
              <tr key={d.id} data-testid="version-deployment-row" data-name={d.name}>
                <td>
                  <Link to={deploymentPath(d.id)} className="cell-link">
                    {d.name}
                  </Link>
                </td>
                <td>
                  <DeploymentStatusBadge status={d.status} />
                </td>
                <td>{kindText(d)}</td>
                <td>
                  <Time at={d.createdAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canEdit && (
        <FromModelDialog
          key={`${v.name}/${v.version}`}
          open={deploying}
          onClose={() => setDeploying(false)}
          onCreated={created}
          modelUri={`models:/${v.name}/${v.version}`}
        />
      )}
    </section>
  );
}
