import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter, parseFilter, type SqlBuilder } from './filter.js';

/** Compiles against a fake table with columns a (BIGINT) and "b c" (VARCHAR), recording the bound values. */
function compile(filter: string): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const types: Record<string, string> = { a: 'BIGINT', 'b c': 'VARCHAR' };
  const b: SqlBuilder = {
    column: (name) => {
      if (!(name in types)) throw new Error(`unknown column ${name}`);
      return { sql: `"${name}"`, type: types[name]! };
    },
    param: (value) => {
      params.push(value);
      return `$${params.length}`;
    },
  };
  const tree = parseFilter(filter);
  return { sql: tree ? compileFilter(tree, b) : '', params };
}

test('the grammar: precedence, IN, NULL, LIKE, BETWEEN, quoted names and escaped quotes', () => {
  assert.deepEqual(compile(`a = 1 OR a > 2 AND NOT "b c" LIKE 'x''%'`), {
    sql: `(("a" = $1) OR (("a" > $2) AND (NOT (CAST("b c" AS VARCHAR) LIKE $3))))`,
    params: [1, 2, "x'%"],
  });
  assert.deepEqual(compile(`(a IN (1, -2.5e1) OR "b c" IS NOT NULL) AND a NOT BETWEEN 0 AND 9`), {
    sql: `((("a" IN ($1, $2)) OR ("b c" IS NOT NULL)) AND ("a" NOT BETWEEN $3 AND $4))`,
    params: [1, -25, 0, 9],
  });
  assert.deepEqual(compile(`a <> TRUE`).params, [true]);
  assert.equal(compile('   ').sql, '');
});

test('anything outside the grammar is a 400 that says where', () => {
  for (const [filter, where] of [
    ['a = 1; DROP TABLE t', /character 6: unexpected ";"/],
    ['a = 1 --', /character 7: unexpected "-"/],
    ["a = 'open", /a string is not closed/],
    ['a = NULL', /IS NULL/],
    ['1 = 1', /expected a column name/],
    ['a = 1 a = 2', /unexpected "a"/],
    ['lower(a) = 1', /expected an operator after column "lower"/],
    ['a IN ()', /expected a value/],
    ['(a = 1', /expected \)/],
    ['AND = 1', /expected a column name/],
    [`${'('.repeat(100)}a = 1${')'.repeat(100)}`, /nested too deeply/],
  ] as const) {
    assert.throws(
      () => compile(filter),
      (err: Error & { status?: number }) => err.status === 400 && where.test(err.message),
      filter,
    );
  }
});
