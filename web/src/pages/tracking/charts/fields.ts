// What a chart can plot: a metric, param or tag of the runs, or one of their attributes, read into
// flat arrays once per answer so drawing 10,000 runs is a loop over numbers.
import type { ExperimentColumns, Run } from '@forja/contracts';
import { formatDuration, formatMetric, numericValue, runDuration } from '../format';

/** Attributes every run has, under the ids the filter grammar knows them by. */
const ATTRIBUTES = {
  'attributes.start_time': 'Start time',
  'attributes.duration': 'Duration',
  'attributes.status': 'Status',
} as const;
type AttributeId = keyof typeof ATTRIBUTES;

export interface FieldOption {
  /** "metrics.val_loss", "params.lr", "tags.team", "attributes.duration". */
  id: string;
  label: string;
  group: 'Metrics' | 'Params' | 'Tags' | 'Attributes';
}

const KIND_GROUPS = { metrics: 'Metrics', params: 'Params', tags: 'Tags' } as const;

/** The keys to offer, varying ones first (a key with one value draws a flat line), each kind newest first as the server lists them. */
export function fieldOptions(columns: ExperimentColumns | undefined): FieldOption[] {
  const out: FieldOption[] = [];
  for (const kind of ['metrics', 'params', 'tags'] as const) {
    const keys = columns?.[kind] ?? [];
    const ordered = [...keys.filter((k) => k.distinct > 1), ...keys.filter((k) => k.distinct <= 1)];
    for (const k of ordered) out.push({ id: `${kind}.${k.key}`, label: k.key, group: KIND_GROUPS[kind] });
  }
  for (const [id, label] of Object.entries(ATTRIBUTES)) out.push({ id, label, group: 'Attributes' });
  return out;
}

/** The keys of one kind that vary, in the order offered: what a chart picks by default. */
export const varyingKeys = (columns: ExperimentColumns | undefined, kind: 'metrics' | 'params') =>
  (columns?.[kind] ?? []).filter((k) => k.distinct > 1).map((k) => `${kind}.${k.key}`);

export const isAttribute = (id: string): id is AttributeId => id in ATTRIBUTES;

export function fieldLabel(id: string): string {
  if (isAttribute(id)) return ATTRIBUTES[id];
  return id.slice(id.indexOf('.') + 1);
}

/** The search projection that brings these fields: data keys only, attributes always come. */
export const projectionOf = (ids: string[]) => [...new Set(ids.filter((id) => id && !isAttribute(id)))];

/**
 * One field across the runs. Numeric: `values[i]` is run i's number. Categorical: `values[i]` is
 * the index of its value in `categories`. NaN where the run has no (finite) value.
 */
export interface Column {
  id: string;
  label: string;
  values: Float64Array;
  categories: string[] | undefined;
  min: number;
  max: number;
  format: (v: number) => string;
}

/** The raw value of `id` in a run: a number, a string, or undefined when the run has none. */
function rawValue(run: Run, id: string): number | string | undefined {
  if (id === 'attributes.start_time') return run.info.startTime ?? undefined;
  if (id === 'attributes.duration') return runDuration(run.info) ?? undefined;
  if (id === 'attributes.status') return run.info.status;
  const dot = id.indexOf('.');
  const kind = id.slice(0, dot);
  const key = id.slice(dot + 1);
  if (kind === 'metrics') {
    const m = run.data.metrics.find((x) => x.key === key);
    return m === undefined ? undefined : (numericValue(m.value) ?? undefined);
  }
  const list = kind === 'params' ? run.data.params : kind === 'tags' ? run.data.tags : [];
  return list.find((x) => x.key === key)?.value;
}

const collator = new Intl.Collator(undefined, { numeric: true });

/**
 * Reads a field of every run. Params and tags whose values are all numbers are numeric, unless they
 * take at most `ordinalUpTo` values: a sweep's few learning rates read better evenly spaced than
 * crowded at one end of a linear axis.
 */
export function readColumn(runs: Run[], id: string, ordinalUpTo = 0): Column {
  const raw = runs.map((r) => rawValue(r, id));
  const label = fieldLabel(id);
  const present = raw.filter((v) => v !== undefined);
  const allNumeric = present.every((v) => typeof v === 'number' || (v.trim() !== '' && Number.isFinite(Number(v))));
  const distinct = [...new Set(present.map(String))];
  const numeric = id.startsWith('metrics.') || id === 'attributes.start_time' || id === 'attributes.duration' || (allNumeric && distinct.length > ordinalUpTo);
  const values = new Float64Array(runs.length);
  if (numeric) {
    let min = Infinity;
    let max = -Infinity;
    raw.forEach((v, i) => {
      const n = v === undefined ? NaN : Number(v);
      values[i] = n;
      if (n < min) min = n;
      if (n > max) max = n;
    });
    return { id, label, values, categories: undefined, min, max, format: formatterOf(id) };
  }
  // Numbers in value order (the collator would put 0.003 after 0.03), other values as people sort them.
  const categories = allNumeric ? distinct.sort((a, b) => Number(a) - Number(b)) : distinct.sort(collator.compare);
  const index = new Map(categories.map((c, i) => [c, i]));
  raw.forEach((v, i) => {
    values[i] = v === undefined ? NaN : index.get(String(v))!;
  });
  return { id, label, values, categories, min: 0, max: categories.length - 1, format: (v) => categories[Math.round(v)] ?? '—' };
}

function formatterOf(id: string): (v: number) => string {
  if (id === 'attributes.start_time') return (v) => new Date(v).toISOString().slice(0, 16).replace('T', ' ');
  if (id === 'attributes.duration') return (v) => formatDuration(v);
  return (v) => formatMetric(v);
}

/** Where a value sits on its axis, 0 (low end) to 1; NaN when missing. One category sits in the middle. */
export function position(col: Column, v: number): number {
  if (Number.isNaN(v)) return NaN;
  if (col.categories) return col.categories.length === 1 ? 0.5 : v / (col.categories.length - 1);
  return col.max === col.min ? 0.5 : (v - col.min) / (col.max - col.min);
}

/** Runs whose metric name says lower is better; best-first order ascends for these. */
export const lowerIsBetter = (id: string) => /loss|err|mae|mse|rmse|mape|perplexity|latency|time/i.test(fieldLabel(id));
