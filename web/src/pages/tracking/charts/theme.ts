// Chart colours come from the page's CSS variables, so the charts follow the light and dark themes.
import { cssColor, seriesColor } from '../chartColors';
import { SERIES_COLORS } from '../format';

export interface Theme {
  text: string;
  muted: string;
  faint: string;
  border: string;
  surface: string;
  accent: string;
  /** Categorical colours, cycled. */
  palette: string[];
  /** The continuous scale, low to high, as `SCALE_STEPS` colours. */
  scale: string[];
  font: string;
}

export const SCALE_STEPS = 64;

export function readTheme(): Theme {
  const v = (name: string) => cssColor(name, '');
  const stops = [1, 2, 3].map((i) => parseColor(v(`--chart-scale-${i}`)));
  return {
    text: v('--text'),
    muted: v('--muted'),
    faint: v('--faint'),
    border: v('--border'),
    surface: v('--surface'),
    accent: v('--accent'),
    // The same categorical colours as the run page's charts and swatches.
    palette: SERIES_COLORS.map((_, i) => seriesColor(i)),
    scale: Array.from({ length: SCALE_STEPS }, (_, i) => interpolate(stops, i / (SCALE_STEPS - 1))),
    font: `11px ${v('--font') || 'system-ui, sans-serif'}`,
  };
}

type Rgb = [number, number, number];

/** "#rgb", "#rrggbb" or "rgb(r, g, b)"; anything else is grey rather than an exception mid-draw. */
function parseColor(text: string): Rgb {
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(text)?.[1];
  if (hex) {
    const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
    return [0, 2, 4].map((i) => Number.parseInt(full.slice(i, i + 2), 16)) as Rgb;
  }
  const rgb = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/i.exec(text);
  return rgb ? [Number(rgb[1]), Number(rgb[2]), Number(rgb[3])] : [128, 128, 128];
}

function interpolate(stops: Rgb[], t: number): string {
  const span = t * (stops.length - 1);
  const i = Math.min(Math.floor(span), stops.length - 2);
  const f = span - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  return `rgb(${a.map((x, k) => Math.round(x + (b[k]! - x) * f)).join(',')})`;
}

/** The scale's colour for a position 0–1 (clamped). */
export const scaleColor = (theme: Theme, t: number) => theme.scale[Math.max(0, Math.min(SCALE_STEPS - 1, Math.round(t * (SCALE_STEPS - 1))))]!;
export const paletteColor = (theme: Theme, i: number) => theme.palette[i % theme.palette.length]!;

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}
