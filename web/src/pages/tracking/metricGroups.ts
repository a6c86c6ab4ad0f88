// Which of a run's metric histories share a chart. The choice lives in the URL as `charts`: charts
// separated by ";", the keys of one chart by "," (MLflow keys can hold neither).

/** Words that name the data split a metric was measured on; the rest of the key says what it measures. */
const SPLITS = new Set(['train', 'training', 'val', 'valid', 'validation', 'eval', 'evaluation', 'test', 'dev', 'holdout']);

/**
 * What a metric measures with the split taken out: train_loss, val_loss, loss_val, train/loss and
 * loss all measure "loss", so they belong on one chart.
 */
export function metricStem(key: string): string {
  const parts = key.split(/([_/.\-\s])/);
  // parts alternates word, separator, word…: drop a split word at either end with its separator.
  const words = parts.filter((_p, i) => i % 2 === 0);
  if (words.length > 1 && SPLITS.has(words[0]!.toLowerCase())) return parts.slice(2).join('');
  if (words.length > 1 && SPLITS.has(words.at(-1)!.toLowerCase())) return parts.slice(0, -2).join('');
  return key;
}

/** One chart per stem, in the order the keys come; keys measuring the same thing share it. */
export function defaultChartGroups(keys: string[]): string[][] {
  const byStem = new Map<string, string[]>();
  for (const key of keys) {
    const stem = metricStem(key);
    byStem.set(stem, [...(byStem.get(stem) ?? []), key]);
  }
  return [...byStem.values()];
}

/** The charts of the URL, keeping only keys the run has and charts left with one. */
export function parseChartGroups(param: string, known: Set<string>): string[][] {
  return param
    .split(';')
    .map((chart) => [...new Set(chart.split(',').filter((k) => known.has(k)))])
    .filter((chart) => chart.length > 0);
}

export const formatChartGroups = (groups: string[][]): string => groups.map((g) => g.join(',')).join(';');
