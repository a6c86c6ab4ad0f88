import type { KeyValue, MetricValue, RunStatus } from '@forja/contracts';
import { Badge, type Tone } from '../../components/ui';

const statusTone: Record<RunStatus, Tone> = { RUNNING: 'blue', SCHEDULED: 'neutral', FINISHED: 'green', FAILED: 'red', KILLED: 'amber' };

export function StatusBadge({ status }: { status: RunStatus }) {
  return <Badge tone={statusTone[status]}>{status.toLowerCase()}</Badge>;
}

/** Short enough for a table cell, precise enough to tell runs apart; the full value goes in a title. Strings ("NaN") pass through. */
export function formatMetric(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) && Math.abs(v) < 1e12) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(3);
  return String(Number(v.toPrecision(5)));
}

/** NaN and the infinities arrive as strings; charts and sorting want numbers or a gap. */
export const numericValue = (v: MetricValue): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** A finished run's length, or the time so far of one that is still going. */
export function runDuration(info: { startTime: number | null; endTime: number | null; status: RunStatus }, now = Date.now()): number | null {
  if (info.startTime === null) return null;
  if (info.endTime !== null) return info.endTime - info.startTime;
  return info.status === 'RUNNING' ? now - info.startTime : null;
}

export function formatBytes(n: number | null): string {
  if (n === null) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Tags the mlflow client and Forja set themselves (run name, source, user…), shown apart from the user's own. */
export const isSystemTag = (key: string) => key.startsWith('mlflow.') || key.startsWith('forja.');

/** MLflow's convention for a free-text description, which the mlflow UI shows too. */
export const NOTE_TAG = 'mlflow.note.content';

export const tagValue = (tags: KeyValue[], key: string) => tags.find((t) => t.key === key)?.value;

/** More runs than this make overlaid charts and diff tables unreadable. */
export const MAX_COMPARE = 10;

/** One colour per compared run (MAX_COMPARE of them). */
export const SERIES_COLORS = ['#4f46e5', '#e11d48', '#059669', '#d97706', '#0284c7', '#7c3aed', '#db2777', '#65a30d', '#0f766e', '#78716c'];

/** The colour square that ties the i-th compared run to its chart line and table columns. */
export function Swatch({ index }: { index: number }) {
  return <span className="swatch" style={{ background: `var(--series-${index}, ${SERIES_COLORS[index]})` }} aria-hidden="true" />;
}

/** Where the tracking pages go back to when there is nothing more specific. */
export const EXPERIMENTS = { to: '/experiments', label: 'Experiments' };
