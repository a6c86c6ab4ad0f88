import { useSearchParams } from 'react-router';

/** Table or charts of an experiment's runs, as `view=charts` in the URL; both keep the filter. */
export function useRunsView() {
  const [params, setParams] = useSearchParams();
  const view = params.get('view') === 'charts' ? 'charts' : 'table';
  const setView = (next: 'table' | 'charts') => {
    const p = new URLSearchParams(params);
    if (next === 'charts') p.set('view', 'charts');
    else p.delete('view');
    setParams(p);
  };
  return [view, setView] as const;
}

export function RunsViewSwitch({ view, onChange }: { view: 'table' | 'charts'; onChange: (v: 'table' | 'charts') => void }) {
  return (
    <div className="segmented runs-view-switch" role="radiogroup" aria-label="Show runs as">
      {(['table', 'charts'] as const).map((v) => (
        <button
          key={v}
          type="button"
          role="radio"
          aria-checked={view === v}
          className={view === v ? 'active' : ''}
          onClick={() => onChange(v)}
          data-testid={`runs-view-${v}`}
        >
          {v === 'table' ? 'Table' : 'Charts'}
        </button>
      ))}
    </div>
  );
}
