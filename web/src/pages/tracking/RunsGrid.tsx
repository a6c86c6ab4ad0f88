import { useEffect, useLayoutEffect, useRef, useState, type CSSProperties, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useVirtualizer } from '@tanstack/react-virtual';
import { relativeTime } from '../../components/ui';
import { ChevronDownIcon } from '../../components/icons';
import { columnId, sortableAttributes, type DataColumn, type Sort, type SortableAttribute } from './filters';
import { formatDuration, formatMetric, runDuration, StatusBadge } from './format';
import type { Row, RunGroup } from './runRows';

const ROW_HEIGHT = 37;
/** Start fetching the next page this many rows before the end is scrolled into view. */
const PREFETCH_ROWS = 40;
const width = { select: 40, name: 200, status: 96, start_time: 100, duration: 100, user_id: 100, data: 132 };
/** Where pinned columns start: after the select box and the run name, which always stay. */
const PINNED_LEFT = width.select + width.name;

/** A line of the grid: a run, or the header of a group of runs. */
export type GridItem = { kind: 'run'; row: Row } | { kind: 'group'; group: RunGroup; expanded: boolean };

const SCROLL_KEY = 'forja.runsScroll.';

export function RunsGrid({
  items,
  columns,
  pinned,
  groupBy,
  sort,
  onSort,
  onTogglePin,
  onMove,
  selected,
  onToggle,
  allSelected,
  onToggleAll,
  onToggleGroup,
  onNearEnd,
  scrollKey,
}: {
  items: GridItem[];
  /** Shown data columns, pinned ones first. */
  columns: DataColumn[];
  pinned: ReadonlySet<string>;
  groupBy: DataColumn | undefined;
  sort: Sort | undefined;
  onSort: (column: string, firstDesc: boolean) => void;
  onTogglePin: (id: string) => void;
  /** Moves column `id` to just before `beforeId` (the end when undefined). */
  onMove: (id: string, beforeId: string | undefined) => void;
  selected: Set<string>;
  onToggle: (runId: string) => void;
  allSelected: boolean;
  onToggleAll: () => void;
  onToggleGroup: (value: string | undefined) => void;
  onNearEnd: () => void;
  /** Identifies this visit (history entry): coming back to it restores the scroll position. */
  scrollKey: string;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    // React 19 warns when flushSync runs during render; a frame of lag while scrolling is not visible.
    useFlushSync: false,
  });
  const virtualItems = virtualizer.getVirtualItems();
  const lastIndex = virtualItems[virtualItems.length - 1]?.index ?? 0;
  useEffect(() => {
    if (lastIndex >= items.length - PREFETCH_ROWS) onNearEnd();
  }, [lastIndex, items.length, onNearEnd]);

  // Back from a run page: the same history entry, so the same key, and the position it had.
  const restored = useRef(false);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (restored.current || !el || items.length === 0) return;
    restored.current = true;
    const saved = sessionStorage.getItem(SCROLL_KEY + scrollKey);
    if (saved) {
      const [top, left] = saved.split(',').map(Number);
      virtualizer.scrollToOffset(top ?? 0);
      el.scrollLeft = left ?? 0;
    }
  }, [items.length, scrollKey, virtualizer]);
  const onScroll = () => {
    const el = scrollRef.current;
    if (el && restored.current) sessionStorage.setItem(SCROLL_KEY + scrollKey, `${Math.round(el.scrollTop)},${Math.round(el.scrollLeft)}`);
  };

  const [dragging, setDragging] = useState<string>();
  const top = virtualItems[0]?.start ?? 0;
  const bottom = virtualizer.getTotalSize() - (virtualItems[virtualItems.length - 1]?.end ?? 0);
  const tableWidth = width.select + width.name + width.status + width.start_time + width.duration + width.user_id + columns.length * width.data;
  const now = Date.now();
  const pinnedStyle = (index: number): CSSProperties | undefined =>
    pinned.has(columnId(columns[index]!)) ? { left: PINNED_LEFT + index * width.data } : undefined;
  const lastPinned = columns.filter((c) => pinned.has(columnId(c))).length - 1;
  const dataClass = (c: DataColumn, index: number, extra: string) =>
    [extra, pinned.has(columnId(c)) ? 'sticky-col col-pinned' : '', index === lastPinned ? 'col-pinned-last' : ''].filter(Boolean).join(' ');

  const attrHeader = (attr: SortableAttribute, firstDesc: boolean) => (
    <SortHeader id={`attributes.${attr}`} sort={sort} onSort={onSort} firstDesc={firstDesc} isDefault={attr === 'start_time' && !sort}>
      {sortableAttributes[attr]}
    </SortHeader>
  );

  return (
    <div className="runs-scroll" ref={scrollRef} onScroll={onScroll} data-testid="runs-scroll">
      <table className="table runs-table" style={{ width: tableWidth }} data-testid="runs-table">
        <colgroup>
          <col style={{ width: width.select }} />
          <col style={{ width: width.name }} />
          {columns.map((c) => pinned.has(columnId(c)) && <col key={columnId(c)} style={{ width: width.data }} />)}
          <col style={{ width: width.status }} />
          <col style={{ width: width.start_time }} />
          <col style={{ width: width.duration }} />
          <col style={{ width: width.user_id }} />
          {columns.map((c) => !pinned.has(columnId(c)) && <col key={columnId(c)} style={{ width: width.data }} />)}
        </colgroup>
        <thead>
          <tr>
            <th className="sticky-col col-select">
              <input type="checkbox" aria-label="Select all loaded runs" checked={allSelected} onChange={onToggleAll} />
            </th>
            <th className="sticky-col col-name" aria-sort={ariaSort(sort, 'attributes.run_name')}>
              {attrHeader('run_name', false)}
            </th>
            {columns.map((c, i) => {
              const id = columnId(c);
              const header = (
                <th
                  key={id}
                  className={dataClass(c, i, `col-data col-${c.kind}${dragging === id ? ' col-dragging' : ''}`)}
                  style={pinnedStyle(i)}
                  aria-sort={ariaSort(sort, id)}
                  title={`${id} — drag to move`}
                  draggable
                  onDragStart={(e) => {
                    e.dataTransfer.setData('text/plain', id);
                    e.dataTransfer.effectAllowed = 'move';
                    setDragging(id);
                  }}
                  onDragEnd={() => setDragging(undefined)}
                  onDragOver={(e) => e.preventDefault()}
                  onDrop={(e) => {
                    e.preventDefault();
                    const moved = e.dataTransfer.getData('text/plain');
                    if (moved && moved !== id) onMove(moved, id);
                    setDragging(undefined);
                  }}
                  data-testid={`column-header-${id}`}
                >
                  <div className="th-data">
                    <SortHeader id={id} sort={sort} onSort={onSort} firstDesc={c.kind === 'metrics'}>
                      <span className="col-kind">{c.kind === 'metrics' ? 'metric' : c.kind === 'params' ? 'param' : 'tag'}</span>
                      <span className="col-key">{c.key}</span>
                    </SortHeader>
                    <button
                      type="button"
                      className={`th-pin${pinned.has(id) ? ' active' : ''}`}
                      aria-pressed={pinned.has(id)}
                      aria-label={`${pinned.has(id) ? 'Unpin' : 'Pin'} ${id}`}
                      title={pinned.has(id) ? 'Unpin: scrolls with the others' : 'Pin: stays at the left while scrolling sideways'}
                      onClick={() => onTogglePin(id)}
                      data-testid={`pin-${id}`}
                    >
                      <PinGlyph />
                    </button>
                  </div>
                </th>
              );
              // Pinned headers sit right after the name, the rest after the run attributes.
              return i === lastPinned + 1 ? [attributeHeaders(sort, attrHeader), header] : header;
            })}
            {lastPinned + 1 === columns.length && attributeHeaders(sort, attrHeader)}
          </tr>
        </thead>
        <tbody>
          {top > 0 && <tr className="spacer" style={{ height: top }} aria-hidden="true" />}
          {virtualItems.map((v) => {
            const item = items[v.index]!;
            if (item.kind === 'group')
              return (
                <GroupRow
                  key={`group:${item.group.value ?? ''}`}
                  item={item}
                  columns={columns}
                  split={lastPinned + 1}
                  groupBy={groupBy!}
                  dataClass={dataClass}
                  pinnedStyle={pinnedStyle}
                  onToggle={onToggleGroup}
                />
              );
            const { run, values, fetched } = item.row;
            const info = run.info;
            const isSelected = selected.has(info.runId);
            const duration = runDuration(info, now);
            const dataCells = columns.map((c, i) => {
              const id = columnId(c);
              const v = values.get(id);
              const cls = (base: string) => dataClass(c, i, base);
              if (!fetched.has(id))
                return (
                  <td key={id} className={cls('')} style={pinnedStyle(i)} data-column={id} aria-busy="true">
                    <span className="shimmer" data-testid="cell-loading" />
                  </td>
                );
              if (v === undefined)
                return (
                  <td key={id} className={cls(c.kind === 'metrics' ? 'num muted' : 'muted')} style={pinnedStyle(i)} data-column={id}>
                    —
                  </td>
                );
              return (
                <td
                  key={id}
                  className={cls(c.kind === 'metrics' ? 'num' : c.kind === 'params' ? 'mono' : '')}
                  style={pinnedStyle(i)}
                  title={String(v)}
                  data-column={id}
                >
                  {c.kind === 'metrics' ? formatMetric(v) : String(v)}
                </td>
              );
            });
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
                {dataCells.slice(0, lastPinned + 1)}
                <td>
                  <StatusBadge status={info.status} />
                </td>
                <td title={info.startTime === null ? undefined : new Date(info.startTime).toISOString()}>
                  {info.startTime === null ? '—' : relativeTime(info.startTime, now)}
                </td>
                <td className="num">{duration === null ? <span className="muted">—</span> : formatDuration(duration)}</td>
                <td title={info.userId}>{info.userId || <span className="muted">—</span>}</td>
                {dataCells.slice(lastPinned + 1)}
              </tr>
            );
          })}
          {bottom > 0 && <tr className="spacer" style={{ height: bottom }} aria-hidden="true" />}
        </tbody>
      </table>
    </div>
  );
}

function attributeHeaders(sort: Sort | undefined, attrHeader: (attr: SortableAttribute, firstDesc: boolean) => ReactNode) {
  return [
    <th key="status" aria-sort={ariaSort(sort, 'attributes.status')}>
      {attrHeader('status', false)}
    </th>,
    <th key="start_time" aria-sort={ariaSort(sort, 'attributes.start_time') ?? (sort ? undefined : 'descending')}>
      {attrHeader('start_time', true)}
    </th>,
    <th key="duration">Duration</th>,
    <th key="user_id" aria-sort={ariaSort(sort, 'attributes.user_id')}>
      {attrHeader('user_id', false)}
    </th>,
  ];
}

/** A group's line: its value and size (a button that folds it), and mean, min and max of each metric. */
function GroupRow({
  item,
  columns,
  split,
  groupBy,
  dataClass,
  pinnedStyle,
  onToggle,
}: {
  item: Extract<GridItem, { kind: 'group' }>;
  columns: DataColumn[];
  /** How many of the columns are pinned (they come before the run attributes). */
  split: number;
  groupBy: DataColumn;
  dataClass: (c: DataColumn, index: number, extra: string) => string;
  pinnedStyle: (index: number) => CSSProperties | undefined;
  onToggle: (value: string | undefined) => void;
}) {
  const { group, expanded } = item;
  const label = group.value === undefined ? `no ${groupBy.key}` : `${groupBy.key} = ${group.value}`;
  const cells = columns.map((c, i) => {
    const id = columnId(c);
    const s = group.stats.get(id);
    if (id === columnId(groupBy))
      return (
        <td key={id} className={dataClass(c, i, 'mono')} style={pinnedStyle(i)} data-column={id}>
          {group.value}
        </td>
      );
    if (c.kind !== 'metrics' || !s) return <td key={id} className={dataClass(c, i, '')} style={pinnedStyle(i)} />;
    return (
      <td
        key={id}
        className={dataClass(c, i, 'num group-stats')}
        style={pinnedStyle(i)}
        title={`${id} over ${s.n} runs: mean ${s.mean}, min ${s.min}, max ${s.max}`}
        data-column={id}
        data-mean={s.mean}
        data-min={s.min}
        data-max={s.max}
      >
        <span className="group-mean">{formatMetric(s.mean)}</span>
        <span className="group-range">
          {formatMetric(s.min)} – {formatMetric(s.max)}
        </span>
      </td>
    );
  });
  return (
    <tr className="group-row" style={{ height: ROW_HEIGHT }} data-testid="group-row" data-group={group.value ?? ''} data-count={group.rows.length}>
      <td className="sticky-col col-select" />
      <td className="sticky-col col-name">
        <button type="button" className="group-toggle" aria-expanded={expanded} onClick={() => onToggle(group.value)} title={label}>
          <ChevronDownIcon size={12} style={{ transform: expanded ? undefined : 'rotate(-90deg)' }} />
          <span className="group-label">{label}</span>
          <span className="count-pill">{group.rows.length.toLocaleString()}</span>
        </button>
      </td>
      {cells.slice(0, split)}
      <td colSpan={4} className="muted small">
        {expanded ? '' : 'mean, min – max of each metric'}
      </td>
      {cells.slice(split)}
    </tr>
  );
}

function PinGlyph() {
  return (
    <svg
      width="12"
      height="12"
      viewBox="0 0 16 16"
      aria-hidden="true"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.6"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      <path d="M6 2h4l-.5 4 2.5 2.5H4L6.5 6z" />
      <path d="M8 8.5V14" />
    </svg>
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
