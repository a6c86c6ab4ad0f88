import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { useClient, useSession } from '../../session';
import { keys, useGroups } from '../../hooks';
import { Badge, Button, CreateButton, EmptyState, RoleBadge, Time } from '../../components/ui';
import { LayersIcon } from '../../components/icons';
import { CreateDialog } from '../../components/CreateDialog';
import { ListCount } from '../../components/ListCount';
import { TableCard } from '../../components/TableCard';
import { TableHead } from '../../components/TableHead';
import { usePageTitle } from '../../usePageTitle';

export function GroupsPage() {
  const client = useClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const groups = useGroups();
  const { group: current, setGroup } = useSession();
  const [creating, setCreating] = useState(false);
  const list = groups.data ?? [];

  usePageTitle('Groups', 'Admin');
  return (
    <section aria-label="Groups">
      <div className="toolbar">
        <div className="toolbar-title">{groups.isSuccess && <ListCount count={list.length} things={['groups', 'group']} />}</div>
        <CreateButton onClick={() => setCreating(true)} testId="new-group">
          New group
        </CreateButton>
      </div>
      <TableCard
        query={groups}
        empty={
          list.length === 0 && (
            <EmptyState
              icon={<LayersIcon size={26} />}
              title="No groups yet"
              action={
                <Button variant="primary" onClick={() => setCreating(true)}>
                  Create a group
                </Button>
              }
            >
              A group owns experiments, models, deployments and data, and decides who may use them.
            </EmptyState>
          )
        }
      >
        <table className="table" data-testid="groups-table">
          <TableHead columns={['Name', 'Description', 'Your role', 'Created']} />
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
      </TableCard>
      <CreateDialog
        open={creating}
        onClose={() => setCreating(false)}
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
    </section>
  );
}
