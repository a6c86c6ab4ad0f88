import { invalid } from '../errors.js';
import type { FilterProblem, Token } from '../filter/lexer.js';
import * as tree from '../filter/parser.js';
import type { Literal } from '../filter/parser.js';

/**
 * The lake's filter language: the shared grammar (`filter/`) in SQL's dialect — comparisons,
 * [NOT] IN, IS [NOT] NULL, [NOT] LIKE, [NOT] BETWEEN, TRUE and FALSE, joined with AND, OR, NOT and
 * parentheses. Values become bound parameters and columns are resolved against the table's real
 * columns, so no text of the filter ever reaches the SQL as SQL.
 */
export type FilterNode = tree.FilterExpr<{ column: string }>;

const MAX_IN_VALUES = 10_000;

function filterError(source: string, at: number, what: string) {
  const shown = source.length > 60 ? `${source.slice(Math.max(0, at - 20), at + 20)}` : source;
  return invalid(
    `Bad filter at character ${at + 1}: ${what}. Near: ${JSON.stringify(shown)}. Filters are comparisons (= != < <= > >=), IN (…), IS [NOT] NULL, LIKE and BETWEEN, joined with AND, OR, NOT and parentheses; strings in 'single quotes', odd column names in "double quotes".`,
  );
}

function describe(tok: Token): string {
  if (tok.type === 'end') return 'the end of the filter';
  if (tok.type === 'string') return 'a string';
  if (tok.type === 'number') return 'a number';
  return JSON.stringify(tok.type === 'ident' ? tok.parts![0] : tok.type === 'keyword' ? tok.text : tok.value);
}

function problemMessage(p: FilterProblem): string {
  const found = p.token ? describe(p.token) : '';
  switch (p.kind) {
    case 'unterminated-string':
      return 'a string is not closed';
    case 'unterminated-name':
      return 'a quoted column name is not closed';
    case 'empty-name':
      return 'an empty column name';
    case 'malformed-number':
      return 'a malformed number';
    case 'number-touches-name':
      return 'a number runs into a name';
    case 'unexpected-character':
      return `unexpected ${JSON.stringify(p.text)}`;
    case 'expected-end':
      return `unexpected ${found}`;
    case 'expected-column':
      return `expected a column name, found ${found}`;
    case 'expected-operator':
    case 'expected-after-not':
      return `expected an operator after column ${JSON.stringify(p.column!.parts![0])}, found ${found}`;
    case 'expected-null':
      return 'expected NULL after IS';
    case 'expected-value':
      return `expected a value ('text', a number, TRUE or FALSE), found ${found}`;
    case 'null-value':
      return 'compare with NULL using IS NULL or IS NOT NULL';
    case 'like-needs-string':
      return "LIKE takes a 'pattern' in single quotes";
    case 'expected-between-and':
      return 'expected AND in BETWEEN … AND …';
    case 'expected-list-start':
      return 'expected (';
    case 'expected-list-end':
    case 'expected-rparen':
      return 'expected )';
    case 'too-many-values':
      return `IN takes at most ${MAX_IN_VALUES} values`;
    case 'too-deep':
      return 'nested too deeply';
  }
}

/** SQL's dialect of the shared grammar: "quoted" names are never values, no dotted names. */
const SQL_DIALECT: tree.Grammar<{ column: string }> = {
  keywords: new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'LIKE', 'BETWEEN', 'TRUE', 'FALSE']),
  nameQuotes: '"',
  backslashEscapes: false,
  doubledQuotesInNames: false,
  dottedNames: false,
  doubleQuotedStrings: false,
  emptyNames: false,
  plusSign: false,
  numbersMayTouchNames: false,
  problem: (p) => filterError(p.source, p.position, problemMessage(p)),
  column: (t) => ({ column: t.parts![0]! }),
  maxDepth: 64,
  maxListValues: MAX_IN_VALUES,
  negatable: new Set(['IN', 'LIKE', 'BETWEEN']),
  likeNeedsString: true,
};

export function parseFilter(source: string): FilterNode | undefined {
  if (!source.trim()) return undefined;
  return tree.parseExpression(source, SQL_DIALECT);
}

/** Where compiled SQL gets its parameters and its columns. */
export interface SqlBuilder {
  /** The quoted column for a name the user wrote; throws a 400 naming the real columns when unknown. */
  column(name: string): { sql: string; type: string };
  /** A placeholder bound to the value, checked against and cast to the column's type. */
  param(value: Literal, type: string, column: string): string;
}

export function compileFilter(node: FilterNode, b: SqlBuilder): string {
  switch (node.kind) {
    case 'and':
    case 'or':
      return `(${node.items.map((n) => compileFilter(n, b)).join(node.kind === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      return `(NOT ${compileFilter(node.expr, b)})`;
    case 'cmp':
      return compileComparison(node, b);
  }
}

function compileComparison(cmp: tree.Comparison<{ column: string }>, b: SqlBuilder): string {
  const c = b.column(cmp.column);
  const param = (value: Literal, type = c.type) => b.param(value, type, cmp.column);
  const values = cmp.value as Literal[];
  switch (cmp.op) {
    case 'IS NULL':
    case 'IS NOT NULL':
      return `(${c.sql} ${cmp.op})`;
    case 'IN':
    case 'NOT IN':
      return `(${c.sql} ${cmp.op} (${values.map((v) => param(v)).join(', ')}))`;
    case 'LIKE':
    case 'NOT LIKE':
      return `(CAST(${c.sql} AS VARCHAR) ${cmp.op} ${param(cmp.value as Literal, 'VARCHAR')})`;
    case 'BETWEEN':
    case 'NOT BETWEEN':
      return `(${c.sql} ${cmp.op} ${param(values[0]!)} AND ${param(values[1]!)})`;
    default:
      return `(${c.sql} ${cmp.op === '!=' ? '<>' : cmp.op} ${param(cmp.value as Literal)})`;
  }
}
