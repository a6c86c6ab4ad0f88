import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { EmptyState, ErrorText, Spinner } from './ui';

interface ListQuery {
  isPending: boolean;
  isSuccess: boolean;
  isError: boolean;
  isFetching: boolean;
  error: unknown;
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
  if (!group)
    return (
      <div className="card">
        <EmptyState icon={icon} title="No group selected" action={<Link to="/admin/groups">Go to groups</Link>}>
          {kind ?? things[0][0]!.toUpperCase() + things[0].slice(1)} belong to a group. Create one, or ask a group admin to add you.
        </EmptyState>
      </div>
    );
  return (
    <>
      <div className="toolbar">
        <div className="toolbar-title">
          {query.isSuccess && (
            <span className="muted" data-testid={countTestId}>
              {count} {count === 1 ? things[1] : things[0]}
            </span>
          )}
          {query.isFetching && !query.isPending && <span className="spinner spinner-inline spinner-muted" aria-hidden="true" />}
        </div>
      </div>
      <div className="card table-card">
        {query.isPending ? (
          <Spinner />
        ) : query.isError ? (
          <div className="card-pad">
            <ErrorText error={query.error} />
          </div>
        ) : count === 0 ? (
          <EmptyState icon={icon} title={empty.title} action={empty.action}>
            {empty.text}
          </EmptyState>
        ) : (
          children
        )}
      </div>
    </>
  );
}
