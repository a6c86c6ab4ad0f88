import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { RoleSchema, type Role, type Token, type TokenCreated } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { keys, useAbilities } from '../../hooks';
import { Badge, Button, ConfirmDialog, CreateButton, Dialog, EmptyState, Field, RoleBadge, Time, relativeTime } from '../../components/ui';
import { DialogForm } from '../../components/DialogForm';
import { SecretDialog } from '../../components/SecretDialog';
import { TableCard } from '../../components/TableCard';
import { ACTIONS, TableHead } from '../../components/TableHead';
import { useConfirmedMutation } from '../../components/useConfirmedMutation';
import { usePageTitle } from '../../usePageTitle';

type Kind = 'personal' | 'service' | 'group';

const kindInfo: Record<Kind, { label: string; help: string }> = {
  personal: { label: 'Personal', help: 'Acts as you, with your rights in every group. For the CLI, the SDKs and the mlflow client.' },
  service: { label: 'Service', help: 'Acts in one group with the role you choose, independent of any person. For pipelines and CI.' },
  group: { label: 'Group', help: "Can only call the group's deployed models. For applications that consume predictions." },
};

export function TokensPage() {
  const can = useAbilities();
  const { group: current } = useSession();
  const [params, setParams] = useSearchParams();
  const requested = params.get('group');
  // A group scope is only offered for groups the user administers; the server enforces the same.
  const scope = requested && can.canAdministerGroup(requested) ? requested : null;
  const [showRevoked, setShowRevoked] = useState(false);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<TokenCreated | null>(null);
  const client = useClient();
  const queryClient = useQueryClient();

  const tokens = useQuery({
    queryKey: [...keys.tokens(scope), showRevoked],
    queryFn: () => client.tokens.list({ group: scope ?? undefined, includeRevoked: showRevoked }),
  });

  const revoke = useConfirmedMutation(
    (t: Token) => client.tokens.revoke(t.id),
    () => queryClient.invalidateQueries({ queryKey: ['tokens'] }),
  );

  const setScope = (g: string | null) => setParams(g ? { group: g } : {}, { replace: true });
  const defaultGroup = scope ?? (current && can.canAdministerGroup(current) ? current : can.adminGroups[0]);
  const list = tokens.data ?? [];

  usePageTitle('Tokens', 'Admin');
  return (
    <section aria-label="Tokens">
      <div className="toolbar">
        <div className="toolbar-title">
          {/* Only group admins have a second scope to switch to. */}
          {can.adminGroups.length > 0 && (
            <div className="segmented" role="tablist" aria-label="Token scope">
              <button
                type="button"
                role="tab"
                aria-selected={scope === null}
                className={scope === null ? 'active' : ''}
                onClick={() => setScope(null)}
                data-testid="scope-personal"
              >
                Personal
              </button>
              <button
                type="button"
                role="tab"
                aria-selected={scope !== null}
                className={scope !== null ? 'active' : ''}
                onClick={() => setScope(defaultGroup ?? null)}
                data-testid="scope-group"
              >
                Group
              </button>
            </div>
          )}
          {scope !== null && (
            <select aria-label="Group of the tokens" className="select-sm" value={scope} onChange={(e) => setScope(e.target.value)}>
              {can.adminGroups.map((g) => (
                <option key={g} value={g}>
                  {g}
                </option>
              ))}
            </select>
          )}
          <label className="checkbox checkbox-inline">
            <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} />
            <span>Show revoked</span>
          </label>
        </div>
        <CreateButton onClick={() => setCreating(true)} testId="new-token">
          New token
        </CreateButton>
      </div>
      <p className="section-note muted">
        {scope === null ? (
          <>Your personal tokens act as you. Session tokens from signing in are not listed.</>
        ) : (
          <>
            Service and group tokens of <strong>{scope}</strong>. They keep working when the person who created them leaves.
          </>
        )}
      </p>
      <TableCard
        query={tokens}
        empty={
          list.length === 0 && (
            <EmptyState
              title={scope ? `No tokens in ${scope}` : 'No personal tokens'}
              action={<Button onClick={() => setCreating(true)}>Create a token</Button>}
            >
              {scope
                ? 'Create a service token for automation or a group token for an application.'
                : 'Create one to use Forja from the CLI, the SDKs or the mlflow client.'}
            </EmptyState>
          )
        }
      >
        <table className="table" data-testid="tokens-table">
          <TableHead columns={['Name', 'Kind', 'Prefix', scope !== null && 'Role', 'Created', 'Last used', 'Expires', ACTIONS]} />
          <tbody>
            {list.map((t) => (
              <TokenRow key={t.id} token={t} showRole={scope !== null} onRevoke={() => revoke.ask(t)} />
            ))}
          </tbody>
        </table>
      </TableCard>

      <CreateTokenDialog
        open={creating}
        onClose={() => setCreating(false)}
        defaultGroup={defaultGroup}
        defaultKind={scope ? 'service' : 'personal'}
        onCreated={(result) => {
          setCreating(false);
          setCreated(result);
          setScope(result.token.kind === 'personal' ? null : result.token.group);
        }}
      />
      <TokenSecretDialog created={created} onDone={() => setCreated(null)} />
      <ConfirmDialog {...revoke.dialog} title="Revoke token" confirmLabel="Revoke">
        Revoke <strong>{revoke.target?.name}</strong> (<code>{withEllipsis(revoke.target?.prefix ?? '')}</code>)? Anything still using it gets 401 from its next
        request. This cannot be undone.
      </ConfirmDialog>
    </section>
  );
}

function TokenRow({ token: t, showRole, onRevoke }: { token: Token; showRole: boolean; onRevoke: () => void }) {
  const expired = t.expiresAt !== null && t.expiresAt <= Date.now();
  const revoked = t.revokedAt !== null;
  return (
    <tr data-testid={`token-row-${t.name}`} className={revoked || expired ? 'row-muted' : undefined}>
      <td>
        <span className="cell-primary">{t.name}</span>
        {revoked && (
          <>
            {' '}
            <Badge tone="red">revoked</Badge>
          </>
        )}
        {!revoked && expired && (
          <>
            {' '}
            <Badge tone="amber">expired</Badge>
          </>
        )}
      </td>
      <td>
        <Badge tone={t.kind === 'personal' ? 'neutral' : t.kind === 'service' ? 'blue' : 'green'}>{t.kind}</Badge>
      </td>
      <td>
        <code className="mono">{withEllipsis(t.prefix)}</code>
      </td>
      {showRole && <td>{t.kind === 'group' ? <span className="muted small">predict only</span> : <RoleBadge role={t.role} />}</td>}
      <td>
        <Time at={t.createdAt} withTime={false} />
      </td>
      <td>{t.lastUsedAt ? <span title={new Date(t.lastUsedAt).toISOString()}>{relativeTime(t.lastUsedAt)}</span> : <span className="muted">never</span>}</td>
      <td>{t.expiresAt ? <Time at={t.expiresAt} withTime={false} /> : <span className="muted">never</span>}</td>
      <td className="col-actions">
        {!revoked && (
          <Button size="sm" variant="ghost" className="text-danger" onClick={onRevoke} aria-label={`Revoke ${t.name}`}>
            Revoke
          </Button>
        )}
      </td>
    </tr>
  );
}

/** Prefixes are the start of a secret; some already carry the ellipsis. */
const withEllipsis = (prefix: string) => (prefix.endsWith('…') ? prefix : `${prefix}…`);

const expiryChoices = [
  { value: '', label: 'Never' },
  { value: '7', label: '7 days' },
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
];

function CreateTokenDialog({
  open,
  onClose,
  onCreated,
  defaultGroup,
  defaultKind,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (t: TokenCreated) => void;
  defaultGroup: string | undefined;
  defaultKind: Kind;
}) {
  const client = useClient();
  const can = useAbilities();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<Kind>(defaultKind);
  const [group, setGroup] = useState(defaultGroup ?? '');
  const [role, setRole] = useState<Role>('editor');
  const [expires, setExpires] = useState('90');

  // Each opening starts from the page's current scope.
  useEffect(() => {
    if (!open) return;
    setKind(defaultKind);
    setGroup(defaultGroup ?? '');
  }, [open, defaultKind, defaultGroup]);

  const create = useMutation({
    mutationFn: () =>
      client.tokens.create({
        name: name.trim(),
        kind,
        ...(kind !== 'personal' ? { group } : {}),
        ...(kind === 'service' ? { role } : {}),
        ...(expires ? { expiresInDays: Number(expires) } : {}),
      }),
    onSuccess: (result) => {
      void queryClient.invalidateQueries({ queryKey: ['tokens'] });
      reset();
      onCreated(result);
    },
  });
  const reset = () => {
    setName('');
    setExpires('90');
    create.reset();
  };
  const close = () => {
    reset();
    onClose();
  };
  const kinds: Kind[] = can.adminGroups.length > 0 ? ['personal', 'service', 'group'] : ['personal'];

  return (
    <Dialog open={open} onClose={close} title="New token" testId="create-token-dialog" width={480}>
      <DialogForm request={create} onSubmit={() => create.mutate()} onCancel={close} submitLabel="Create token">
        <Field label="Name" htmlFor="nt-name" hint="What uses it, so you know what breaks when you revoke it.">
          <input id="nt-name" required autoFocus maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. laptop-cli" />
        </Field>
        <fieldset className="field">
          <legend>Kind</legend>
          <div className="radio-cards">
            {kinds.map((k) => (
              <label key={k} className={`radio-card${kind === k ? ' checked' : ''}`}>
                <input type="radio" name="nt-kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
                <span className="radio-card-title">{kindInfo[k].label}</span>
                <span className="radio-card-help">{kindInfo[k].help}</span>
              </label>
            ))}
          </div>
        </fieldset>
        {kind !== 'personal' && (
          <div className="form-row">
            <Field label="Group" htmlFor="nt-group">
              <select id="nt-group" value={group} onChange={(e) => setGroup(e.target.value)} required>
                <option value="" disabled>
                  Choose a group
                </option>
                {can.adminGroups.map((g) => (
                  <option key={g} value={g}>
                    {g}
                  </option>
                ))}
              </select>
            </Field>
            {kind === 'service' && (
              <Field label="Role" htmlFor="nt-role">
                <select id="nt-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
                  {RoleSchema.options.map((r) => (
                    <option key={r} value={r}>
                      {r}
                    </option>
                  ))}
                </select>
              </Field>
            )}
          </div>
        )}
        <Field label="Expires" htmlFor="nt-expires">
          <select id="nt-expires" value={expires} onChange={(e) => setExpires(e.target.value)}>
            {expiryChoices.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </Field>
      </DialogForm>
    </Dialog>
  );
}

function TokenSecretDialog({ created, onDone }: { created: TokenCreated | null; onDone: () => void }) {
  return (
    <SecretDialog
      shown={created}
      title="Your new token"
      testId="token-secret"
      warning="This is the only time Forja shows it; the server keeps only a hash. If you lose it, revoke the token and create a new one."
      onDone={onDone}
      details={({ token }) => (
        <>
          <dt>Name</dt>
          <dd>{token.name}</dd>
          <dt>Kind</dt>
          <dd>
            {token.kind}
            {token.group ? ` in ${token.group}` : ''}
            {token.role ? ` (${token.role})` : ''}
          </dd>
          <dt>Expires</dt>
          <dd>{token.expiresAt ? <Time at={token.expiresAt} withTime={false} /> : 'never'}</dd>
          <dt>Use it</dt>
          <dd>
            <code className="mono small">Authorization: Bearer {withEllipsis(token.prefix)}</code>
          </dd>
        </>
      )}
    />
  );
}
