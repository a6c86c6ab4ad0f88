import { useEffect, useRef, useState } from 'react';
import type { ColumnSummary, ExperimentColumns } from '@forja/contracts';
import { Button } from '../../components/ui';
import { ChevronDownIcon } from '../../components/icons';
import { columnId, columnKinds, type ColumnKind, type DataColumn } from './filters';

const kindLabel: Record<ColumnKind, { title: string; one: string }> = {
  metrics: { title: 'Metrics', one: 'metric' },
  params: { title: 'Parameters', one: 'param' },
  tags: { title: 'Tags', one: 'tag' },
};

// Rendering 500 checkboxes is cheap, but nobody scans them: past this, typing narrows the list.
const LIST_LIMIT = 150;

/** Moves one entry of a list up or down by one place. */
function shifted<T>(list: T[], index: number, by: -1 | 1): T[] {
  const to = index + by;
  if (to < 0 || to >= list.length) return list;
  const next = [...list];
  [next[index], next[to]] = [next[to]!, next[index]!];
  return next;
}

/**
 * Picks which metrics, params and tags the runs table shows, in which order, and which are pinned.
 * Changes are a draft until the panel closes, so ticking twenty columns costs the table one request.
 */
export function ColumnChooser({
  known,
  columns,
  pinned,
  onApply,
  onReset,
}: {
  known: ExperimentColumns | undefined;
  columns: DataColumn[];
  pinned: ReadonlySet<string>;
  onApply: (columns: DataColumn[], pinned: Set<string>) => void;
  onReset: () => void;
}) {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState('');
  const [draft, setDraft] = useState(columns);
  const [draftPins, setDraftPins] = useState(() => new Set(pinned));
  const ref = useRef<HTMLDivElement>(null);

  const openPanel = () => {
    setDraft(columns);
    setDraftPins(new Set(pinned));
    setOpen(true);
  };
  // Read by the close handlers registered once per opening: always the latest draft.
  const latest = useRef({ draft, draftPins, columns, pinned });
  latest.current = { draft, draftPins, columns, pinned };
  const close = () => {
    setOpen(false);
    const l = latest.current;
    const changed =
      l.draft.map(columnId).join(',') !== l.columns.map(columnId).join(',') || [...l.draftPins].sort().join(',') !== [...l.pinned].sort().join(',');
    if (changed) onApply(l.draft, l.draftPins);
  };
  const closeRef = useRef(close);
  closeRef.current = close;

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) closeRef.current();
    };
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && closeRef.current();
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  const chosen = new Set(draft.map(columnId));
  const toggle = (c: DataColumn) => setDraft((d) => (chosen.has(columnId(c)) ? d.filter((x) => columnId(x) !== columnId(c)) : [...d, c]));
  const togglePin = (id: string) =>
    setDraftPins((p) => {
      const next = new Set(p);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const q = query.trim().toLowerCase();
  const typed = query.trim();

  return (
    <div className="popover-anchor" ref={ref}>
      <Button onClick={() => (open ? close() : openPanel())} aria-haspopup="dialog" aria-expanded={open} data-testid="column-chooser">
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
          {draft.length > 0 && (
            <section aria-label="Shown columns" className="chooser-shown">
              <h4>
                Shown, left to right <span className="muted">{draft.length}</span>
              </h4>
              <ol>
                {draft.map((c, i) => {
                  const id = columnId(c);
                  return (
                    <li key={id} data-testid={`shown-${id}`}>
                      <span className="mono chooser-shown-key" title={id}>
                        <span className="muted">{kindLabel[c.kind].one}</span> {c.key}
                      </span>
                      <Button size="sm" variant="ghost" aria-label={`Move ${id} left`} disabled={i === 0} onClick={() => setDraft((d) => shifted(d, i, -1))}>
                        ←
                      </Button>
                      <Button
                        size="sm"
                        variant="ghost"
                        aria-label={`Move ${id} right`}
                        disabled={i === draft.length - 1}
                        onClick={() => setDraft((d) => shifted(d, i, 1))}
                      >
                        →
                      </Button>
                      <Button size="sm" variant="ghost" aria-pressed={draftPins.has(id)} aria-label={`Pin ${id}`} onClick={() => togglePin(id)}>
                        {draftPins.has(id) ? 'Pinned' : 'Pin'}
                      </Button>
                      <Button size="sm" variant="ghost" aria-label={`Hide ${id}`} onClick={() => toggle(c)}>
                        ×
                      </Button>
                    </li>
                  );
                })}
              </ol>
            </section>
          )}
          <div className="chooser-lists">
            {columnKinds.map((kind) => {
              const summaries: ColumnSummary[] = known?.[kind] ?? [];
              // Chosen keys the experiment's active runs lack (typed in by hand) stay listed so they can be unticked.
              const extra = draft.filter((c) => c.kind === kind && !summaries.some((s) => s.key === c.key)).map((c) => ({ key: c.key, distinct: undefined }));
              const keys: Array<{ key: string; distinct: number | undefined }> = [...summaries, ...extra];
              const matches = q ? keys.filter((k) => k.key.toLowerCase().includes(q)) : keys;
              return (
                <section key={kind} aria-label={kindLabel[kind].title}>
                  <h4>
                    {kindLabel[kind].title} <span className="muted">{keys.length}</span>
                  </h4>
                  {matches.length === 0 && <div className="muted small chooser-none">{known ? 'None' : 'Loading…'}</div>}
                  {matches.slice(0, LIST_LIMIT).map(({ key, distinct }) => {
                    const c = { kind, key };
                    return (
                      <label key={key} className="checkbox chooser-item" title={distinct === 1 ? `${columnId(c)}: the same in every run` : columnId(c)}>
                        <input type="checkbox" checked={chosen.has(columnId(c))} onChange={() => toggle(c)} data-testid={`column-option-${columnId(c)}`} />
                        <span className={`mono${distinct === 1 ? ' muted' : ''}`}>{key}</span>
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
            <span className="muted small">Newest keys first; greyed ones never vary. Applied when this closes.</span>
            <Button
              size="sm"
              variant="ghost"
              onClick={() => {
                setOpen(false);
                onReset();
              }}
            >
              Reset
            </Button>
            <Button size="sm" variant="primary" onClick={close} data-testid="column-chooser-apply">
              Done
            </Button>
          </div>
        </div>
      )}
    </div>
  );
}
