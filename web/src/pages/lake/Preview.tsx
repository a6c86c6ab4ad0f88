import { useEffect, useRef, useState } from 'react';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import type { LakeQuery, LakeTable } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { Button, ErrorText, Spinner } from '../../components/ui';
import { ChevronDownIcon, DownloadIcon } from '../../components/icons';
import { FilterBar, filterErrorOf } from '../../components/FilterBar';
import { cellText, formatCount, isNumericType, lakeKeys } from './format';
import { PAGE_SIZES, usePreviewState } from './usePreviewState';

const FILTER_HINT = (
  <>
    Comparisons (<span className="mono">= != &lt; &lt;= &gt; &gt;=</span>), <span className="mono">AND OR NOT</span>, <span className="mono">IN (…)</span>,{' '}
    <span className="mono">IS [NOT] NULL</span>, <span className="mono">LIKE</span>, <span className="mono">BETWEEN … AND …</span>; strings in{' '}
    <span className="mono">'single quotes'</span>, odd column names in <span className="mono">"double quotes"</span>. Example:{' '}
    <span className="mono">species IN ('setosa', 'virginica') AND "sepal length" &gt;= 5.1</span>
  </>
);

/** A page of the table's rows: filter, columns, VERSION, order, keyset paging, and exports of the same selection. */
export function Preview({ table: t }: { table: LakeTable }) {
  const client = useClient();
  const { group } = useSession();
  const { state, update } = usePreviewState(t.columns.map((c) => c.name));
  const { filter, columns, version, order, pageSize, pages } = state;

  const selection: Omit<LakeQuery, 'format' | 'limit' | 'pageToken'> = {
    ...(columns ? { columns } : {}),
    ...(filter ? { filter } : {}),
    ...(order ? { orderBy: [order] } : {}),
    ...(version !== 'all' ? { version } : {}),
  };
  const pageToken = pages[pages.length - 1];
  const query = { ...selection, limit: pageSize, ...(pageToken ? { pageToken } : {}) };
  const rows = useQuery({
    queryKey: lakeKeys.rows(group, t.name, query),
    queryFn: () => client.lake.rows(t.name, query),
    placeholderData: keepPreviousData,
    retry: false,
  });

  const exportAs = useMutation({
    mutationFn: async (format: 'csv' | 'parquet') => {
      const res = await client.lake.download(t.name, { ...selection, format });
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `${t.name}.${format}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      return { format, rows: Number(res.headers.get('x-forja-rows') ?? NaN) };
    },
  });

  const sortBy = (column: string) => update({ order: order?.column !== column ? { column, desc: false } : !order.desc ? { column, desc: true } : null });
  const filterError = filterErrorOf(rows.error);
  const shownColumns = rows.data?.columns ?? t.columns.filter((c) => !columns || columns.includes(c.name));
  const offset = (pages.length - 1) * pageSize;
  const data = rows.data?.rows ?? [];
  const versioned = t.latestVersion !== null;
  // A failed query keeps its last good page on screen (placeholder), which would mislead: show none then.
  const stale = rows.isError || rows.isPlaceholderData;

  return (
    <div className="card lake-preview" data-testid="lake-preview">
      <div className="card-head">
        <h3>Preview</h3>
        <span className="muted small">{filter || version !== 'all' ? 'the rows the filter and VERSION keep' : 'all rows'}</span>
        {rows.isFetching && <span className="spinner spinner-inline spinner-muted" aria-hidden="true" />}
        <div className="toolbar-spacer" />
        <span className="muted small">Export</span>
        <Button
          size="sm"
          onClick={() => exportAs.mutate('csv')}
          pending={exportAs.isPending && exportAs.variables === 'csv'}
          title="Download what the preview selects, every page, as CSV"
          data-testid="lake-export-csv"
        >
          <DownloadIcon size={13} /> CSV
        </Button>
        <Button
          size="sm"
          onClick={() => exportAs.mutate('parquet')}
          pending={exportAs.isPending && exportAs.variables === 'parquet'}
          title="Download what the preview selects, every page, as Parquet"
          data-testid="lake-export-parquet"
        >
          <DownloadIcon size={13} /> Parquet
        </Button>
      </div>
      <div className="card-pad lake-preview-controls">
        <FilterBar
          key={filter}
          filter={filter}
          onApply={(f) => update({ filter: f })}
          label="Filter rows"
          placeholder={`e.g. ${t.columns[0] ? `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(t.columns[0].name) ? t.columns[0].name : `"${t.columns[0].name}"`} IS NOT NULL` : "name = 'x'"}`}
          testId="lake-filter"
          error={filterError}
          hint={FILTER_HINT}
        />
        <div className="lake-preview-options">
          <LakeColumnChooser all={t.columns.map((c) => c.name)} chosen={columns} onChange={(c) => update({ columns: c })} />
          <label className="lake-inline-field">
            <span className="muted small">VERSION</span>
            <select
              className="select-sm"
              value={String(version)}
              disabled={!versioned}
              title={versioned ? undefined : 'Not versioned: no VERSION column'}
              onChange={(e) => {
                const v = e.target.value;
                update({ version: v === 'all' || v === 'latest' ? v : Number(v) });
              }}
              data-testid="lake-version"
            >
              <option value="all">all</option>
              {versioned && <option value="latest">latest ({t.latestVersion})</option>}
              {t.versions.map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version}
                </option>
              ))}
            </select>
          </label>
          <label className="lake-inline-field">
            <span className="muted small">Rows per page</span>
            <select className="select-sm" value={pageSize} onChange={(e) => update({ pageSize: Number(e.target.value) })} data-testid="lake-page-size">
              {PAGE_SIZES.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          {order && (
            <span className="muted small" data-testid="lake-order">
              ordered by <span className="mono">{order.column}</span> {order.desc ? 'descending' : 'ascending'}
            </span>
          )}
        </div>
        {rows.error && !filterError ? <ErrorText error={rows.error} testId="lake-preview-error" /> : null}
        {exportAs.error ? <ErrorText error={exportAs.error} testId="lake-export-error" /> : null}
      </div>
      {rows.isPending ? (
        <Spinner />
      ) : (
        <div className="table-scroll lake-grid-scroll">
          <table className={`table csv-table lake-grid${stale ? ' is-stale' : ''}`} data-testid="lake-grid">
            <thead>
              <tr>
                <th className="num lake-rownum">#</th>
                {shownColumns.map((c) => {
                  const active = order?.column === c.name;
                  return (
                    <th
                      key={c.name}
                      className={isNumericType(c.type) ? 'num' : undefined}
                      aria-sort={active ? (order.desc ? 'descending' : 'ascending') : undefined}
                    >
                      <button
                        type="button"
                        className={`th-sort${active ? ' active' : ''}`}
                        onClick={() => sortBy(c.name)}
                        title={`${c.name} (${c.type}): click to order`}
                        data-testid={`lake-sort-${c.name}`}
                      >
                        <span className="th-label">
                          <span className="lake-col-name">{c.name}</span>
                          <span className="lake-col-type">{c.type}</span>
                        </span>
                        <ChevronDownIcon
                          size={12}
                          className="sort-icon"
                          style={{ transform: active && !order.desc ? 'rotate(180deg)' : undefined, opacity: active ? 1 : 0 }}
                        />
                      </button>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {!rows.isError &&
                data.map((r, i) => (
                  <tr key={offset + i} data-testid="lake-grid-row">
                    <td className="num lake-rownum">{formatCount(offset + i + 1)}</td>
                    {shownColumns.map((c) => {
                      const text = cellText(r[c.name]);
                      return (
                        <td key={c.name} className={isNumericType(c.type) ? 'num' : undefined}>
                          {text === null ? (
                            <span className="lake-null">null</span>
                          ) : (
                            <span className="lake-cell" title={text.length > 40 ? text : undefined}>
                              {text}
                            </span>
                          )}
                        </td>
                      );
                    })}
                  </tr>
                ))}
            </tbody>
          </table>
          {!rows.isError && data.length === 0 && (
            <div className="lake-grid-empty muted">{filter || version !== 'all' ? 'No rows match.' : 'This table has no rows.'}</div>
          )}
        </div>
      )}
      <div className="lake-pager">
        <span className="muted small" data-testid="lake-page-info">
          {rows.isSuccess && !stale && data.length > 0
            ? `Rows ${formatCount(offset + 1)}–${formatCount(offset + data.length)}${rows.data.nextPageToken ? '' : ' (end)'}`
            : `Page ${pages.length}`}
        </span>
        <div className="toolbar-spacer" />
        <Button size="sm" disabled={pages.length <= 1 || rows.isFetching} onClick={() => update({ pages: pages.slice(0, -1) })} data-testid="lake-prev">
          Previous page
        </Button>
        <Button
          size="sm"
          disabled={!rows.data?.nextPageToken || stale || rows.isFetching}
          onClick={() => {
            const next = rows.data?.nextPageToken;
            if (next) update({ pages: [...pages, next] });
          }}
          data-testid="lake-next"
        >
          Next page
        </Button>
      </div>
    </div>
  );
}

/** Which columns the preview reads (null: all of them). */
function LakeColumnChooser({ all, chosen, onChange }: { all: string[]; chosen: string[] | null; onChange: (c: string[] | null) => void }) {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState('');
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const picked = new Set(chosen ?? all);
  const toggle = (name: string) => {
    const next = all.filter((c) => (c === name ? !picked.has(c) : picked.has(c)));
    if (next.length === 0) return; // a read needs at least one column
    onChange(next.length === all.length ? null : next);
  };
  const q = query.trim().toLowerCase();
  const shown = q ? all.filter((c) => c.toLowerCase().includes(q)) : all;
  return (
    <div className="popover-anchor" ref={ref}>
      <Button size="sm" onClick={() => setOpen((o) => !o)} aria-haspopup="dialog" aria-expanded={open} data-testid="lake-columns">
        Columns <span className="count-pill">{chosen ? `${chosen.length}/${all.length}` : all.length}</span>
        <ChevronDownIcon size={14} className="muted" />
      </Button>
      {open && (
        <div className="popover column-chooser lake-chooser" role="dialog" aria-label="Choose columns" data-testid="lake-columns-panel">
          {all.length > 8 && (
            <input type="search" autoFocus placeholder="Find a column" aria-label="Find a column" value={query} onChange={(e) => setQuery(e.target.value)} />
          )}
          <div className="lake-chooser-list">
            {shown.map((c) => (
              <label key={c} className="checkbox chooser-item" title={c}>
                <input type="checkbox" checked={picked.has(c)} onChange={() => toggle(c)} data-testid={`lake-column-option-${c}`} />
                <span className="mono">{c}</span>
              </label>
            ))}
            {shown.length === 0 && <div className="muted small chooser-none">No column matches.</div>}
          </div>
          <div className="chooser-footer">
            <span className="muted small">{picked.size === all.length ? 'All columns' : `${picked.size} of ${all.length}`}</span>
            <Button size="sm" variant="ghost" onClick={() => onChange(null)} disabled={!chosen}>
              Show all
            </Button>
          </div>
        </div>
      )}
    </div>
  );
}
