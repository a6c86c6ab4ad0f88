import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { EmptyCard, EmptyState, type FailedQuery } from './ui';
import { ListCount } from './ListCount';
import { TableCard } from './TableCard';

interface ListQuery extends FailedQuery {
  isPending: boolean;
  isSuccess: boolean;
  isError: boolean;
  isFetching: boolean;
}

/** In place of a group's things while no group is chosen; `kind` names them, e.g. "Batch projects". */
export function NoGroup({ icon, kind }: { icon: ReactNode; kind: string }) {
  return (
    <EmptyCard icon={icon} title="No group selected" action={<Link to="/admin/groups">Go to groups</Link>}>
      {kind} belong to a group. Create one, or ask a group admin to add you.
    </EmptyCard>
  );
}

/** Above a list: what `children` says once the list has loaded (its count), and a spinner while it refreshes. */
export function ListStatus({ query, children }: { query: ListQuery; children: ReactNode }) {
  return (
    <div className="toolbar">
      <div className="toolbar-title">
        {query.isSuccess && children}
        {query.isFetching && !query.isPending && <span className="spinner spinner-inline spinner-muted" aria-hidden="true" />}
      </div>
    </div>
  );
}

/**
 * The frame every list page of a group's things shares: the no-group notice, a count with a
 * refresh spinner, and the card that shows loading, the error, the empty state or the table.
 */
export function GroupList({
  group,
  icon,
  things,
  kind,
  count,
  countTestId,
  query,
  empty,
  children,
}: {
  group: string | undefined;
  icon: ReactNode;
  /** Plural and singular for the count, e.g. ['pipelines', 'pipeline']. */
  things: [string, string];
  /** What belongs to a group, for the no-group notice ("Batch projects"); the plural by default. */
  kind?: string;
  count: number;
  countTestId?: string;
  query: ListQuery;
  empty: { title: string; action?: ReactNode; text: ReactNode };
  /** The table, shown when there are rows. */
  children: ReactNode;
}) {
  if (!group) return <NoGroup icon={icon} kind={kind ?? things[0][0]!.toUpperCase() + things[0].slice(1)} />;
  return (
    <>
      <ListStatus query={query}>
        <ListCount count={count} things={things} testId={countTestId} />
      </ListStatus>
      <TableCard
        query={query}
        empty={
          count === 0 && (
            <EmptyState icon={icon} title={empty.title} action={empty.action}>
              {empty.text}
            </EmptyState>
          )
        }
      >
        {children}
      </TableCard>
    </>
  );
}
