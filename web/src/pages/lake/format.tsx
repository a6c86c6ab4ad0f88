import type { LakeBatchPrediction, LakeQuery } from '@forja/contracts';
import { Badge, type Tone } from '../../components/ui';

/** Query keys of the lake pages. Tables belong to a group, so every key starts with it; ['lake'] refreshes them all. */
export const lakeKeys = {
  tables: (group: string | undefined) => ['lake', group ?? '', 'tables'] as const,
  table: (group: string | undefined, name: string) => ['lake', group ?? '', 'table', name.toLowerCase()] as const,
  rows: (group: string | undefined, name: string, query: Omit<LakeQuery, 'format'>) =>
    ['lake', group ?? '', 'table', name.toLowerCase(), 'rows', query] as const,
  predictions: (group: string | undefined) => ['lake', group ?? '', 'predictions'] as const,
};

export const lakeTablePath = (name: string) => `/lake/${encodeURIComponent(name)}`;
export const LAKE = { to: '/lake', label: 'Lake' };
export const LAKE_PREDICTIONS = '/lake?tab=predictions';

const count = new Intl.NumberFormat('en-US');
export const formatCount = (n: number) => count.format(n);
export const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

const statusTone: Record<string, Tone> = { queued: 'neutral', running: 'blue', succeeded: 'green', failed: 'red', cancelled: 'muted' };

export function BatchStatusBadge({ status }: { status: string }) {
  return (
    <span data-testid="batch-status" data-status={status} className="lake-status">
      <Badge tone={statusTone[status] ?? 'neutral'}>
        {status === 'running' && <span className="spinner spinner-inline" aria-hidden="true" />}
        {status}
      </Badge>
    </span>
  );
}

/** Still changing on its own: lists showing it poll until it settles. */
export const isActive = (p: Pick<LakeBatchPrediction, 'status'>) => p.status === 'queued' || p.status === 'running';

/** Rows scored out of all, as a bar; a dash before the job has counted the rows. */
export function ProgressBar({ progress, status }: Pick<LakeBatchPrediction, 'progress' | 'status'>) {
  if (!progress) return <span className="muted">{status === 'queued' ? 'waiting' : '—'}</span>;
  const pct = progress.total > 0 ? Math.min(100, Math.round((progress.done / progress.total) * 100)) : status === 'succeeded' ? 100 : 0;
  return (
    <div className="lake-progress" data-testid="batch-progress" title={`${formatCount(progress.done)} of ${formatCount(progress.total)} rows`}>
      <div className="lake-progress-track" role="progressbar" aria-valuemin={0} aria-valuemax={progress.total} aria-valuenow={progress.done}>
        <div className={`lake-progress-fill${status === 'failed' ? ' is-error' : ''}`} style={{ width: `${pct}%` }} />
      </div>
      <span className="lake-progress-text small muted">
        {formatCount(progress.done)} / {formatCount(progress.total)}
      </span>
    </div>
  );
}

/** How a cell shows: nulls as a faint "null", objects as JSON, everything else as text. */
export function cellText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A guess at a table name from a file name: what the server accepts (letters, digits, "_"). */
export function tableNameOf(fileName: string): string {
  const base = fileName
    .replace(/\.(csv|tsv|txt|parquet|pq)$/i, '')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const named = /^[A-Za-z_]/.test(base) ? base : `t_${base}`;
  return named.slice(0, 63);
}

export const fileFormatOf = (fileName: string): 'csv' | 'parquet' | null =>
  /\.(csv|tsv|txt)$/i.test(fileName) ? 'csv' : /\.(parquet|pq)$/i.test(fileName) ? 'parquet' : null;

/** Column types that read as numbers: right-aligned in the grid. */
export const isNumericType = (type: string) =>
  /^(BIGINT|INTEGER|INT|SMALLINT|TINYINT|HUGEINT|DOUBLE|REAL|FLOAT|DECIMAL|NUMERIC|UBIGINT|UINTEGER|USMALLINT|UTINYINT)/i.test(type);
