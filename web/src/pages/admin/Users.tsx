import { useState } from 'react';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import type { User, UserUpdate } from '@forja/contracts';
import { useClient } from '../../session';
import { keys, useAbilities, useWhoami } from '../../hooks';
import { Badge, Button, CreateButton, Dialog, EmptyCard, ErrorText, Field, Time } from '../../components/ui';
import { DialogForm } from '../../components/DialogForm';
import { ListCount } from '../../components/ListCount';
import { LoadMore } from '../../components/LoadMore';
import { TableCard } from '../../components/TableCard';
import { ACTIONS, TableHead } from '../../components/TableHead';
import { usePageTitle } from '../../usePageTitle';

export function UsersPage() {
  const client = useClient();
  const can = useAbilities();
  const me = useWhoami();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);

  const users = useInfiniteQuery({
    queryKey: keys.users,
    queryFn: ({ pageParam }) => client.users.list({ limit: 100, pageToken: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken,
    enabled: can.isAdmin,
  });

  const update = useMutation({
    mutationFn: ({ username, patch }: { username: string; patch: UserUpdate }) => client.users.update(username, patch),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: keys.users }),
  });

  usePageTitle('Users', 'Admin');
  if (!can.isAdmin)
    return <EmptyCard title="Users are managed by system administrators">Ask an administrator to create accounts or change their rights.</EmptyCard>;

  const rows = users.data?.pages.flatMap((p) => p.items) ?? [];
  const self = me.data?.user?.username;

  return (
    <section aria-label="Users">
      <div className="toolbar">
        <div className="toolbar-title">{users.isSuccess && <ListCount count={rows.length} things={['users', 'user']} more={users.hasNextPage} />}</div>
        <CreateButton onClick={() => setCreating(true)} testId="new-user">
          New user
        </CreateButton>
      </div>
      <ErrorText error={update.error} />
      <TableCard query={users}>
        <table className="table" data-testid="users-table">
          <TableHead columns={['User', 'Email', 'Role', 'Status', 'Default group', 'Created', ACTIONS]} />
          <tbody>
            {rows.map((u) => (
              <UserRow
                key={u.id}
                user={u}
                isSelf={u.username === self}
                pending={update.isPending && update.variables?.username === u.username}
                onUpdate={(patch) => update.mutate({ username: u.username, patch })}
              />
            ))}
          </tbody>
        </table>
      </TableCard>
      <LoadMore query={users} />
      <CreateUserDialog open={creating} onClose={() => setCreating(false)} />
    </section>
  );
}

function UserRow({ user: u, isSelf, pending, onUpdate }: { user: User; isSelf: boolean; pending: boolean; onUpdate: (patch: UserUpdate) => void }) {
  const selfNote = isSelf ? 'You cannot change this for yourself; ask another administrator.' : undefined;
  return (
    <tr data-testid={`user-row-${u.username}`} className={u.disabled ? 'row-muted' : undefined}>
      <td>
        <div className="cell-primary">{u.displayName || u.username}</div>
        <div className="cell-secondary mono">@{u.username}</div>
      </td>
      <td>{u.email ?? <span className="muted">—</span>}</td>
      <td>{u.isAdmin ? <Badge tone="accent">admin</Badge> : <Badge>member</Badge>}</td>
      <td>{u.disabled ? <Badge tone="red">disabled</Badge> : <Badge tone="green">active</Badge>}</td>
      <td>{u.defaultGroup ?? <span className="muted">—</span>}</td>
      <td>
        <Time at={u.createdAt} withTime={false} />
      </td>
      <td className="col-actions">
        <div className="row-actions">
          <Button
            size="sm"
            variant="ghost"
            disabled={pending || (isSelf && u.isAdmin)}
            title={isSelf ? selfNote : undefined}
            onClick={() => onUpdate({ isAdmin: !u.isAdmin })}
          >
            {u.isAdmin ? 'Remove admin' : 'Make admin'}
          </Button>
          <Button
            size="sm"
            variant={u.disabled ? 'secondary' : 'ghost'}
            disabled={pending || isSelf}
            title={selfNote}
            onClick={() => onUpdate({ disabled: !u.disabled })}
          >
            {u.disabled ? 'Enable' : 'Disable'}
          </Button>
        </div>
      </td>
    </tr>
  );
}

function CreateUserDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const empty = { username: '', displayName: '', email: '', password: '', isAdmin: false };
  const [form, setForm] = useState(empty);
  const create = useMutation({
    mutationFn: () =>
      client.users.create({
        username: form.username.trim(),
        password: form.password,
        isAdmin: form.isAdmin,
        ...(form.displayName.trim() ? { displayName: form.displayName.trim() } : {}),
        ...(form.email.trim() ? { email: form.email.trim() } : {}),
      }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: keys.users });
      close();
    },
  });
  const close = () => {
    setForm(empty);
    create.reset();
    onClose();
  };
  return (
    <Dialog open={open} onClose={close} title="New user" testId="create-user-dialog">
      <DialogForm request={create} onSubmit={() => create.mutate()} onCancel={close} submitLabel="Create user">
        <Field label="Username" htmlFor="nu-username" hint="Lowercase letters, digits, '.', '_' and '-'.">
          <input id="nu-username" required autoFocus value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} />
        </Field>
        <Field label="Display name" htmlFor="nu-display">
          <input id="nu-display" value={form.displayName} onChange={(e) => setForm({ ...form, displayName: e.target.value })} />
        </Field>
        <Field label="Email" htmlFor="nu-email">
          <input id="nu-email" type="email" value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        </Field>
        <Field label="Password" htmlFor="nu-password" hint="At least 8 characters. Share it privately; the user can change it later.">
          <input
            id="nu-password"
            type="password"
            autoComplete="new-password"
            required
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
          />
        </Field>
        <label className="checkbox">
          <input type="checkbox" checked={form.isAdmin} onChange={(e) => setForm({ ...form, isAdmin: e.target.checked })} />
          <span>
            System administrator <span className="muted">— manages users and sees every group</span>
          </span>
        </label>
      </DialogForm>
    </Dialog>
  );
}
