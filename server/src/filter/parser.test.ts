import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FilterProblem } from './lexer.js';
import { comparisons, parseExpression, type Grammar } from './parser.js';

/** A problem as `kind@position:text`, so tests see exactly what the domains word. */
class Problem extends Error {
  constructor(readonly p: FilterProblem) {
    super(`${p.kind}@${p.position}:${p.text}`);
  }
}

/** MLflow-like options: dotted, backticked names, ILIKE; names resolve to their dotted parts. */
const loose: Grammar<{ name: string[] }> = {
  keywords: new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'LIKE', 'ILIKE']),
  nameQuotes: '"`',
  backslashEscapes: true,
  doubledQuotesInNames: true,
  dottedNames: true,
  doubleQuotedStrings: true,
  emptyNames: true,
  plusSign: true,
  numbersMayTouchNames: true,
  problem: (p) => new Problem(p),
  column: (t) => ({ name: t.parts! }),
  maxDepth: 3,
  maxListValues: Infinity,
  negatable: new Set(['IN']),
  likeNeedsString: false,
};
/** SQL-like options: plain "quoted" names, BETWEEN, TRUE/FALSE, NOT LIKE, capped lists. */
const strict: Grammar<{ name: string[] }> = {
  ...loose,
  keywords: new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'LIKE', 'BETWEEN', 'TRUE', 'FALSE']),
  nameQuotes: '"',
  backslashEscapes: false,
  doubledQuotesInNames: false,
  dottedNames: false,
  doubleQuotedStrings: false,
  emptyNames: false,
  plusSign: false,
  numbersMayTouchNames: false,
  maxListValues: 2,
  negatable: new Set(['IN', 'LIKE', 'BETWEEN']),
  likeNeedsString: true,
};

test('the tree: precedence, NOT, lists, NULL tests; names resolved by the grammar', () => {
  assert.deepEqual(parseExpression("a = 1 OR NOT b.c IS NOT NULL AND `d e` IN ('x', -2.5e1)", loose), {
    kind: 'or',
    items: [
      { kind: 'cmp', name: ['a'], op: '=', value: 1, position: 0 },
      {
        kind: 'and',
        items: [
          { kind: 'not', expr: { kind: 'cmp', name: ['b', 'c'], op: 'IS NOT NULL', value: null, position: 13 } },
          { kind: 'cmp', name: ['d e'], op: 'IN', value: ['x', -25], position: 33 },
        ],
      },
    ],
  });
  assert.deepEqual(parseExpression(`("x" <> "y") AND z ILIKE 'it''s'`, loose), {
    kind: 'and',
    items: [
      { kind: 'cmp', name: ['x'], op: '!=', value: 'y', position: 1 },
      { kind: 'cmp', name: ['z'], op: 'ILIKE', value: "it's", position: 17 },
    ],
  });
  const sql = parseExpression(`a NOT BETWEEN 1 AND TRUE OR "b.c" NOT LIKE 'p%' OR c NOT IN (false)`, strict);
  assert.deepEqual(
    comparisons(sql).map((c) => [c.name, c.op, c.value]),
    [
      [['a'], 'NOT BETWEEN', [1, true]],
      [['b.c'], 'NOT LIKE', 'p%'],
      [['c'], 'NOT IN', [false]],
    ],
  );
});

test('the dialects differ only by options', () => {
  // a.b is one dotted name, or a name then an unexpected dot; "x" is a value, or a name only.
  assert.deepEqual(comparisons(parseExpression('a.b = "x"', loose))[0]?.name, ['a', 'b']);
  assert.throws(() => parseExpression('a.b = 1', strict), /^Error: unexpected-character@1:\.$/);
  assert.throws(() => parseExpression('a = "x"', strict), /expected-value@4:"x"/);
  // Backslashes escape in one dialect and are plain text in the other.
  assert.equal(comparisons(parseExpression(`a = 'x\\'y'`, loose))[0]?.value, "x'y");
  assert.equal(comparisons(parseExpression(`a = 'x\\'`, strict))[0]?.value, 'x\\');
  // BETWEEN is a name in one and syntax in the other; ILIKE the other way round.
  assert.throws(() => parseExpression('a BETWEEN 1 AND 2', loose), /expected-operator@2:BETWEEN/);
  assert.throws(() => parseExpression("a ILIKE 'x'", strict), /expected-operator@2:ILIKE/);
});

test('every problem is reported with its kind, position and text', () => {
  const cases: [string, Grammar<{ name: string[] }>, string][] = [
    ["a = 'open", loose, "unterminated-string@4:'open"],
    ['`open = 1', loose, 'unterminated-name@0:`open = 1'],
    ['"" = 1', strict, 'empty-name@0:""'],
    ['a = 1 ; b', loose, 'unexpected-character@6:;'],
    ['a = -.x', strict, 'malformed-number@4:-'],
    ['a = 1b', strict, 'number-touches-name@5:b'],
    ['a = 1 b', loose, 'expected-end@6:b'],
    ['a = 1 AND', loose, 'expected-column@9:<end>'],
    ['a 1', loose, 'expected-operator@2:1'],
    ['a NOT LIKE 1', loose, 'expected-after-not@6:LIKE'],
    ['a IS 3', loose, 'expected-null@5:3'],
    ['a = ,', loose, 'expected-value@4:,'],
    ['a = NULL', strict, 'null-value@4:NULL'],
    ['a LIKE 1', strict, 'like-needs-string@7:1'],
    ['a BETWEEN 1 OR 2', strict, 'expected-between-and@12:OR'],
    ["a IN 'x'", loose, "expected-list-start@5:'x'"],
    ['a IN (1 2)', loose, 'expected-list-end@8:2'],
    ['a IN (1, 2, 3)', strict, 'too-many-values@13:)'],
    ['(a = 1', loose, 'expected-rparen@6:<end>'],
    ['(((NOT a = 1)))', loose, 'too-deep@7:a'],
  ];
  for (const [source, grammar, expected] of cases) {
    assert.throws(
      () => parseExpression(source, grammar),
      (err: unknown) => err instanceof Problem && err.message === expected && err.p.source === source,
      source,
    );
  }
});
