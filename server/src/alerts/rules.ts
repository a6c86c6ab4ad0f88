import type { AlertRuleRow } from './store.js';

/**
 * The run's metrics a rule's metric pattern names: the name itself, or with `*` standing for
 * exactly one dotted part (`drift.*.psi` matches `drift.age.psi`, not `drift.share`).
 */
export function matchingMetrics(pattern: string, metrics: Record<string, number>): [string, number][] {
  if (!pattern.includes('*')) return pattern in metrics ? [[pattern, metrics[pattern]!]] : [];
  const want = pattern.split('.');
  return Object.entries(metrics).filter(([name]) => {
    const parts = name.split('.');
    return parts.length === want.length && parts.every((p, i) => want[i] === '*' || want[i] === p);
  });
}

/** Is the value outside the rule (the condition the rule alerts on holds)? */
export function breaches(value: number, operator: AlertRuleRow['operator'], threshold: number): boolean {
  switch (operator) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}
