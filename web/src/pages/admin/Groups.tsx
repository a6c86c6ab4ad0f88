import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useClient, useSession } from '../../session';
import { keys, useGroups } from '../../hooks';
import { Button, Dialog, EmptyState, ErrorText, Field, RoleBadge, Spinner, Time, Badge } from '../../components/ui';
import { LayersIcon, PlusIcon } from '../../components/icons';

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
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () => client.groups.create({ name: name.trim(), description: description.trim() }),
    onSuccess: async (g) => {
      // The creator becomes the group's admin, which whoami's memberships must reflect.
      await Promise.all([queryClient.invalidateQueries({ queryKey: keys.groups }), queryClient.invalidateQueries({ queryKey: keys.whoami })]);
      if (!current) setGroup(g.name);
      close();
      navigate(`/admin/groups/${encodeURIComponent(g.name)}`);
    },
  });
  const close = () => {
    setName('');
    setDescription('');
    create.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Dialog open={open} onClose={close} title="New group" testId="create-group-dialog">
      <form onSubmit={submit} className="form">
        <Field label="Name" htmlFor="ng-name" hint="Used in URLs and the SDKs: lowercase letters, digits, '.', '_' and '-'.">
          <input id="ng-name" required autoFocus value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. credit-risk" />
        </Field>
        <Field label="Description" htmlFor="ng-description">
          <textarea id="ng-description" rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <p className="muted small">You become the group's admin.</p>
        <ErrorText error={create.error} />
        <div className="dialog-footer">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" pending={create.isPending}>
            Create group
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
