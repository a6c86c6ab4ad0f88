// Whether a bigger value of a metric is better, judged from the words of its name. Only names whose
// direction is plain are judged; "score" or "m07" say nothing, and their change is left unmarked.

const LOWER = new Set(['loss', 'error', 'err', 'mse', 'rmse', 'mae', 'mape', 'smape', 'logloss', 'perplexity', 'wer', 'cer', 'latency', 'brier', 'fpr', 'fnr']);
const HIGHER = new Set([
  'acc',
  'accuracy',
  'auc',
  'roc',
  'f1',
  'precision',
  'recall',
  'r2',
  'map',
  'ndcg',
  'iou',
  'dice',
  'bleu',
  'rouge',
  'tpr',
  'specificity',
  'sensitivity',
]);

export type Direction = 'higher' | 'lower' | null;

export function metricDirection(key: string): Direction {
  const words = key.toLowerCase().split(/[^a-z0-9]+/);
  // The last word that names a direction decides: "loss_auc" is an AUC, "accuracy_error" an error.
  for (let i = words.length - 1; i >= 0; i--) {
    const w = words[i]!;
    if (LOWER.has(w)) return 'lower';
    if (HIGHER.has(w)) return 'higher';
  }
  return null;
}

/** 'better', 'worse', 'same' or null (direction unknown) for a change from `before` to `after`. */
export function judgeChange(key: string, before: number, after: number): 'better' | 'worse' | 'same' | null {
  if (after === before) return 'same';
  const dir = metricDirection(key);
  if (dir === null) return null;
  return after > before === (dir === 'higher') ? 'better' : 'worse';
}
