import { useSyncExternalStore } from 'react';

const DARK = '(prefers-color-scheme: dark)';

/** A design token's value now (e.g. `cssVar('--muted')`), for what CSS cannot colour itself: canvases. */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function subscribeScheme(onChange: () => void) {
  const query = window.matchMedia(DARK);
  query.addEventListener('change', onChange);
  return () => query.removeEventListener('change', onChange);
}

/** The system's colour scheme, live: a canvas drawn with `cssVar` colours redraws when it changes. */
export function useColorScheme(): 'light' | 'dark' {
  return useSyncExternalStore(subscribeScheme, () => (window.matchMedia(DARK).matches ? 'dark' : 'light'));
}

/** A uPlot axis in the theme's colours: labels in --muted, grid lines in --border-subtle, ticks in --border. */
export function chartAxisStyle() {
  return {
    stroke: cssVar('--muted'),
    grid: { stroke: cssVar('--border-subtle'), width: 1 },
    ticks: { stroke: cssVar('--border'), width: 1 },
    font: '11px system-ui, sans-serif',
  };
}
