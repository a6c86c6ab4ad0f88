import type { ForjaClient } from '@forja/client';
import type { Run, RunSearch } from '@forja/contracts';

/** Runs per request when every match is needed (CSV, groups): few requests, each still quick. */
const BULK_PAGE = 5000;

/** Every run a search matches, page by page, reporting how many have arrived of how many. */
export async function fetchAllRuns(
  client: ForjaClient,
  search: Omit<RunSearch, 'maxResults' | 'pageToken' | 'includeTotal'>,
  onProgress?: (loaded: number, total: number) => void,
): Promise<Run[]> {
  const runs: Run[] = [];
  let total = 0;
  let pageToken: string | undefined;
  do {
    const page = await client.runs.search({ ...search, maxResults: BULK_PAGE, pageToken, includeTotal: pageToken === undefined });
    total = page.total ?? total;
    runs.push(...page.runs);
    onProgress?.(runs.length, total);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return runs;
}
