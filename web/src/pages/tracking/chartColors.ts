import { useSyncExternalStore } from 'react';
import { SERIES_COLORS } from './format';

// Canvas charts cannot use CSS variables, so they read the theme's values when they draw, and draw
// again when the system switches between light and dark.

/** The value of a CSS custom property of the page, e.g. cssColor('--text'); the fallback when unset. */
export function cssColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** The i-th series colour of the theme (--series-0 … --series-9). */
export const seriesColor = (i: number): string => cssColor(`--series-${i % SERIES_COLORS.length}`, SERIES_COLORS[i % SERIES_COLORS.length]!);

const DARK = '(prefers-color-scheme: dark)';
const subscribe = (onChange: () => void) => {
  const query = window.matchMedia(DARK);
  query.addEventListener('change', onChange);
  return () => query.removeEventListener('change', onChange);
};

/** 'dark' or 'light' as the system says now; a component using it renders again when it changes. */
export function useColorScheme(): 'dark' | 'light' {
  return useSyncExternalStore(
    subscribe,
    () => (window.matchMedia(DARK).matches ? 'dark' : 'light'),
    () => 'light',
  );
}
