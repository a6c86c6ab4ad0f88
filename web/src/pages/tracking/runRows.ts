import type { MetricValue, Run } from '@forja/contracts';
import { columnId, type DataColumn } from './filters';
import { numericValue } from './format';

export interface Row {
  run: Run;
  /** By column id ("metrics.acc"): a metric value, or the string of a param or tag. */
  values: Map<string, MetricValue | string>;
  /** The columns the request that brought this run asked for: any other is still loading, not absent. */
  fetched: ReadonlySet<string>;
}

export function toRow(run: Run, fetched: ReadonlySet<string>): Row {
  const values = new Map<string, MetricValue | string>();
  for (const m of run.data.metrics) values.set(`metrics.${m.key}`, m.value);
  for (const p of run.data.params) values.set(`params.${p.key}`, p.value);
  for (const t of run.data.tags) values.set(`tags.${t.key}`, t.value);
  return { run, values, fetched };
}

export interface Stats {
  mean: number;
  min: number;
  max: number;
  /** Runs with a finite value. */
  n: number;
}

export interface RunGroup {
  /** The grouping column's value; undefined for the runs without one. */
  value: string | undefined;
  rows: Row[];
  /** Per metric column id. */
  stats: Map<string, Stats>;
}

function statsOf(values: number[]): Stats | undefined {
  if (values.length === 0) return undefined;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { mean: sum / values.length, min, max, n: values.length };
}

const byValue = (a: string, b: string) => {
  const x = Number(a);
  const y = Number(b);
  return Number.isFinite(x) && Number.isFinite(y) ? x - y : a.localeCompare(b);
};

/** Runs grouped by one column's value (numbers in numeric order, the runs without it last), with metric stats per group. */
export function groupRows(rows: Row[], by: DataColumn, metrics: DataColumn[]): RunGroup[] {
  const byKey = new Map<string | undefined, Row[]>();
  for (const row of rows) {
    const v = row.values.get(columnId(by));
    const key = v === undefined ? undefined : String(v);
    const list = byKey.get(key);
    if (list) list.push(row);
    else byKey.set(key, [row]);
  }
  const keys = [...byKey.keys()];
  const present = keys.filter((k) => k !== undefined).sort(byValue);
  return [...present, ...(keys.includes(undefined) ? [undefined] : [])].map((value) => {
    const members = byKey.get(value)!;
    const stats = new Map<string, Stats>();
    for (const m of metrics) {
      const id = columnId(m);
      const s = statsOf(
        members.flatMap((r) => {
          const v = r.values.get(id);
          const n = v === undefined ? null : numericValue(v as MetricValue);
          return n === null ? [] : [n];
        }),
      );
      if (s) stats.set(id, s);
    }
    return { value, rows: members, stats };
  });
}

/** A cell as text, for CSV: empty when absent. */
export const cellText = (row: Row, column: DataColumn) => {
  const v = row.values.get(columnId(column));
  return v === undefined || v === null ? '' : String(v);
};
