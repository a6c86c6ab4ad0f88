import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterError, parseFilter, parseOrderBy } from './filter.js';

test('MLflow filters parse: entities and aliases, quoted keys, numbers, IN lists', () => {
  assert.deepEqual(parseFilter("metrics.rmse < 0.5 and params.model = 'rf'"), {
    kind: 'and',
    items: [
      { kind: 'cmp', entity: 'metric', key: 'rmse', op: '<', value: 0.5, position: 0 },
      { kind: 'cmp', entity: 'param', key: 'model', op: '=', value: 'rf', position: 23 },
    ],
  });
  const quoted = parseFilter('tags.`my tag` = "x" AND `metrics`.`f1-score` >= 1e-3 AND attributes.run_id IN (\'a\', "b")');
  assert.equal(quoted?.kind, 'and');
  const items = (quoted as { items: { key: string; value: unknown; entity: string }[] }).items;
  assert.deepEqual(
    items.map((c) => [c.entity, c.key, c.value]),
    [
      ['tag', 'my tag', 'x'],
      ['metric', 'f1-score', 0.001],
      ['attribute', 'run_id', ['a', 'b']],
    ],
  );
  assert.deepEqual(parseFilter('status != "FAILED"'), { kind: 'cmp', entity: 'attribute', key: 'status', op: '!=', value: 'FAILED', position: 0 });
  assert.equal(parseFilter('   '), null);
  assert.equal(parseFilter(undefined), null);
});

test('extensions beyond MLflow: OR, NOT, parentheses, IS [NOT] NULL, NOT IN', () => {
  const expr = parseFilter("(metrics.acc > 0.9 OR metrics.f1 > 0.8) AND NOT tags.stage IS NULL AND params.x NOT IN ('1','2')");
  assert.equal(expr?.kind, 'and');
  const [or, not, notIn] = (expr as { items: any[] }).items;
  assert.equal(or.kind, 'or');
  assert.equal(or.items.length, 2);
  assert.deepEqual(not, { kind: 'not', expr: { kind: 'cmp', entity: 'tag', key: 'stage', op: 'IS NULL', value: null, position: 48 } });
  assert.equal(notIn.op, 'NOT IN');
  assert.equal(parseFilter('a = 1 or b = 2 and c = 3')?.kind, 'or', 'AND binds tighter than OR');
});

test('bad filters name the position and the token', () => {
  const cases: [string, number, string][] = [
    ['metrics.acc > 0.9 AND', 21, '<end>'],
    ["params.x = 'unterminated", 11, "'unterminated"],
    ['metrics.acc >> 1', 13, '>'],
    ["foo.bar = 'x'", 0, 'foo.bar'],
    ["params.x = 'a' ; DROP TABLE runs", 15, ';'],
    ['(metrics.a > 1', 14, '<end>'],
    ['metrics.a IS 3', 13, '3'],
    ["params.a IN 'x'", 12, "'x'"],
    ["= 'x'", 0, '='],
  ];
  for (const [input, position, token] of cases) {
    assert.throws(
      () => parseFilter(input),
      (err: unknown) => err instanceof FilterError && err.position === position && err.token === token && err.message.includes(`position ${position}`),
      input,
    );
  }
});

test('order_by terms', () => {
  assert.deepEqual(parseOrderBy('metrics.acc DESC'), { entity: 'metric', key: 'acc', ascending: false });
  assert.deepEqual(parseOrderBy('`params`.`learning rate`'), { entity: 'param', key: 'learning rate', ascending: true });
  assert.deepEqual(parseOrderBy('start_time asc'), { entity: 'attribute', key: 'start_time', ascending: true });
  assert.throws(() => parseOrderBy('metrics.acc sideways'), FilterError);
});
