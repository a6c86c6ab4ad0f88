import { Fragment, useState } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import type { AuditEntry } from '@forja/contracts';
import { useClient } from '../../session';
import { keys, useAbilities, useDebounced } from '../../hooks';
import { Badge, Button, EmptyCard, EmptyState, Time } from '../../components/ui';
import { ChevronDownIcon } from '../../components/icons';
import { LoadMore } from '../../components/LoadMore';
import { TableCard } from '../../components/TableCard';
import { TableHead } from '../../components/TableHead';
import { usePageTitle } from '../../usePageTitle';

// Actions the server records today; the filter still accepts any text for actions added later.
const knownActions = [
  'user.create',
  'user.update',
  'group.create',
  'group.update',
  'group.delete',
  'member.add',
  'member.update',
  'member.remove',
  'token.create',
  'token.revoke',
  'auth.login',
  'auth.login_failed',
  'auth.login_limited',
  'access.denied',
];

const actionTone = (action: string) =>
  action.endsWith('.delete') || action.endsWith('.revoke') || action.endsWith('.remove') || action === 'access.denied' || action.startsWith('auth.login_')
    ? 'red'
    : action.endsWith('.create') || action.endsWith('.add')
      ? 'green'
      : 'blue';

export function AuditPage() {
  const client = useClient();
  const can = useAbilities();
  const [group, setGroup] = useState('');
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [open, setOpen] = useState<string | null>(null);
  const filter = useDebounced({ group: group || undefined, action: action.trim() || undefined, actor: actor.trim() || undefined }, 250);

  const audit = useInfiniteQuery({
    queryKey: keys.audit(filter),
    queryFn: ({ pageParam }) => client.audit({ ...filter, limit: 50, pageToken: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken,
    enabled: can.canReadAudit,
  });

  usePageTitle('Audit log', 'Admin');
  if (!can.canReadAudit)
    return <EmptyCard title="The audit log is for administrators">System administrators and group admins can read who changed what.</EmptyCard>;

  const rows = audit.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = Boolean(filter.group || filter.action || filter.actor);

  return (
    <section aria-label="Audit log">
      <form className="filters" role="search" aria-label="Filter audit log" onSubmit={(e) => e.preventDefault()}>
        <select aria-label="Filter by group" value={group} onChange={(e) => setGroup(e.target.value)} data-testid="audit-group">
          <option value="">{can.isAdmin ? 'All groups' : 'All my groups'}</option>
          {can.adminGroups.map((g) => (
            <option key={g} value={g}>
              {g}
            </option>
          ))}
        </select>
        <input
          aria-label="Filter by action"
          placeholder="Action, e.g. token.create"
          list="audit-actions"
          value={action}
          onChange={(e) => setAction(e.target.value)}
          data-testid="audit-action"
        />
        <datalist id="audit-actions">
          {knownActions.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <input aria-label="Filter by actor" placeholder="Actor (username)" value={actor} onChange={(e) => setActor(e.target.value)} data-testid="audit-actor" />
        {filtered && (
          <Button
            variant="ghost"
            size="sm"
            onClick={() => {
              setGroup('');
              setAction('');
              setActor('');
            }}
          >
            Clear
          </Button>
        )}
        <div className="toolbar-spacer" />
        {audit.isFetching && !audit.isFetchingNextPage && <span className="spinner spinner-inline" aria-label="Refreshing" />}
        <Button onClick={() => void audit.refetch()}>Refresh</Button>
      </form>
      <TableCard
        query={audit}
        empty={
          rows.length === 0 && (
            <EmptyState title={filtered ? 'No entries match these filters' : 'No audit entries yet'}>
              Changes to users, groups, members and tokens are recorded here.
            </EmptyState>
          )
        }
      >
        <table className="table table-clickable" data-testid="audit-table">
          <TableHead columns={['Time', 'Actor', 'Token', 'Action', 'Resource', 'Group', 'IP', { label: 'Details', className: 'col-toggle', hidden: true }]} />
          <tbody>
            {rows.map((e) => (
              <AuditRow key={e.id} entry={e} open={open === e.id} onToggle={() => setOpen(open === e.id ? null : e.id)} />
            ))}
          </tbody>
        </table>
      </TableCard>
      <LoadMore query={audit} testId="audit-load-more" />
    </section>
  );
}

function AuditRow({ entry: e, open, onToggle }: { entry: AuditEntry; open: boolean; onToggle: () => void }) {
  // Token ids mean nothing to a reader; the name recorded with the entry does.
  const name = typeof e.details?.name === 'string' ? e.details.name : undefined;
  const label = name ?? e.resourceId;
  return (
    <Fragment>
      <tr data-testid="audit-row" data-action={e.action} onClick={onToggle} className={open ? 'row-open' : undefined}>
        <td>
          <Time at={e.at} />
        </td>
        <td>{e.actor ?? <span className="muted">system</span>}</td>
        <td className="small" title={e.actorTokenId ?? undefined}>
          {e.actorTokenName ?? <span className="muted">—</span>}
        </td>
        <td>
          <Badge tone={actionTone(e.action)}>
            <span className="mono">{e.action}</span>
          </Badge>
        </td>
        <td>
          <span className="muted">{e.resourceType}</span>
          {label && (
            <>
              {' '}
              <span className={label === e.resourceId ? 'mono' : undefined} title={e.resourceId ?? undefined}>
                {label}
              </span>
            </>
          )}
        </td>
        <td>{e.group ?? <span className="muted">—</span>}</td>
        <td className="mono small">{e.ip ?? <span className="muted">—</span>}</td>
        <td className="col-toggle">
          <button
            type="button"
            className="icon-button"
            aria-label="Details"
            aria-expanded={open}
            onClick={(ev) => {
              ev.stopPropagation();
              onToggle();
            }}
          >
            <ChevronDownIcon size={14} style={{ transform: open ? 'rotate(180deg)' : undefined }} />
          </button>
        </td>
      </tr>
      {open && (
        <tr className="row-details">
          <td colSpan={8}>
            <dl className="kv">
              <dt>Entry</dt>
              <dd className="mono">{e.id}</dd>
              <dt>Token</dt>
              <dd className="mono">{e.actorTokenId ?? '—'}</dd>
              <dt>Request</dt>
              <dd className="mono">{e.requestId ?? '—'}</dd>
              <dt>Details</dt>
              <dd>{e.details ? <pre className="json">{JSON.stringify(e.details, null, 2)}</pre> : <span className="muted">none</span>}</dd>
            </dl>
          </td>
        </tr>
      )}
    </Fragment>
  );
}
