import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { useClient, useSession } from '../../session';
import { keys, useGroups } from '../../hooks';
import { Button, EmptyState, ErrorText, RoleBadge, Spinner, Time, Badge } from '../../components/ui';
import { LayersIcon, PlusIcon } from '../../components/icons';
import { CreateDialog } from '../../components/CreateDialog';

export function GroupsPage() {
  const groups = useGroups();
  const { group: current } = useSession();
  const [creating, setCreating] = useState(false);
  const list = groups.data ?? [];

  return (
    <section aria-label="Groups">
      <div className="toolbar">
        <div className="toolbar-title">{groups.isSuccess && <span className="muted">{list.length} group{list.length === 1 ? '' : 's'}</span>}</div>
        <Button variant="primary" onClick={() => setCreating(true)} data-testid="new-group">
          <PlusIcon size={14} /> New group
        </Button>
      </div>
      <div className="card table-card">
        {groups.isPending ? (
          <Spinner />
        ) : groups.isError ? (
          <div className="card-pad">
            <ErrorText error={groups.error} />
          </div>
        ) : list.length === 0 ? (
          <EmptyState icon={<LayersIcon size={26} />} title="No groups yet" action={<Button variant="primary" onClick={() => setCreating(true)}>Create a group</Button>}>
            A group owns experiments, models, deployments and data, and decides who may use them.
          </EmptyState>
        ) : (
          <table className="table" data-testid="groups-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Description</th>
                <th>Your role</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {list.map((g) => (
                <tr key={g.id} data-testid={`group-row-${g.name}`}>
                  <td>
                    <Link to={`/admin/groups/${encodeURIComponent(g.name)}`} className="cell-link">
                      {g.name}
                    </Link>
                    {g.name === current && (
                      <>
                        {' '}
                        <Badge title="Selected in the group switcher">current</Badge>
                      </>
                    )}
                  </td>
                  <td className="cell-wrap">{g.description || <span className="muted">—</span>}</td>
                  <td>
                    <RoleBadge role={g.myRole} />
                  </td>
                  <td>
                    <Time at={g.createdAt} withTime={false} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <CreateGroupDialog open={creating} onClose={() => setCreating(false)} />
    </section>
  );
}

function CreateGroupDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const client = useClient();
  const { group: current, setGroup } = useSession();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  return (
    <CreateDialog
      open={open}
      onClose={onClose}
      title="New group"
      testId="create-group-dialog"
      idPrefix="ng"
      nameHint="Used in URLs and the SDKs: lowercase letters, digits, '.', '_' and '-'."
      namePlaceholder="e.g. credit-risk"
      note="You become the group's admin."
      submitLabel="Create group"
      create={(name, description) => client.groups.create({ name, description })}
      onCreated={async (g) => {
        // The creator becomes the group's admin, which whoami's memberships must reflect.
        await Promise.all([queryClient.invalidateQueries({ queryKey: keys.groups }), queryClient.invalidateQueries({ queryKey: keys.whoami })]);
        if (!current) setGroup(g.name);
        navigate(`/admin/groups/${encodeURIComponent(g.name)}`);
      }}
    />
  );
}
