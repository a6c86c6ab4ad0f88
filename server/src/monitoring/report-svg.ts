// Inline SVG charts for the static run report: drawn on the server as text so the report needs no
// script and no fetch, and opens the same offline, in a mail client or from an archive.

/** Escapes text for HTML and SVG, content and attribute values alike. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A number as a person reads it in a table: four significant digits, no exponent for everyday sizes. */
export function fmt(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

export const pct = (share: number) => `${fmt(share * 100)} %`;

export const COLORS = { reference: '#94a3b8', current: '#4f46e5', drifted: '#dc2626', grid: '#e4e4e7', text: '#71717a' } as const;

const clip = (label: string, max: number) => (label.length > max ? `${label.slice(0, max - 1)}…` : label);

interface Distribution {
  edges?: number[];
  categories?: string[];
  reference: number[];
  current: number[];
}

/**
 * Reference and current shares of one column as paired bars, one pair per bin (numbers) or value
 * (categories). The current bars are red when the column drifted, so a glance finds the shift.
 */
export function distributionSvg(d: Distribution, drifted: boolean, width = 360, height = 150): string {
  const n = Math.max(d.reference.length, d.current.length);
  if (n === 0) return '';
  const left = 34;
  const bottom = 22;
  const top = 6;
  const plotW = width - left - 4;
  const plotH = height - top - bottom;
  const max = Math.max(1e-12, ...d.reference, ...d.current);
  const slot = plotW / n;
  const bar = Math.max(1, (slot * 0.8) / 2);
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  for (const t of [0, 0.5, 1]) {
    const gy = y(max * t);
    parts.push(`<line x1="${left}" x2="${width - 4}" y1="${gy.toFixed(1)}" y2="${gy.toFixed(1)}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${left - 4}" y="${(gy + 3).toFixed(1)}" text-anchor="end" font-size="9" fill="${COLORS.text}">${esc(pct(max * t))}</text>`);
  }
  const current = drifted ? COLORS.drifted : COLORS.current;
  for (let i = 0; i < n; i++) {
    const x0 = left + i * slot + slot * 0.1;
    const label = d.categories?.[i] ?? (d.edges ? `${fmt(d.edges[i])} – ${fmt(d.edges[i + 1])}` : String(i));
    for (const [k, v, color, side] of [
      [0, d.reference[i] ?? 0, COLORS.reference, 'reference'],
      [1, d.current[i] ?? 0, current, 'current'],
    ] as const) {
      const by = y(v);
      parts.push(
        `<rect x="${(x0 + k * bar).toFixed(1)}" y="${by.toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plotH - by).toFixed(1)}" fill="${color}"><title>${esc(`${label}: ${side} ${pct(v)}`)}</title></rect>`,
      );
    }
  }
  // Axis labels: every category when they fit, else the outer edges of the numeric range.
  if (d.categories) {
    const maxChars = Math.max(3, Math.floor(slot / 6));
    d.categories.forEach((c, i) => {
      parts.push(
        `<text x="${(left + (i + 0.5) * slot).toFixed(1)}" y="${height - 8}" text-anchor="middle" font-size="9" fill="${COLORS.text}">${esc(clip(c, maxChars))}</text>`,
      );
    });
  } else if (d.edges && d.edges.length > 1) {
    parts.push(`<text x="${left}" y="${height - 8}" font-size="9" fill="${COLORS.text}">${esc(fmt(d.edges[0]))}</text>`);
    parts.push(
      `<text x="${width - 4}" y="${height - 8}" text-anchor="end" font-size="9" fill="${COLORS.text}">${esc(fmt(d.edges[d.edges.length - 1]))}</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${parts.join('')}</svg>`;
}

/** Horizontal bars of mean |SHAP| per feature, the window's beside the reference's. */
export function importanceSvg(rows: { feature: string; current: number; reference: number | null }[], width = 560): string {
  if (rows.length === 0) return '';
  const rowH = 22;
  const labelW = 150;
  const height = rows.length * rowH + 6;
  const max = Math.max(1e-12, ...rows.flatMap((r) => [r.current, r.reference ?? 0]));
  const barW = (v: number) => ((width - labelW - 60) * v) / max;
  const parts = rows.map((r, i) => {
    const y = i * rowH + 3;
    const ref =
      r.reference === null
        ? ''
        : `<rect x="${labelW}" y="${y + 12}" width="${barW(r.reference).toFixed(1)}" height="6" fill="${COLORS.reference}"><title>${esc(`${r.feature}: reference ${fmt(r.reference)}`)}</title></rect>`;
    return (
      `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end" font-size="11" fill="#3f3f46">${esc(clip(r.feature, 24))}</text>` +
      `<rect x="${labelW}" y="${y + 2}" width="${barW(r.current).toFixed(1)}" height="9" fill="${COLORS.current}"><title>${esc(`${r.feature}: current ${fmt(r.current)}`)}</title></rect>${ref}` +
      `<text x="${(labelW + barW(r.current) + 4).toFixed(1)}" y="${y + 10}" font-size="9" fill="${COLORS.text}">${esc(fmt(r.current))}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img">${parts.join('')}</svg>`;
}
