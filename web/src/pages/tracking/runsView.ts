import { useSearchParams } from 'react-router';
import { columnsFromParam, parseColumnId, type DataColumn, type Sort } from './filters';

/**
 * What a runs table shows, all of it in the URL so a link restores the view:
 * `filter`, `sort` + `desc`, `cols` (shown columns in order), `pin` (pinned ones), `groupBy`,
 * `show=deleted` (the deleted runs, to restore). Absent `cols` means the remembered or default columns.
 */
export interface RunsView {
  filter: string;
  sort: Sort | undefined;
  cols: DataColumn[] | undefined;
  pin: Set<string>;
  groupBy: DataColumn | undefined;
  deleted: boolean;
}

export type ViewChange = Partial<Record<'filter' | 'sort' | 'desc' | 'cols' | 'pin' | 'groupBy' | 'show', string | undefined>>;

export function useRunsView(): [RunsView, (changes: ViewChange) => void] {
  const [params, setParams] = useSearchParams();
  const sortColumn = params.get('sort');
  const view: RunsView = {
    filter: params.get('filter') ?? '',
    sort: sortColumn ? { column: sortColumn, desc: params.get('desc') !== '0' } : undefined,
    cols: columnsFromParam(params.get('cols')),
    pin: new Set(params.get('pin')?.split(',').filter(Boolean) ?? []),
    groupBy: parseColumnId(params.get('groupBy') ?? ''),
    deleted: params.get('show') === 'deleted',
  };
  const update = (changes: ViewChange) =>
    // Functional, so two changes in one event both land; replace, so typing leaves no trail of history entries.
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [k, v] of Object.entries(changes)) {
          if (v === undefined || v === '') next.delete(k);
          else next.set(k, v);
        }
        return next;
      },
      { replace: true },
    );
  return [view, update];
}

export const pinParam = (pin: Iterable<string>) => [...pin].join(',') || undefined;
