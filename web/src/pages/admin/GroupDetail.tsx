import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { RoleSchema, type Member, type Role } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { keys, useAbilities, useWhoami } from '../../hooks';
import { BackLink, Button, ConfirmDialog, EmptyState, ErrorText, RoleBadge, Time, QueryError } from '../../components/ui';
import { TableCard } from '../../components/TableCard';
import { ACTIONS, TableHead } from '../../components/TableHead';
import { useConfirmedMutation } from '../../components/useConfirmedMutation';
import { usePageTitle } from '../../usePageTitle';

const roles = RoleSchema.options;
const roleHelp: Record<Role, string> = {
  viewer: 'reads everything in the group',
  editor: 'also creates and changes runs, models, data and jobs',
  admin: 'also manages members and tokens',
};

export function GroupDetailPage() {
  const { name = '' } = useParams();
  const client = useClient();
  const can = useAbilities();
  const queryClient = useQueryClient();
  const group = useQuery({ queryKey: keys.group(name), queryFn: () => client.groups.get(name) });
  const members = useQuery({ queryKey: keys.members(name), queryFn: () => client.groups.members(name) });
  const manage = can.canAdministerGroup(name) || group.data?.myRole === 'admin';
  const list = members.data ?? [];

  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: keys.members(name) }),
      queryClient.invalidateQueries({ queryKey: keys.groups }),
      queryClient.invalidateQueries({ queryKey: keys.whoami }),
    ]);

  const setRole = useMutation({
    mutationFn: ({ username, role }: { username: string; role: Role }) => client.groups.setMember(name, username, role),
    onSuccess: refresh,
  });
  const remove = useConfirmedMutation((m: Member) => client.groups.removeMember(name, m.username), refresh);

  usePageTitle(name, 'Groups', 'Admin');
  return (
    <section aria-label={`Group ${name}`}>
      <BackLink to="/admin/groups">Groups</BackLink>
      {group.isError ? (
        <div className="card card-pad">
          <QueryError query={group} />
        </div>
      ) : (
        <>
          <div className="detail-header">
            <div>
              <h2 className="detail-title" data-testid="group-title">
                {name}
              </h2>
              <p className="muted">{group.data?.description || (group.isPending ? '' : 'No description.')}</p>
            </div>
            <div className="detail-meta">
              <div>
                <span className="muted small">Your role</span> <RoleBadge role={group.data?.myRole} />
              </div>
              <div>
                <span className="muted small">Created</span> <Time at={group.data?.createdAt} withTime={false} />
              </div>
              {manage && (
                <Link to={`/admin/tokens?group=${encodeURIComponent(name)}`} className="btn btn-secondary btn-sm">
                  Group tokens
                </Link>
              )}
            </div>
          </div>

          {manage && <AddMemberForm group={name} onAdded={refresh} existing={list} />}
          <ErrorText error={setRole.error} />

          <TableCard
            query={members}
            head={
              <div className="card-head">
                <h3>Members</h3>
                {members.data && <span className="muted small">{list.length}</span>}
              </div>
            }
            empty={list.length === 0 && <EmptyState title="No members">Add someone by their username.</EmptyState>}
          >
            <table className="table" data-testid="members-table">
              <TableHead columns={['Member', 'Role', 'Added', manage && ACTIONS]} />
              <tbody>
                {list.map((m) => (
                  <tr key={m.username} data-testid={`member-row-${m.username}`}>
                    <td>
                      <div className="cell-primary">{m.displayName || m.username}</div>
                      <div className="cell-secondary mono">@{m.username}</div>
                    </td>
                    <td>
                      {manage ? (
                        <select
                          className="select-sm"
                          aria-label={`Role of ${m.username}`}
                          value={m.role}
                          disabled={setRole.isPending}
                          onChange={(e) => setRole.mutate({ username: m.username, role: e.target.value as Role })}
                        >
                          {roles.map((r) => (
                            <option key={r} value={r}>
                              {r}
                            </option>
                          ))}
                        </select>
                      ) : (
                        <RoleBadge role={m.role} />
                      )}
                    </td>
                    <td>
                      <Time at={m.addedAt} withTime={false} />
                    </td>
                    {manage && (
                      <td className="col-actions">
                        <Button size="sm" variant="ghost" className="text-danger" onClick={() => remove.ask(m)}>
                          Remove
                        </Button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </TableCard>
          {can.isAdmin && name !== 'default' && group.isSuccess && <DeleteGroup name={name} />}
        </>
      )}
      <ConfirmDialog {...remove.dialog} title="Remove member" confirmLabel="Remove">
        Remove <strong>{remove.target?.username}</strong> from <strong>{name}</strong>? They lose access to everything in the group at once.
      </ConfirmDialog>
    </section>
  );
}

function AddMemberForm({ group, onAdded, existing }: { group: string; onAdded: () => Promise<unknown>; existing: Member[] }) {
  const client = useClient();
  const can = useAbilities();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('editor');
  // Only system admins may list users; others type the username they were given.
  const users = useQuery({ queryKey: keys.userPicker, queryFn: () => client.users.list({ limit: 1000 }), enabled: can.isAdmin, select: (p) => p.items });
  const add = useMutation({
    mutationFn: () => client.groups.setMember(group, username.trim(), role),
    onSuccess: async () => {
      await onAdded();
      setUsername('');
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  const known = new Set(existing.map((m) => m.username));
  return (
    <form className="card card-pad inline-form" onSubmit={submit} aria-label="Add a member">
      <div className="inline-form-row">
        <div className="field grow">
          <label htmlFor="am-username">Add member</label>
          <input
            id="am-username"
            placeholder="username"
            list={can.isAdmin ? 'am-users' : undefined}
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
          {can.isAdmin && (
            <datalist id="am-users">
              {(users.data ?? [])
                .filter((u) => !known.has(u.username) && !u.disabled)
                .map((u) => (
                  <option key={u.id} value={u.username}>
                    {u.displayName}
                  </option>
                ))}
            </datalist>
          )}
        </div>
        <div className="field">
          <label htmlFor="am-role">Role</label>
          <select id="am-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {roles.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <Button type="submit" variant="primary" pending={add.isPending}>
          Add
        </Button>
      </div>
      <div className="field-hint">
        <strong>{role}</strong> {roleHelp[role]}.
      </div>
      <ErrorText error={add.error} />
    </form>
  );
}

function DeleteGroup({ name }: { name: string }) {
  const client = useClient();
  const { group, setGroup } = useSession();
  const me = useWhoami();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const del = useConfirmedMutation(
    (g: string) => client.groups.delete(g),
    async () => {
      if (group === name) setGroup(me.data?.defaultGroup ?? undefined);
      queryClient.removeQueries({ queryKey: keys.group(name) });
      await Promise.all([queryClient.invalidateQueries({ queryKey: keys.groups }), queryClient.invalidateQueries({ queryKey: keys.whoami })]);
      navigate('/admin/groups');
    },
  );
  return (
    <div className="danger-zone">
      <div>
        <h3>Delete group</h3>
        <p className="muted small">Removes the group with its memberships, its tokens and everything stored in it. This cannot be undone.</p>
      </div>
      <Button variant="danger" onClick={() => del.ask(name)}>
        Delete group
      </Button>
      <ConfirmDialog {...del.dialog} title={`Delete ${name}?`} confirmLabel="Delete group">
        Everything that belongs to <strong>{name}</strong> stops working for its members and applications.
      </ConfirmDialog>
    </div>
  );
}
