import { useEffect, useRef, useState } from 'react';
import { Button } from '../../components/ui';
import { ChevronDownIcon } from '../../components/icons';
import { columnId, columnKinds, type ColumnKind, type DataColumn } from './filters';

export type KnownKeys = Record<ColumnKind, string[]>;

const kindLabel: Record<ColumnKind, { title: string; one: string }> = {
  metrics: { title: 'Metrics', one: 'metric' },
  params: { title: 'Parameters', one: 'param' },
  tags: { title: 'Tags', one: 'tag' },
};

// Rendering 500 checkboxes is cheap, but nobody scans them: past this, typing narrows the list.
const LIST_LIMIT = 150;

/** Picks which metrics, params and tags the runs table shows; the table fetches only those. */
export function ColumnChooser({
  known,
  columns,
  onChange,
  onReset,
}: {
  known: KnownKeys | undefined;
  columns: DataColumn[];
  onChange: (c: DataColumn[]) => void;
  onReset: () => void;
}) {
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

  const chosen = new Set(columns.map(columnId));
  const toggle = (c: DataColumn) => onChange(chosen.has(columnId(c)) ? columns.filter((x) => columnId(x) !== columnId(c)) : [...columns, c]);
  const q = query.trim().toLowerCase();
  const typed = query.trim();

  return (
    <div className="popover-anchor" ref={ref}>
      <Button onClick={() => setOpen((o) => !o)} aria-haspopup="dialog" aria-expanded={open} data-testid="column-chooser">
        Columns <span className="count-pill">{columns.length}</span>
        <ChevronDownIcon size={14} className="muted" />
      </Button>
      {open && (
        <div className="popover column-chooser" role="dialog" aria-label="Choose columns" data-testid="column-chooser-panel">
          <input
            type="search"
            autoFocus
            placeholder="Find a metric, param or tag"
            aria-label="Find a column"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
          />
          <div className="chooser-lists">
            {columnKinds.map((kind) => {
              // Chosen keys the sample of runs did not show (typed in by hand) stay listed so they can be unticked.
              const keys = [...new Set([...(known?.[kind] ?? []), ...columns.filter((c) => c.kind === kind).map((c) => c.key)])].sort();
              const matches = q ? keys.filter((k) => k.toLowerCase().includes(q)) : keys;
              return (
                <section key={kind} aria-label={kindLabel[kind].title}>
                  <h4>
                    {kindLabel[kind].title} <span className="muted">{keys.length}</span>
                  </h4>
                  {matches.length === 0 && <div className="muted small chooser-none">{known ? 'None' : 'Loading…'}</div>}
                  {matches.slice(0, LIST_LIMIT).map((key) => {
                    const c = { kind, key };
                    return (
                      <label key={key} className="checkbox chooser-item" title={columnId(c)}>
                        <input type="checkbox" checked={chosen.has(columnId(c))} onChange={() => toggle(c)} data-testid={`column-option-${columnId(c)}`} />
                        <span className="mono">{key}</span>
                      </label>
                    );
                  })}
                  {matches.length > LIST_LIMIT && <div className="muted small chooser-none">{matches.length - LIST_LIMIT} more: type to narrow the list</div>}
                </section>
              );
            })}
          </div>
          {typed && (
            <div className="chooser-add">
              <span className="muted small">Add “{typed}” as</span>
              {columnKinds.map((kind) => (
                <Button key={kind} size="sm" disabled={chosen.has(columnId({ kind, key: typed }))} onClick={() => toggle({ kind, key: typed })}>
                  {kindLabel[kind].one}
                </Button>
              ))}
            </div>
          )}
          <div className="chooser-footer">
            <span className="muted small">Keys seen in the latest runs; add others by name.</span>
            <Button size="sm" variant="ghost" onClick={onReset}>
              Reset
            </Button>
          </div>
        </div>
      )}
    </div>
  );
}
