import { useCallback, useEffect, useMemo, useState } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import type { ExperimentColumns } from '@forja/contracts';
import { readStored, useClient, writeStored } from '../../session';
import { keys } from '../../hooks';
import { Button, EmptyState, QueryError, Spinner } from '../../components/ui';
import { FilterBar, filterErrorOf } from '../../components/FilterBar';
import { ColumnChooser } from './ColumnChooser';
import { columnId, columnsFromParam, columnsToParam, orderByOf, type DataColumn } from './filters';
import { MAX_COMPARE } from './format';
import { fetchAllRuns } from './allRuns';
import { groupRows, toRow } from './runRows';
import { pinParam, useRunsView } from './runsView';
import { RunsGrid, type GridItem } from './RunsGrid';
import { BulkActions } from './BulkActions';
import { ExportCsv } from './ExportCsv';

const PAGE = 200;
const DEFAULT_METRICS = 6;
const DEFAULT_PARAMS = 6;

/** The metrics and params that differ between runs, the most recently logged first: what a sweep is about. */
export function defaultColumns(known: ExperimentColumns): DataColumn[] {
  const varying = (items: ExperimentColumns['metrics'], n: number) => items.filter((c) => c.distinct > 1).slice(0, n);
  return [
    ...varying(known.metrics, DEFAULT_METRICS).map((c) => ({ kind: 'metrics' as const, key: c.key })),
    ...varying(known.params, DEFAULT_PARAMS).map((c) => ({ kind: 'params' as const, key: c.key })),
  ];
}

/**
 * The shown columns: the URL's, else the last choice in this browser, else the defaults (which need
 * the experiment's column summary: the only case where the runs request waits for another).
 */
function useColumns(experimentId: string, known: ExperimentColumns | undefined, fromUrl: DataColumn[] | undefined) {
  const storageKey = `forja.runColumns.${experimentId}`;
  const defaultsKey = `forja.runDefaults.${experimentId}`;
  const [stored, setStored] = useState(() => columnsFromParam(readStored(storageKey) ?? null));
  // The defaults of the last visit stand in until the summary answers, so a second visit need not wait for it.
  const [lastDefaults] = useState(() => columnsFromParam(readStored(defaultsKey) ?? null));
  const defaults = useMemo(() => (known ? defaultColumns(known) : lastDefaults), [known, lastDefaults]);
  useEffect(() => {
    if (known && defaults) writeStored(defaultsKey, columnsToParam(defaults));
  }, [known, defaults, defaultsKey]);
  const remember = (cols: DataColumn[] | undefined) => {
    writeStored(storageKey, cols && columnsToParam(cols));
    setStored(cols);
  };
  return [fromUrl ?? stored ?? defaults, remember] as const;
}

/** The runs of one experiment: filter, sort, choose and pin columns, group, export, act on a selection. */
export function RunsSection({ experimentId }: { experimentId: string }) {
  const client = useClient();
  const navigate = useNavigate();
  const location = useLocation();
  const [view, update] = useRunsView();
  const [selected, setSelected] = useState<Set<string>>(() => new Set());
  const [expanded, setExpanded] = useState<Set<string | undefined>>(() => new Set());

  // Asked for after the first page of runs: on SQLite the summary of a big experiment holds the
  // server for a moment, and the rows must not queue behind it (their data columns fill in after).
  const [rowsShown, setRowsShown] = useState(false);
  const known = useQuery({
    queryKey: keys.runKeys(experimentId),
    queryFn: () => client.experiments.columns(experimentId),
    staleTime: 60_000,
    enabled: rowsShown || view.groupBy !== undefined,
  });
  const [columns, remember] = useColumns(experimentId, known.data, view.cols);
  const shown = useMemo(() => {
    const cols = columns ?? [];
    return [...cols.filter((c) => view.pin.has(columnId(c))), ...cols.filter((c) => !view.pin.has(columnId(c)))];
  }, [columns, view.pin]);
  const setColumns = (cols: DataColumn[], pin: Set<string> = view.pin) => {
    remember(cols);
    update({ cols: columnsToParam(cols), pin: pinParam([...pin].filter((id) => cols.some((c) => columnId(c) === id))) });
  };

  // Sorted, so moving a column around asks for nothing new.
  const fetched = useMemo(() => [...new Set([...(columns ?? []), ...(view.groupBy ? [view.groupBy] : [])].map(columnId))].sort(), [columns, view.groupBy]);
  const base = {
    experimentIds: [experimentId],
    filter: view.filter || undefined,
    orderBy: view.sort ? [orderByOf(view.sort)] : [],
    viewType: view.deleted ? ('DELETED_ONLY' as const) : ('ACTIVE_ONLY' as const),
  };
  const search = { ...base, columns: fetched };
  const runs = useInfiniteQuery({
    queryKey: keys.runs(experimentId, search),
    queryFn: async ({ pageParam }) => {
      const page = await client.runs.search({ ...search, maxResults: PAGE, pageToken: pageParam, includeTotal: pageParam === undefined });
      return { ...page, fetched: new Set(fetched) };
    },
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken,
    // Without a column choice yet (a first visit), the rows come first with no data columns; the
    // defaults, once the summary tells them, are a second request whose cells shimmer meanwhile.
    enabled: !view.groupBy,
    // A new sort or column keeps the old rows on screen (new cells shimmer) until the new ones arrive.
    placeholderData: keepPreviousData,
  });
  const firstPageSettled = runs.isFetched || runs.isError;
  useEffect(() => {
    if (firstPageSettled) setRowsShown(true);
  }, [firstPageSettled]);
  const [groupProgress, setGroupProgress] = useState<string>();
  const grouped = useQuery({
    queryKey: [...keys.runs(experimentId, search), 'all'],
    queryFn: async () => {
      const all = await fetchAllRuns(client, search, (loaded, total) => setGroupProgress(`${loaded.toLocaleString()} of ${total.toLocaleString()}`));
      const had = new Set(fetched);
      return all.map((r) => toRow(r, had));
    },
    // No placeholder: groups of the previous grouping, without the new key's values, would mislead.
    enabled: columns !== undefined && view.groupBy !== undefined,
  });

  const rows = useMemo(() => (runs.data?.pages ?? []).flatMap((p) => p.runs.map((r) => toRow(r, p.fetched))), [runs.data]);
  const groups = useMemo(
    () =>
      view.groupBy && grouped.data
        ? groupRows(
            grouped.data,
            view.groupBy,
            shown.filter((c) => c.kind === 'metrics'),
          )
        : undefined,
    [grouped.data, view.groupBy, shown],
  );
  const items: GridItem[] = useMemo(() => {
    if (!groups) return rows.map((row) => ({ kind: 'run', row }));
    return groups.flatMap((group): GridItem[] => {
      const open = expanded.has(group.value);
      return [{ kind: 'group', group, expanded: open }, ...(open ? group.rows.map((row): GridItem => ({ kind: 'run', row })) : [])];
    });
  }, [groups, rows, expanded]);
  const visibleRuns = groups ? (grouped.data ?? []) : rows;
  const total = view.groupBy ? grouped.data?.length : runs.data?.pages[0]?.total;
  const active = view.groupBy ? grouped : runs;

  const onSort = (column: string, firstDesc: boolean) => {
    const desc = view.sort?.column === column ? !view.sort.desc : firstDesc;
    update({ sort: column, desc: desc ? '1' : '0' });
  };
  const toggle = (runId: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(runId)) next.delete(runId);
      else next.add(runId);
      return next;
    });
  const allSelected = visibleRuns.length > 0 && visibleRuns.every((r) => selected.has(r.run.info.runId));
  const canCompare = selected.size >= 2 && selected.size <= MAX_COMPARE;
  const onNearEnd = useCallback(() => {
    if (runs.hasNextPage && !runs.isFetchingNextPage && !view.groupBy) void runs.fetchNextPage();
  }, [runs, view.groupBy]);
  const togglePin = (id: string) => {
    const pin = new Set(view.pin);
    if (pin.has(id)) pin.delete(id);
    else pin.add(id);
    update({ pin: pinParam(pin), cols: columnsToParam(columns ?? []) });
  };
  const move = (id: string, beforeId: string | undefined) => {
    const cols = columns ?? [];
    const moving = cols.find((c) => columnId(c) === id);
    if (!moving) return;
    const rest = cols.filter((c) => columnId(c) !== id);
    const at = beforeId === undefined ? rest.length : rest.findIndex((c) => columnId(c) === beforeId);
    setColumns([...rest.slice(0, at), moving, ...rest.slice(at)]);
  };
  const groupable = [...(known.data?.params ?? []).map((c) => `params.${c.key}`), ...(known.data?.tags ?? []).map((c) => `tags.${c.key}`)];

  const filterError = filterErrorOf(active.error);
  const loadedCount = view.groupBy ? visibleRuns.length : rows.length;
  const countText =
    total !== undefined
      ? `${loadedCount === total ? '' : `${loadedCount.toLocaleString()} of `}${total.toLocaleString()} ${view.deleted ? 'deleted ' : ''}run${total === 1 ? '' : 's'}${view.groupBy && groups ? ` in ${groups.length.toLocaleString()} groups` : ''}`
      : '\u00a0';

  return (
    <section aria-label="Runs">
      <FilterBar
        filter={view.filter}
        onApply={(f) => update({ filter: f })}
        label="Filter runs"
        placeholder="metrics.acc > 0.9 AND params.model = 'xgb'"
        testId="runs-filter"
        error={filterError}
        hint={
          <>
            Compare with <code>= != &lt; &gt; LIKE IN</code>, combine with <code>AND OR NOT ( )</code>, test presence with <code>IS NULL</code>. Keys:{' '}
            <code>metrics.</code>, <code>params.</code>, <code>tags.</code>, <code>attributes.status</code>… Backtick keys with spaces:{' '}
            <code>metrics.`val loss`</code>.
          </>
        }
      />

      <div className="toolbar runs-toolbar">
        <div className="toolbar-title">
          <span className="muted" data-testid="runs-count" data-count={loadedCount} data-total={total}>
            {active.isSuccess ? countText : '\u00a0'}
          </span>
          {selected.size > 0 && (
            <>
              <span className="muted">·</span>
              <span data-testid="selected-count">{selected.size.toLocaleString()} selected</span>
              <BulkActions experimentId={experimentId} selected={selected} deletedView={view.deleted} onDone={() => setSelected(new Set())} />
              <Button size="sm" variant="ghost" onClick={() => setSelected(new Set())}>
                Clear selection
              </Button>
            </>
          )}
          {active.isFetching && !runs.isFetchingNextPage && (
            <span
              className="spinner spinner-muted"
              role="status"
              aria-label={groupProgress && view.groupBy ? `Loading runs: ${groupProgress}` : 'Refreshing'}
            />
          )}
          {view.groupBy && grouped.isFetching && groupProgress && <span className="muted small">{groupProgress}</span>}
        </div>
        <div className="page-actions">
          <label className="inline-select">
            <span className="muted small">Group by</span>
            <select
              value={view.groupBy ? columnId(view.groupBy) : ''}
              onChange={(e) => {
                setExpanded(new Set());
                update({ groupBy: e.target.value || undefined });
              }}
              data-testid="group-by"
            >
              <option value="">nothing</option>
              {view.groupBy && !groupable.includes(columnId(view.groupBy)) && <option value={columnId(view.groupBy)}>{columnId(view.groupBy)}</option>}
              {groupable.map((id) => (
                <option key={id} value={id}>
                  {id}
                </option>
              ))}
            </select>
          </label>
          <Button
            onClick={() => {
              setSelected(new Set());
              update({ show: view.deleted ? undefined : 'deleted' });
            }}
            aria-pressed={view.deleted}
            data-testid="show-deleted"
          >
            {view.deleted ? 'Back to active runs' : 'Deleted runs'}
          </Button>
          <ExportCsv search={base} columns={shown} fileName={`experiment-${experimentId}-runs.csv`} />
          <ColumnChooser
            known={known.data}
            columns={columns ?? []}
            pinned={view.pin}
            onApply={(cols, pin) => setColumns(cols, pin)}
            onReset={() => {
              remember(undefined);
              update({ cols: undefined, pin: undefined });
            }}
          />
          <Button
            variant="primary"
            disabled={!canCompare}
            title={canCompare ? undefined : `Select 2 to ${MAX_COMPARE} runs to compare`}
            onClick={() => navigate(`/compare?runs=${[...selected].map(encodeURIComponent).join(',')}`)}
            data-testid="compare-runs"
          >
            Compare{selected.size > 0 && selected.size <= MAX_COMPARE ? ` ${selected.size}` : ''}
          </Button>
        </div>
      </div>

      <div className="card runs-card">
        {active.isPending && !filterError ? (
          <Spinner label={view.groupBy && groupProgress ? `Loading runs to group: ${groupProgress}` : 'Loading runs…'} />
        ) : known.isError && columns === undefined ? (
          <div className="card-pad">
            <QueryError query={known} />
          </div>
        ) : active.isError && !filterError ? (
          <div className="card-pad">
            <QueryError query={active} />
          </div>
        ) : items.length === 0 ? (
          <EmptyState
            title={filterError ? 'The filter has a mistake' : view.filter ? 'No runs match this filter' : view.deleted ? 'No deleted runs' : 'No runs yet'}
          >
            {filterError
              ? 'Fix the filter to see runs.'
              : view.filter
                ? 'Loosen the filter or clear it.'
                : view.deleted
                  ? 'Runs deleted from this experiment appear here, to restore.'
                  : 'Runs logged to this experiment from the SDKs or the mlflow client appear here.'}
          </EmptyState>
        ) : (
          <RunsGrid
            items={items}
            columns={shown}
            pinned={view.pin}
            groupBy={view.groupBy}
            sort={view.sort}
            onSort={onSort}
            onTogglePin={togglePin}
            onMove={move}
            selected={selected}
            onToggle={toggle}
            allSelected={allSelected}
            onToggleAll={() => setSelected(allSelected ? new Set() : new Set(visibleRuns.map((r) => r.run.info.runId)))}
            onToggleGroup={(value) =>
              setExpanded((e) => {
                const next = new Set(e);
                if (next.has(value)) next.delete(value);
                else next.add(value);
                return next;
              })
            }
            onNearEnd={onNearEnd}
            scrollKey={location.key}
          />
        )}
        {!view.groupBy && runs.hasNextPage && rows.length > 0 && (
          <div className="runs-footer">
            <Button size="sm" onClick={() => void runs.fetchNextPage()} pending={runs.isFetchingNextPage} data-testid="runs-load-more">
              Load {PAGE} more
            </Button>
          </div>
        )}
      </div>
    </section>
  );
}
