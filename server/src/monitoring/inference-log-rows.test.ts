import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { csvFrame, inputFrame, loggedRows, outputFrame } from './inference-log-rows.js';

describe('inference log rows: every predict body shape flattens to named columns', () => {
  const xy = { columns: ['x', 'y'], rows: [[1, 'a'], [2, 'b']] };
  test('records, one record, Neomaril {"Input": …}, MLflow dataframe_split / dataframe_records / instances / inputs, columns', () => {
    const records = [
      { x: 1, y: 'a' },
      { x: 2, y: 'b' },
    ];
    assert.deepEqual(inputFrame(records), xy);
    assert.deepEqual(inputFrame({ Input: records }), xy);
    assert.deepEqual(inputFrame({ dataframe_split: { columns: ['x', 'y'], data: [[1, 'a'], [2, 'b']] } }), xy);
    assert.deepEqual(inputFrame({ dataframe_split: { index: [0, 1], columns: ['x', 'y'], data: [[1, 'a'], [2, 'b']] }, params: { k: 1 } }), xy);
    assert.deepEqual(inputFrame({ dataframe_records: records }), xy);
    assert.deepEqual(inputFrame({ instances: records }), xy);
    assert.deepEqual(inputFrame({ inputs: { x: [1, 2], y: ['a', 'b'] } }), xy);
    assert.deepEqual(inputFrame({ x: [1, 2], y: ['a', 'b'] }), xy);
    assert.deepEqual(inputFrame({ x: 1, y: 'a' }), { columns: ['x', 'y'], rows: [[1, 'a']] });
    assert.deepEqual(inputFrame({ instances: [[1, 2]] }), { columns: ['input_0', 'input_1'], rows: [[1, 2]] });
    // Records with different keys: the union, missing values NULL; nested values as JSON text.
    assert.deepEqual(inputFrame([{ x: 1 }, { y: { deep: [1] } }]), { columns: ['x', 'y'], rows: [[1, null], [null, '{"deep":[1]}']] });
  });

  test('answers: one value a row, a dict a row, class probabilities, MLflow {"predictions": …}, columns', () => {
    assert.deepEqual(outputFrame([2, 4]), { columns: ['prediction'], rows: [[2], [4]] });
    assert.deepEqual(outputFrame({ predictions: [2, 4] }), { columns: ['prediction'], rows: [[2], [4]] });
    assert.deepEqual(outputFrame([[0.2, 0.8]]), { columns: ['prediction_0', 'prediction_1'], rows: [[0.2, 0.8]] });
    assert.deepEqual(outputFrame([{ label: 'a', p: 0.9 }]), { columns: ['prediction_label', 'prediction_p'], rows: [['a', 0.9]] });
    assert.deepEqual(outputFrame({ label: ['a', 'b'] }), { columns: ['prediction_label'], rows: [['a'], ['b']] });
    assert.deepEqual(outputFrame(7), { columns: ['prediction'], rows: [[7]] });
  });

  test('CSV: quotes, doubled quotes, newlines in quotes, numbers, empty as NULL', () => {
    assert.deepEqual(csvFrame('x,y,z\r\n1,"a ""q"", b",\n2.5,"two\nlines",""\n'), {
      columns: ['x', 'y', 'z'],
      rows: [
        [1, 'a "q", b', null],
        [2.5, 'two\nlines', ''],
      ],
    });
  });

  test('joined rows: fixed columns first, a feature named like one of them kept as input_<name>, row i with answer i', () => {
    const out = loggedRows(
      { requestId: 'r1', loggedAt: '2026-12-07 10:00:00.000', latencyMs: 3.5, modelVersion: '2' },
      { columns: ['x', 'request_id', 'prediction'], rows: [[1, 'mine', 5], [2, 'theirs', 6]] },
      { columns: ['prediction'], rows: [[10]] },
    );
    assert.deepEqual(out.columns, ['request_id', 'logged_at', 'latency_ms', 'model_version', 'row_index', 'x', 'input_request_id', 'input_prediction', 'prediction']);
    assert.deepEqual(out.rows, [
      ['r1', '2026-12-07 10:00:00.000', 3.5, '2', 0, 1, 'mine', 5, 10],
      ['r1', '2026-12-07 10:00:00.000', 3.5, '2', 1, 2, 'theirs', 6, null],
    ]);
  });
});
