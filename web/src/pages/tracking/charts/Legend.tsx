import { SERIES_COLORS, Swatch } from '../format';
import type { Column } from './fields';

/** The colour key: swatches for categories, a gradient with its ends for numbers. */
export function ColorLegend({ column }: { column: Column }) {
  if (column.categories)
    return (
      <ul className="chart-legend" aria-label={`Colour: ${column.label}`} data-testid="chart-legend">
        <li className="chart-legend-title">{column.label}</li>
        {column.categories.map((c, i) => (
          <li key={c}>
            <Swatch index={i % SERIES_COLORS.length} />
            {c}
          </li>
        ))}
      </ul>
    );
  return (
    <div className="chart-legend" aria-label={`Colour: ${column.label}`} data-testid="chart-legend">
      <span className="chart-legend-title">{column.label}</span>
      <span className="mono">{Number.isFinite(column.min) ? column.format(column.min) : '—'}</span>
      <span className="chart-gradient" />
      <span className="mono">{Number.isFinite(column.max) ? column.format(column.max) : '—'}</span>
    </div>
  );
}
