import { useSearchParams } from 'react-router';

export type Version = 'all' | 'latest' | number;
export interface Order {
  column: string;
  desc: boolean;
}
export const PAGE_SIZES = [25, 50, 100, 500];
const DEFAULT_PAGE_SIZE = 50;

/** What the preview of a lake table selects; it lives in the page's address, so a link opens the same rows. */
export interface PreviewState {
  filter: string;
  /** The columns read, in the table's order; null for all of them. */
  columns: string[] | null;
  version: Version;
  order: Order | null;
  pageSize: number;
  /** The page tokens walked so far: the last is the page shown (undefined is the first page). */
  pages: (string | undefined)[];
}

/**
 * The address's parameters: `filter`, `sort` and `desc=1`, one `col` per chosen column, `version`
 * (`latest` or a number), `rows` (page size) and one `page` per page token walked. What does not
 * fit the table (an unknown column, a bad number) is left out rather than refused; a filter that
 * does not parse comes back from the server as the filter's error.
 */
export function readPreviewState(params: URLSearchParams, columnNames: readonly string[]): PreviewState {
  const known = new Set(columnNames);
  const chosen = new Set(params.getAll('col').filter((c) => known.has(c)));
  const sort = params.get('sort');
  const version = params.get('version');
  const size = Number(params.get('rows'));
  return {
    filter: params.get('filter') ?? '',
    columns: chosen.size > 0 && chosen.size < columnNames.length ? columnNames.filter((c) => chosen.has(c)) : null,
    version: version === 'latest' ? 'latest' : version !== null && /^\d+$/.test(version) ? Number(version) : 'all',
    order: sort !== null && known.has(sort) ? { column: sort, desc: params.get('desc') === '1' } : null,
    pageSize: PAGE_SIZES.includes(size) ? size : DEFAULT_PAGE_SIZE,
    pages: [undefined, ...params.getAll('page').filter(Boolean)],
  };
}

export function writePreviewState(s: PreviewState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.filter) p.set('filter', s.filter);
  if (s.order) {
    p.set('sort', s.order.column);
    if (s.order.desc) p.set('desc', '1');
  }
  for (const c of s.columns ?? []) p.append('col', c);
  if (s.version !== 'all') p.set('version', String(s.version));
  if (s.pageSize !== DEFAULT_PAGE_SIZE) p.set('rows', String(s.pageSize));
  for (const token of s.pages.slice(1)) if (token) p.append('page', token);
  return p;
}

/**
 * The preview's state read from and written to the address (replacing the entry: a change of the
 * selection is not a step back). A change of the selection starts again at the first page.
 */
export function usePreviewState(columnNames: readonly string[]) {
  const [params, setParams] = useSearchParams();
  const state = readPreviewState(params, columnNames);
  const update = (change: Partial<PreviewState>) => setParams(writePreviewState({ ...state, pages: [undefined], ...change }), { replace: true });
  return { state, update };
}
