// The chart view lives in the URL (`view=charts&chart=scatter&c.x=…`), so a link restores it exactly.
import { useSearchParams } from 'react-router';

export const CHART_KINDS = [
  { value: 'parallel', label: 'Parallel coordinates' },
  { value: 'scatter', label: 'Scatter' },
  { value: 'bar', label: 'Bar' },
  { value: 'lines', label: 'Lines' },
] as const;
export type ChartKind = (typeof CHART_KINDS)[number]['value'];

/** A chart's own choices, each the URL parameter `c.<name>`. */
export type ChartChoices = Record<string, string | undefined>;

/** Lists in one parameter are comma-separated; a comma inside an item (keys may hold one) is escaped. */
export const encodeList = (items: string[]) => items.map((i) => i.replace(/%/g, '%25').replace(/,/g, '%2C')).join(',');
export const decodeList = (text: string | undefined) => (text ? text.split(',').map((i) => i.replace(/%2C/gi, ',').replace(/%25/g, '%')) : []);

export function useChartState() {
  const [params, setParams] = useSearchParams();
  const kindParam = params.get('chart');
  const kind: ChartKind = CHART_KINDS.some((k) => k.value === kindParam) ? (kindParam as ChartKind) : 'parallel';
  const choices: ChartChoices = {};
  for (const [k, v] of params) if (k.startsWith('c.')) choices[k.slice(2)] = v;

  /** Another chart kind is a step back can undo; its choices start fresh. */
  const setKind = (next: ChartKind) => {
    const p = new URLSearchParams(params);
    for (const k of [...p.keys()]) if (k.startsWith('c.')) p.delete(k);
    p.set('chart', next);
    setParams(p);
  };
  /** Adjusting a chart replaces the history entry: a slider is not fifty steps back. */
  const choose = (changes: ChartChoices) => {
    const p = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === '') p.delete(`c.${k}`);
      else p.set(`c.${k}`, v);
    }
    setParams(p, { replace: true });
  };
  return { kind, setKind, choices, choose, filter: params.get('filter') ?? '', params, setParams };
}
