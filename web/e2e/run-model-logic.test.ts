// The pure rules behind the run and model pages, on cases the browser test does not reach: which
// metrics share a chart, which way a metric is better, and which input examples are tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultChartGroups, formatChartGroups, metricStem, parseChartGroups } from '../src/pages/tracking/metricGroups.js';
import { judgeChange, metricDirection } from '../src/pages/models/metricDirection.js';
import { exampleTable } from '../src/pages/tracking/inputExample.js';

test('metrics measuring the same thing on different splits share a chart; other keys keep their own', () => {
  const stems: [string, string][] = [
    ['train_loss', 'loss'],
    ['val_loss', 'loss'],
    ['loss_val', 'loss'],
    ['train/loss', 'loss'],
    ['Validation-Accuracy', 'Accuracy'],
    ['loss', 'loss'],
    ['train', 'train'],
    ['trainer_loss', 'trainer_loss'],
    ['m07', 'm07'],
  ];
  for (const [key, stem] of stems) assert.equal(metricStem(key), stem, key);
  assert.deepEqual(defaultChartGroups(['train_loss', 'm00', 'val_loss', 'train_acc', 'loss', 'val_acc']), [
    ['train_loss', 'val_loss', 'loss'],
    ['m00'],
    ['train_acc', 'val_acc'],
  ]);
});

test('the charts of the URL keep known keys once each and drop empty charts', () => {
  const known = new Set(['a', 'b', 'c']);
  assert.deepEqual(parseChartGroups('a,b;c;;zzz;b,b,a', known), [['a', 'b'], ['c'], ['b', 'a']]);
  assert.deepEqual(parseChartGroups('', known), []);
  assert.equal(formatChartGroups([['a', 'b'], ['c']]), 'a,b;c');
  assert.deepEqual(parseChartGroups(formatChartGroups([['a', 'b'], ['c']]), known), [['a', 'b'], ['c']]);
});

test('better or worse only where the name says which way is better', () => {
  assert.equal(metricDirection('val_loss'), 'lower');
  assert.equal(metricDirection('mean_absolute_error'), 'lower');
  assert.equal(metricDirection('test_rmse'), 'lower');
  assert.equal(metricDirection('roc_auc'), 'higher');
  assert.equal(metricDirection('val_acc'), 'higher');
  assert.equal(metricDirection('f1_score'), 'higher');
  assert.equal(metricDirection('score'), null);
  assert.equal(metricDirection('m07'), null);
  assert.equal(metricDirection('lossy_count'), null);
  assert.equal(judgeChange('val_loss', 0.5, 0.4), 'better');
  assert.equal(judgeChange('val_loss', 0.4, 0.5), 'worse');
  assert.equal(judgeChange('test_auc', 0.8, 0.9), 'better');
  assert.equal(judgeChange('test_auc', 0.8, 0.8), 'same');
  assert.equal(judgeChange('m07', 1, 2), null);
});

test('input examples: split, records and their serving wrappers are tables; tensors are not', () => {
  const split = {
    columns: ['x', 'city'],
    data: [
      [1.5, 'Oslo'],
      [2, null],
    ],
  };
  const table = {
    header: ['x', 'city'],
    rows: [
      ['1.5', 'Oslo'],
      ['2', ''],
    ],
  };
  assert.deepEqual(exampleTable(split), table);
  assert.deepEqual(exampleTable({ dataframe_split: split }), table);
  const records = [{ x: 1.5, city: 'Oslo' }, { x: 2 }];
  assert.deepEqual(exampleTable(records), table);
  assert.deepEqual(exampleTable({ dataframe_records: records }), table);
  assert.deepEqual(
    exampleTable([
      [1, 2],
      [3, 4, 5],
    ]),
    {
      header: ['0', '1', '2'],
      rows: [
        ['1', '2'],
        ['3', '4', '5'],
      ],
    },
  );
  assert.deepEqual(exampleTable([{ tags: ['a', 'b'] }]), { header: ['tags'], rows: [['["a","b"]']] });
  assert.equal(exampleTable({ inputs: [[1, 2]] }), null);
  assert.equal(exampleTable('text'), null);
  assert.equal(exampleTable([]), null);
  assert.equal(exampleTable([1, 2]), null);
});
