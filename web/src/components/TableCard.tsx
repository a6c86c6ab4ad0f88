import type { ReactNode } from 'react';
import { QueryError, Spinner, type FailedQuery } from './ui';

/** What the card reads of the list's query; a react-query result fits as it is. */
interface ListQuery extends FailedQuery {
  isPending: boolean;
  isError: boolean;
}

/**
 * The card a list's table sits in: a spinner while the query loads, its error and a retry when it failed,
 * `empty` when it is set (pass it when nothing was found), and the table otherwise.
 */
export function TableCard({ query, empty, head, children }: { query: ListQuery; empty?: ReactNode; head?: ReactNode; children: ReactNode }) {
  return (
    <div className="card table-card">
      {head}
      {query.isPending ? (
        <Spinner />
      ) : query.isError ? (
        <div className="card-pad">
          <QueryError query={query} />
        </div>
      ) : (
        empty || children
      )}
    </div>
  );
}
