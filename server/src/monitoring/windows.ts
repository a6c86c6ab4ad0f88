import type { MonitorPeriod } from '@forja/contracts';

/** The start of the UTC calendar period holding `t` (weeks start on Monday, ISO 8601). */
export function periodStart(period: MonitorPeriod, t: number): number {
  const d = new Date(t);
  switch (period) {
    case 'hour':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours());
    case 'day':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    case 'week': {
      const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      return day - ((d.getUTCDay() + 6) % 7) * 86_400_000;
    }
    case 'month':
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  }
}

/** The start of the period after the one holding `t`. */
export function nextPeriodStart(period: MonitorPeriod, t: number): number {
  const start = new Date(periodStart(period, t));
  switch (period) {
    case 'hour':
      return start.getTime() + 3_600_000;
    case 'day':
      return start.getTime() + 86_400_000;
    case 'week':
      return start.getTime() + 7 * 86_400_000;
    case 'month':
      return Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
  }
}

export interface Window {
  start: number;
  end: number;
}

/** The full window that ends at `end` (a period boundary). */
export function windowEndingAt(period: MonitorPeriod, end: number): Window {
  return { start: periodStart(period, end - 1), end };
}

/** The last full window before `now`. */
export function lastFullWindow(period: MonitorPeriod, now: number): Window {
  return windowEndingAt(period, periodStart(period, now));
}

/** The current window so far: from its start to `now`. */
export function currentWindow(period: MonitorPeriod, now: number): Window {
  return { start: periodStart(period, now), end: now };
}
