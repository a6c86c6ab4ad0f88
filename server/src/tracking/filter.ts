import { lex, type FilterProblem } from '../filter/lexer.js';
import * as tree from '../filter/parser.js';

/**
 * The search filter language: MLflow's grammar (comparisons joined by AND, backticked or
 * double-quoted keys, IN lists) plus what MLflow lacks: OR, NOT, parentheses and IS [NOT] NULL.
 * The shared parser (`filter/`) reads it in MLflow's dialect; each name resolves here to an
 * entity and key, and the store compiles the tree to bound SQL; no user text is ever pasted into SQL.
 */

export type Entity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';
export type { Literal, Op } from '../filter/parser.js';
export type Comparison = tree.Comparison<{ entity: Entity; key: string }>;
export type FilterExpr = tree.FilterExpr<{ entity: Entity; key: string }>;

/** A filter that cannot be parsed or does not apply; says where and what. */
export class FilterError extends Error {
  constructor(
    message: string,
    readonly position: number,
    readonly token: string,
  ) {
    super(`Invalid filter at position ${position} near '${token}': ${message}`);
    this.name = 'FilterError';
  }
}

const ENTITY_ALIASES: Record<string, Entity> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

/** Splits `metrics.acc` into its entity and key; a name with no known entity is an attribute. */
export function parseIdentifier(parts: string[], position: number, text: string): { entity: Entity; key: string } {
  if (parts.length >= 2) {
    const entity = ENTITY_ALIASES[parts[0]!.toLowerCase()];
    if (!entity) throw new FilterError(`unknown entity '${parts[0]}': use metrics., params., tags., attributes. or datasets.`, position, text);
    return { entity, key: parts.slice(1).join('.') };
  }
  return { entity: 'attribute', key: parts[0]! };
}

/** Deeper nesting is no real query, and the recursive parser and SQL compiler must not run out of stack. */
export const MAX_FILTER_DEPTH = 100;

/** MLflow's words for each problem; the commented kinds cannot arise in this dialect. */
function problemMessage(p: FilterProblem): string {
  switch (p.kind) {
    case 'unterminated-string':
    case 'unterminated-name':
      return `unterminated ${p.quote === '`' ? 'backtick' : 'quote'}`;
    case 'unexpected-character':
    case 'malformed-number':
      return 'unexpected character';
    case 'expected-end':
      return 'expected AND, OR or the end of the filter';
    case 'expected-column':
      return 'expected a name such as metrics.acc, params.lr or tags.team';
    case 'expected-operator':
      return 'expected a comparison operator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, IS NULL)';
    case 'expected-after-not':
      return 'expected IN after NOT';
    case 'expected-null':
      return 'expected NULL after IS';
    case 'expected-value':
    case 'null-value':
      return "expected a value: a 'quoted string' or a number";
    case 'expected-list-start':
      return "expected '(' to start the list";
    case 'expected-list-end':
      return "expected ',' or ')' in the list";
    case 'expected-rparen':
      return "expected ')'";
    case 'too-deep':
      return `the filter nests deeper than ${MAX_FILTER_DEPTH} parentheses (or NOTs)`;
    case 'empty-name': // names may be empty,
    case 'number-touches-name': // a number may run into a name,
    case 'like-needs-string': // LIKE takes any value,
    case 'expected-between-and': // there is no BETWEEN
    case 'too-many-values': // and IN lists have no limit.
      return 'unexpected text';
  }
}

/** MLflow's dialect of the shared grammar. */
const MLFLOW: tree.Grammar<{ entity: Entity; key: string }> = {
  keywords: new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'LIKE', 'ILIKE']),
  nameQuotes: '"`',
  backslashEscapes: true,
  doubledQuotesInNames: true,
  dottedNames: true,
  doubleQuotedStrings: true,
  emptyNames: true,
  plusSign: true,
  numbersMayTouchNames: true,
  problem: (p) => new FilterError(problemMessage(p), p.position, p.text),
  column: (t) => parseIdentifier(t.parts!, t.position, t.text),
  maxDepth: MAX_FILTER_DEPTH,
  maxListValues: Infinity,
  negatable: new Set(['IN']),
  likeNeedsString: false,
};

/** Parses a filter string; an empty or blank one matches everything (null). */
export function parseFilter(input: string | undefined | null): FilterExpr | null {
  if (!input?.trim()) return null;
  if (input.length > 10_000) throw new FilterError('the filter is longer than 10000 characters', 0, input.slice(0, 20));
  return tree.parseExpression(input, MLFLOW);
}

/** Every comparison in the tree, for validation. */
export const comparisons: (expr: FilterExpr | null) => Comparison[] = tree.comparisons;

export interface OrderTerm {
  entity: Entity;
  key: string;
  ascending: boolean;
}

/** Parses one `order_by` item: `metrics.acc DESC`, `` `params`.`lr` ``, `start_time`. */
export function parseOrderBy(input: string): OrderTerm {
  const tokens = lex(input, MLFLOW);
  const first = tokens[0]!;
  if (first.type !== 'ident' && !(first.type === 'string' && first.quoted)) throw new FilterError('expected a column to order by', first.position, first.text);
  const { entity, key } = parseIdentifier(first.parts!, first.position, first.text);
  let ascending = true;
  let i = 1;
  const dir = tokens[i]!;
  if (dir.type === 'ident' && /^(asc|desc)$/i.test(dir.text)) {
    ascending = dir.text.toLowerCase() === 'asc';
    i++;
  }
  if (tokens[i]!.type !== 'end') throw new FilterError('expected ASC, DESC or the end of the order_by clause', tokens[i]!.position, tokens[i]!.text);
  return { entity, key, ascending };
}
