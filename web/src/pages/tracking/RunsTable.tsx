import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { MetricValue, Run } from '@forja/contracts';
import { readStored, useClient, writeStored } from '../../session';
import { keys } from '../../hooks';
import { Button, EmptyState, ErrorText, Spinner, relativeTime } from '../../components/ui';
import { ChevronDownIcon } from '../../components/icons';
import { FilterBar, filterErrorOf } from '../../components/FilterBar';
import { ColumnChooser, type KnownKeys } from './ColumnChooser';
import { columnId, orderByOf, parseColumnId, sortableAttributes, type DataColumn, type Sort, type SortableAttribute } from './filters';
import { formatDuration, formatMetric, MAX_COMPARE, runDuration, StatusBadge } from './format';

const PAGE = 200;
const ROW_HEIGHT = 37;
/** Runs sampled (with every key) to offer columns; the table itself only ever fetches the chosen ones. */
const KEY_SAMPLE = 20;
const DEFAULT_METRICS = 3;
const DEFAULT_PARAMS = 3;
/** Start fetching the next page this many rows before the end is scrolled into view. */
const PREFETCH_ROWS = 40;

const width = { select: 40, name: 200, status: 96, start_time: 100, duration: 100, user_id: 100, data: 132 };

interface Row {
  run: Run;
  /** By column id ("metrics.acc"): a metric value, or the string of a param or tag. */
  values: Map<string, MetricValue | string>;
}

function toRow(run: Run): Row {
  const values = new Map<string, MetricValue | string>();
  for (const m of run.data.metrics) values.set(`metrics.${m.key}`, m.value);
  for (const p of run.data.params) values.set(`params.${p.key}`, p.value);
  for (const t of run.data.tags) values.set(`tags.${t.key}`, t.value);
  return { run, values };
}

function knownKeysOf(runs: Run[]): KnownKeys {
  const sorted = (items: Iterable<string>) => [...new Set(items)].sort();
  return {
    metrics: sorted(runs.flatMap((r) => r.data.metrics.map((m) => m.key))),
    params: sorted(runs.flatMap((r) => r.data.params.map((p) => p.key))),
    tags: sorted(runs.flatMap((r) => r.data.tags.map((t) => t.key))),
  };
}

const defaultColumns = (known: KnownKeys): DataColumn[] => [
  ...known.metrics.slice(0, DEFAULT_METRICS).map((key) => ({ kind: 'metrics' as const, key })),
  ...known.params.slice(0, DEFAULT_PARAMS).map((key) => ({ kind: 'params' as const, key })),
];

/** The chosen columns, remembered per experiment in this browser; until a choice, a few of the keys the runs use. */
function useColumns(experimentId: string, known: KnownKeys | undefined) {
  const storageKey = `forja.runColumns.${experimentId}`;
  const [stored, setStored] = useState<DataColumn[] | undefined>(() => {
    try {
      const ids = JSON.parse(readStored(storageKey) ?? 'null') as unknown;
      return Array.isArray(ids) ? ids.map((id) => parseColumnId(String(id))).filter((c) => c !== undefined) : undefined;
    } catch {
      return undefined;
    }
  });
  const set = (cols: DataColumn[] | undefined) => {
    writeStored(storageKey, cols && JSON.stringify(cols.map(columnId)));
    setStored(cols);
  };
  return [stored ?? (known ? defaultColumns(known) : undefined), set] as const;
}

/** The runs of one experiment: filter, sort, choose columns, page through thousands, select to compare. */
export function RunsSection({ experimentId }: { experimentId: string }) {
  const client = useClient();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const filter = params.get('filter') ?? '';
  const sortColumn = params.get('sort');
  const sort: Sort | undefined = sortColumn ? { column: sortColumn, desc: params.get('desc') !== '0' } : undefined;
  const [selected, setSelected] = useState<Set<string>>(() => new Set());

  const known = useQuery({
    queryKey: keys.runKeys(experimentId),
    queryFn: async () => knownKeysOf((await client.runs.search({ experimentIds: [experimentId], maxResults: KEY_SAMPLE })).runs),
    staleTime: 60_000,
  });
  const [columns, setColumns] = useColumns(experimentId, known.data);

  const search = { filter: filter || undefined, orderBy: sort ? [orderByOf(sort)] : [], columns: columns?.map(columnId) };
  const runs = useInfiniteQuery({
    queryKey: keys.runs(experimentId, search),
    queryFn: ({ pageParam }) => client.runs.search({ experimentIds: [experimentId], ...search, maxResults: PAGE, pageToken: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken,
    // Wait for the column choice: fetching every key of every run is what the projection avoids.
    enabled: columns !== undefined,
    // A new sort or column keeps the old rows on screen until the new ones arrive.
    placeholderData: keepPreviousData,
  });
  const rows = useMemo(() => (runs.data?.pages ?? []).flatMap((p) => p.runs.map(toRow)), [runs.data]);

  const update = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === '') next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };
  const onSort = (column: string, firstDesc: boolean) => {
    const desc = sort?.column === column ? !sort.desc : firstDesc;
    update({ sort: column, desc: desc ? '1' : '0' });
  };

  const toggle = (runId: string) =>
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(runId)) next.delete(runId);
      else next.add(runId);
      return next;
    });
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.run.info.runId));
  const canCompare = selected.size >= 2 && selected.size <= MAX_COMPARE;

  const filterError = filterErrorOf(runs.error);

  return (
    <section aria-label="Runs">
      <FilterBar
        filter={filter}
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

      <div className="toolbar">
        <div className="toolbar-title">
          <span className="muted" data-testid="runs-count" data-count={rows.length}>
            {runs.isSuccess ? `${rows.length}${runs.hasNextPage ? '+' : ''} run${rows.length === 1 && !runs.hasNextPage ? '' : 's'}` : '\u00a0'}
          </span>
          {selected.size > 0 && (
            <>
              <span className="muted">·</span>
              <span data-testid="selected-count">{selected.size} selected</span>
              <Button size="sm" variant="ghost" onClick={() => setSelected(new Set())}>
                Clear selection
              </Button>
            </>
          )}
          {runs.isFetching && !runs.isFetchingNextPage && <span className="spinner spinner-muted" aria-label="Refreshing" />}
        </div>
        <div className="page-actions">
          <ColumnChooser known={known.data} columns={columns ?? []} onChange={setColumns} onReset={() => setColumns(undefined)} />
          <Button
            variant="primary"
            disabled={!canCompare}
            title={canCompare ? undefined : `Select 2 to ${MAX_COMPARE} runs to compare`}
            onClick={() => navigate(`/compare?runs=${[...selected].map(encodeURIComponent).join(',')}`)}
            data-testid="compare-runs"
          >
            Compare{selected.size > 0 ? ` ${selected.size}` : ''}
          </Button>
        </div>
      </div>

      <div className="card runs-card">
        {runs.isPending && !filterError ? (
          <Spinner label="Loading runs…" />
        ) : runs.isError && !filterError ? (
          <div className="card-pad">
            <ErrorText error={runs.error} />
          </div>
        ) : rows.length === 0 ? (
          <EmptyState title={filterError ? 'The filter has a mistake' : filter ? 'No runs match this filter' : 'No runs yet'}>
            {filterError
              ? 'Fix the filter to see runs.'
              : filter
                ? 'Loosen the filter or clear it.'
                : 'Runs logged to this experiment from the SDKs or the mlflow client appear here.'}
          </EmptyState>
        ) : (
          <RunsGrid
            rows={rows}
            columns={columns ?? []}
            sort={sort}
            onSort={onSort}
            selected={selected}
            onToggle={toggle}
            allSelected={allSelected}
            onToggleAll={() => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.run.info.runId)))}
            onNearEnd={() => {
              if (runs.hasNextPage && !runs.isFetchingNextPage) void runs.fetchNextPage();
            }}
          />
        )}
        {runs.hasNextPage && rows.length > 0 && (
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

function RunsGrid({
  rows,
  columns,
  sort,
  onSort,
  selected,
  onToggle,
  allSelected,
  onToggleAll,
  onNearEnd,
}: {
  rows: Row[];
  columns: DataColumn[];
  sort: Sort | undefined;
  onSort: (column: string, firstDesc: boolean) => void;
  selected: Set<string>;
  onToggle: (runId: string) => void;
  allSelected: boolean;
  onToggleAll: () => void;
  onNearEnd: () => void;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    // React 19 warns when flushSync runs during render; a frame of lag while scrolling is not visible.
    useFlushSync: false,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items[items.length - 1]?.index ?? 0;
  useEffect(() => {
    if (lastIndex >= rows.length - PREFETCH_ROWS) onNearEnd();
  }, [lastIndex, rows.length, onNearEnd]);

  const top = items[0]?.start ?? 0;
  const bottom = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  const tableWidth = width.select + width.name + width.status + width.start_time + width.duration + width.user_id + columns.length * width.data;
  const now = Date.now();

  const attrHeader = (attr: SortableAttribute, firstDesc: boolean) => (
    <SortHeader id={`attributes.${attr}`} sort={sort} onSort={onSort} firstDesc={firstDesc} isDefault={attr === 'start_time' && !sort}>
      {sortableAttributes[attr]}
    </SortHeader>
  );

  return (
    <div className="runs-scroll" ref={scrollRef}>
      <table className="table runs-table" style={{ width: tableWidth }} data-testid="runs-table">
        <colgroup>
          <col style={{ width: width.select }} />
          <col style={{ width: width.name }} />
          <col style={{ width: width.status }} />
          <col style={{ width: width.start_time }} />
          <col style={{ width: width.duration }} />
          <col style={{ width: width.user_id }} />
          {columns.map((c) => (
            <col key={columnId(c)} style={{ width: width.data }} />
          ))}
        </colgroup>
        <thead>
          <tr>
            <th className="sticky-col col-select">
              <input type="checkbox" aria-label="Select all loaded runs" checked={allSelected} onChange={onToggleAll} />
            </th>
            <th className="sticky-col col-name" aria-sort={ariaSort(sort, 'attributes.run_name')}>
              {attrHeader('run_name', false)}
            </th>
            <th aria-sort={ariaSort(sort, 'attributes.status')}>{attrHeader('status', false)}</th>
            <th aria-sort={ariaSort(sort, 'attributes.start_time') ?? (sort ? undefined : 'descending')}>{attrHeader('start_time', true)}</th>
            <th>Duration</th>
            <th aria-sort={ariaSort(sort, 'attributes.user_id')}>{attrHeader('user_id', false)}</th>
            {columns.map((c) => (
              <th key={columnId(c)} className={`col-data col-${c.kind}`} aria-sort={ariaSort(sort, columnId(c))} title={columnId(c)}>
                <SortHeader id={columnId(c)} sort={sort} onSort={onSort} firstDesc={c.kind === 'metrics'}>
                  <span className="col-kind">{c.kind === 'metrics' ? 'metric' : c.kind === 'params' ? 'param' : 'tag'}</span>
                  <span className="col-key">{c.key}</span>
                </SortHeader>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {top > 0 && <tr className="spacer" style={{ height: top }} aria-hidden="true" />}
          {items.map((item) => {
            const { run, values } = rows[item.index]!;
            const info = run.info;
            const isSelected = selected.has(info.runId);
            const duration = runDuration(info, now);
            return (
              <tr
                key={info.runId}
                className={isSelected ? 'row-selected' : undefined}
                style={{ height: ROW_HEIGHT }}
                data-testid="run-row"
                data-run-name={info.runName}
              >
                <td className="sticky-col col-select">
                  <input type="checkbox" aria-label={`Select ${info.runName}`} checked={isSelected} onChange={() => onToggle(info.runId)} />
                </td>
                <td className="sticky-col col-name">
                  <Link to={`/runs/${encodeURIComponent(info.runId)}`} className="cell-link" title={info.runName}>
                    {info.runName}
                  </Link>
                </td>
                <td>
                  <StatusBadge status={info.status} />
                </td>
                <td title={info.startTime === null ? undefined : new Date(info.startTime).toISOString()}>
                  {info.startTime === null ? '—' : relativeTime(info.startTime, now)}
                </td>
                <td className="num">{duration === null ? <span className="muted">—</span> : formatDuration(duration)}</td>
                <td title={info.userId}>{info.userId || <span className="muted">—</span>}</td>
                {columns.map((c) => {
                  const id = columnId(c);
                  const v = values.get(id);
                  if (v === undefined)
                    return (
                      <td key={id} className={c.kind === 'metrics' ? 'num muted' : 'muted'}>
                        —
                      </td>
                    );
                  if (c.kind === 'metrics')
                    return (
                      <td key={id} className="num" title={String(v)} data-column={id}>
                        {formatMetric(v)}
                      </td>
                    );
                  return (
                    <td key={id} className={c.kind === 'params' ? 'mono' : undefined} title={String(v)} data-column={id}>
                      {String(v)}
                    </td>
                  );
                })}
              </tr>
            );
          })}
          {bottom > 0 && <tr className="spacer" style={{ height: bottom }} aria-hidden="true" />}
        </tbody>
      </table>
    </div>
  );
}

function ariaSort(sort: Sort | undefined, id: string): 'ascending' | 'descending' | undefined {
  if (sort?.column !== id) return undefined;
  return sort.desc ? 'descending' : 'ascending';
}

function SortHeader({
  id,
  sort,
  onSort,
  firstDesc,
  isDefault,
  children,
}: {
  id: string;
  sort: Sort | undefined;
  onSort: (column: string, firstDesc: boolean) => void;
  firstDesc: boolean;
  /** Shown as sorted descending when nothing else is: the server's own order. */
  isDefault?: boolean;
  children: ReactNode;
}) {
  const active = sort?.column === id || isDefault;
  const desc = sort?.column === id ? sort.desc : true;
  return (
    <button type="button" className={`th-sort${active ? ' active' : ''}`} onClick={() => onSort(id, firstDesc)} data-testid={`sort-${id}`}>
      <span className="th-label">{children}</span>
      <ChevronDownIcon size={12} className="sort-icon" style={{ transform: active && !desc ? 'rotate(180deg)' : undefined, opacity: active ? 1 : 0 }} />
    </button>
  );
}
