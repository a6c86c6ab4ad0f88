/**
 * The search filter language: MLflow's grammar (comparisons joined by AND, backticked or
 * double-quoted keys, IN lists) plus what MLflow lacks: OR, NOT, parentheses and IS [NOT] NULL.
 * Filters are parsed into a tree here and compiled to bound SQL by the store; no user text is
 * ever pasted into SQL.
 */

export type Entity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';
export type Op = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';
export type Literal = string | number;

export interface Comparison {
  kind: 'cmp';
  entity: Entity;
  key: string;
  op: Op;
  value: Literal | Literal[] | null;
  /** 0-based character offset of the clause, for error messages. */
  position: number;
}
export type FilterExpr = Comparison | { kind: 'and' | 'or'; items: FilterExpr[] } | { kind: 'not'; expr: FilterExpr };

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

type TokenType = 'ident' | 'string' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma' | 'keyword' | 'end';
interface Token {
  type: TokenType;
  text: string;
  value: string;
  position: number;
  /** For identifiers: the dotted parts, each already unquoted. */
  parts?: string[];
  /** Identifiers: true when written with quotes, so keywords can be keys. */
  quoted?: boolean;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'LIKE', 'ILIKE']);
const OPS = ['>=', '<=', '!=', '<>', '=', '>', '<'];

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const readQuoted = (quote: string): string => {
    const start = i;
    i++;
    let out = '';
    while (i < input.length) {
      const c = input[i]!;
      if (c === '\\' && i + 1 < input.length) {
        out += input[i + 1];
        i += 2;
        continue;
      }
      if (c === quote) {
        if (input[i + 1] === quote) {
          out += quote;
          i += 2;
          continue;
        }
        i++;
        return out;
      }
      out += c;
      i++;
    }
    throw new FilterError(`unterminated ${quote === '`' ? 'backtick' : 'quote'}`, start, input.slice(start, start + 20));
  };
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '(') tokens.push({ type: 'lparen', text: c, value: c, position: i++ });
    else if (c === ')') tokens.push({ type: 'rparen', text: c, value: c, position: i++ });
    else if (c === ',') tokens.push({ type: 'comma', text: c, value: c, position: i++ });
    else if (c === "'") {
      const value = readQuoted("'");
      tokens.push({ type: 'string', text: input.slice(start, i), value, position: start });
    } else if (c === '"' || c === '`' || /[A-Za-z_]/.test(c)) {
      // An identifier made of dotted parts, each bare or quoted; a lone "…" may also be a string value.
      const parts: string[] = [];
      let quoted = false;
      for (;;) {
        const ch = input[i];
        if (ch === '"' || ch === '`') {
          parts.push(readQuoted(ch));
          quoted = true;
        } else if (ch !== undefined && /[A-Za-z_]/.test(ch)) {
          const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(input.slice(i))!;
          parts.push(m[0]);
          i += m[0].length;
        } else break;
        if (input[i] === '.' && i + 1 < input.length && /[A-Za-z_"`]/.test(input[i + 1]!)) {
          i++;
          continue;
        }
        break;
      }
      const text = input.slice(start, i);
      if (!quoted && parts.length === 1 && KEYWORDS.has(parts[0]!.toUpperCase())) {
        tokens.push({ type: 'keyword', text, value: parts[0]!.toUpperCase(), position: start });
      } else if (c === '"' && parts.length === 1) {
        tokens.push({ type: 'string', text, value: parts[0]!, position: start, parts, quoted: true });
      } else tokens.push({ type: 'ident', text, value: text, position: start, parts, quoted });
    } else if (/[0-9.+-]/.test(c)) {
      const m = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(input.slice(i));
      if (!m) throw new FilterError('unexpected character', i, c);
      tokens.push({ type: 'number', text: m[0], value: m[0], position: start });
      i += m[0].length;
    } else {
      const op = OPS.find((o) => input.startsWith(o, i));
      if (!op) throw new FilterError('unexpected character', i, c);
      tokens.push({ type: 'op', text: op, value: op === '<>' ? '!=' : op, position: start });
      i += op.length;
    }
  }
  tokens.push({ type: 'end', text: '<end>', value: '', position: input.length });
  return tokens;
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

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    return this.tokens[this.i++]!;
  }
  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t.type === 'keyword' && t.value === word;
  }
  private fail(message: string, token = this.peek()): never {
    throw new FilterError(message, token.position, token.text);
  }

  parse(): FilterExpr {
    const expr = this.or();
    if (this.peek().type !== 'end') this.fail('expected AND, OR or the end of the filter');
    return expr;
  }
  private or(): FilterExpr {
    const items = [this.and()];
    while (this.isKeyword('OR')) {
      this.next();
      items.push(this.and());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }
  private and(): FilterExpr {
    const items = [this.not()];
    while (this.isKeyword('AND')) {
      this.next();
      items.push(this.not());
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }
  private not(): FilterExpr {
    if (this.isKeyword('NOT')) {
      this.next();
      return { kind: 'not', expr: this.nested(() => this.not()) };
    }
    if (this.peek().type === 'lparen') {
      this.next();
      const expr = this.nested(() => this.or());
      if (this.peek().type !== 'rparen') this.fail("expected ')'");
      this.next();
      return expr;
    }
    return this.comparison();
  }
  private nested<T>(parse: () => T): T {
    if (++this.depth > MAX_FILTER_DEPTH) this.fail(`the filter nests deeper than ${MAX_FILTER_DEPTH} parentheses (or NOTs)`);
    const out = parse();
    this.depth--;
    return out;
  }
  private comparison(): Comparison {
    const t = this.next();
    if (t.type !== 'ident' && !(t.type === 'string' && t.quoted)) this.fail('expected a name such as metrics.acc, params.lr or tags.team', t);
    const { entity, key } = parseIdentifier(t.parts!, t.position, t.text);
    const base = { kind: 'cmp' as const, entity, key, position: t.position };
    const opToken = this.next();
    if (opToken.type === 'op') return { ...base, op: opToken.value as Op, value: this.literal() };
    if (opToken.type === 'keyword') {
      if (opToken.value === 'LIKE' || opToken.value === 'ILIKE') return { ...base, op: opToken.value, value: this.literal() };
      if (opToken.value === 'IN') return { ...base, op: 'IN', value: this.list() };
      if (opToken.value === 'IS') {
        const negate = this.isKeyword('NOT');
        if (negate) this.next();
        if (!this.isKeyword('NULL')) this.fail('expected NULL after IS');
        this.next();
        return { ...base, op: negate ? 'IS NOT NULL' : 'IS NULL', value: null };
      }
      if (opToken.value === 'NOT') {
        if (!this.isKeyword('IN')) this.fail('expected IN after NOT');
        this.next();
        return { ...base, op: 'NOT IN', value: this.list() };
      }
    }
    this.fail('expected a comparison operator (=, !=, >, >=, <, <=, LIKE, ILIKE, IN, IS NULL)', opToken);
  }
  private literal(): Literal {
    const t = this.next();
    if (t.type === 'string') return t.value;
    if (t.type === 'number') return Number(t.value);
    this.fail("expected a value: a 'quoted string' or a number", t);
  }
  private list(): Literal[] {
    if (this.peek().type !== 'lparen') this.fail("expected '(' to start the list");
    this.next();
    const values = [this.literal()];
    while (this.peek().type === 'comma') {
      this.next();
      values.push(this.literal());
    }
    if (this.peek().type !== 'rparen') this.fail("expected ',' or ')' in the list");
    this.next();
    return values;
  }
}

/** Parses a filter string; an empty or blank one matches everything (null). */
export function parseFilter(input: string | undefined | null): FilterExpr | null {
  if (!input || !input.trim()) return null;
  if (input.length > 10_000) throw new FilterError('the filter is longer than 10000 characters', 0, input.slice(0, 20));
  return new Parser(lex(input)).parse();
}

/** Every comparison in the tree, for validation. */
export function comparisons(expr: FilterExpr | null): Comparison[] {
  if (!expr) return [];
  if (expr.kind === 'cmp') return [expr];
  if (expr.kind === 'not') return comparisons(expr.expr);
  return expr.items.flatMap(comparisons);
}

export interface OrderTerm {
  entity: Entity;
  key: string;
  ascending: boolean;
}

/** Parses one `order_by` item: `metrics.acc DESC`, `` `params`.`lr` ``, `start_time`. */
export function parseOrderBy(input: string): OrderTerm {
  const tokens = lex(input);
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
