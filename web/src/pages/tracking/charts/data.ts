// Each chart reads its runs in one search: the current filter and sort, only the keys it draws.
import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { useClient } from '../../../session';
import { orderByOf } from '../filters';
import { projectionOf } from './fields';

/** The most runs a chart draws; the search itself allows 50,000. */
export const CHART_MAX_RUNS = 10_000;

export const columnsKey = (experimentId: string) => ['experiment', experimentId, 'columns'] as const;

export function useExperimentColumns(experimentId: string) {
  const client = useClient();
  return useQuery({ queryKey: columnsKey(experimentId), queryFn: () => client.experiments.columns(experimentId), staleTime: 60_000 });
}

/** The table's filter and sort from the URL, as a search wants them. */
export function useCurrentSearch() {
  const [params] = useSearchParams();
  const sort = params.get('sort');
  return {
    filter: params.get('filter') || undefined,
    orderBy: sort ? [orderByOf({ column: sort, desc: params.get('desc') !== '0' })] : [],
  };
}

/** The runs of the current filter and sort with just `fields`; `arrivedAt` marks when the answer came, to time the draw from. */
export function useChartRuns(experimentId: string, fields: string[], maxResults = CHART_MAX_RUNS, enabled = true) {
  const client = useClient();
  const search = { ...useCurrentSearch(), columns: projectionOf(fields), maxResults };
  return useQuery({
    queryKey: ['runs', experimentId, 'chart', search],
    queryFn: async () => {
      const page = await client.runs.search({ experimentIds: [experimentId], ...search });
      return { runs: page.runs, more: page.nextPageToken !== undefined };
    },
    enabled: enabled && fields.every(Boolean),
    staleTime: 30_000,
  });
}
