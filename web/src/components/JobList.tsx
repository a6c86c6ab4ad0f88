import type { ReactNode } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import { EmptyState, Spinner, QueryError } from './ui';

/** A page's list of jobs (its runs, its deploys): loading, why it cannot be read, what to do while it is empty, else its table in a card. */
export function JobList<T>({
  query,
  empty,
  children,
}: {
  query: UseQueryResult<T[]>;
  empty: { icon: ReactNode; title: string; action?: ReactNode; text: ReactNode };
  /** The table of the items, when there are some. */
  children: (items: T[]) => ReactNode;
}) {
  if (query.isPending) return <Spinner />;
  if (query.isError) return <QueryError query={query} />;
  if (query.data.length === 0) {
    return (
      <div className="card">
        <EmptyState icon={empty.icon} title={empty.title} action={empty.action}>
          {empty.text}
        </EmptyState>
      </div>
    );
  }
  return <div className="card table-card">{children(query.data)}</div>;
}
