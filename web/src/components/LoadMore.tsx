import type { ReactNode } from 'react';
import { Button } from './ui';

/** What the button reads of a paged query; a react-query infinite query fits as it is. */
interface PagedQuery {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => Promise<unknown>;
}

/** The button under a paged list that appends its next page; gone once the last page is in. */
export function LoadMore({ query, testId, children = 'Load more' }: { query: PagedQuery; testId?: string; children?: ReactNode }) {
  if (!query.hasNextPage) return null;
  return (
    <div className="load-more">
      <Button onClick={() => void query.fetchNextPage()} pending={query.isFetchingNextPage} data-testid={testId}>
        {children}
      </Button>
    </div>
  );
}
