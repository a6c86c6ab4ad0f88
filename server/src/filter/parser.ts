import { lex, type FilterProblem, type LexOptions, type ProblemKind, type Token } from './lexer.js';

/**
 * The one parser of the filter language, shared by tracking search and the lake:
 *
 *   expr       := and (OR and)*
 *   and        := unary (AND unary)*
 *   unary      := NOT unary | '(' expr ')' | comparison
 *   comparison := name op value | name [NOT] IN '(' value, … ')' | name IS [NOT] NULL
 *               | name [NOT] LIKE value | name ILIKE value | name [NOT] BETWEEN value AND value
 *
 * A form is there only when its keyword is one of the domain's (the lake has no ILIKE, tracking
 * no BETWEEN, TRUE or FALSE). The domain resolves each name as it is read and compiles the tree.
 */

export type Literal = string | number | boolean;
export type Op =
  | '='
  | '!='
  | '>'
  | '>='
  | '<'
  | '<='
  | 'LIKE'
  | 'NOT LIKE'
  | 'ILIKE'
  | 'NOT ILIKE'
  | 'IN'
  | 'NOT IN'
  | 'IS NULL'
  | 'IS NOT NULL'
  | 'BETWEEN'
  | 'NOT BETWEEN';
/**
 * One comparison: the domain's resolved name (`C`), the operator and its value — a list for
 * IN and BETWEEN (low, high), null for IS [NOT] NULL.
 */
export type Comparison<C> = C & {
  kind: 'cmp';
  op: Op;
  value: Literal | Literal[] | null;
  /** 0-based character offset of the name, for error messages. */
  position: number;
};
export type FilterExpr<C> = Comparison<C> | { kind: 'and' | 'or'; items: FilterExpr<C>[] } | { kind: 'not'; expr: FilterExpr<C> };

export interface Grammar<C> extends LexOptions {
  /** Resolves a name as it is read, so an unknown name is reported before any later syntax error. */
  column(token: Token): C;
  /** How many parentheses or NOTs may nest; deeper is no real query and would exhaust the stack. */
  maxDepth: number;
  maxListValues: number;
  /** The keywords NOT may stand before after a name (IN; the lake also LIKE and BETWEEN). */
  negatable: ReadonlySet<string>;
  /** LIKE takes only a 'quoted' pattern (the lake) rather than any value. */
  likeNeedsString: boolean;
}

/** Parses a filter that is not blank; throws the grammar's error for the first problem. */
export function parseExpression<C>(source: string, grammar: Grammar<C>): FilterExpr<C> {
  return new Parser(source, lex(source, grammar), grammar).parse();
}

/** Every comparison in the tree. */
export function comparisons<C>(expr: FilterExpr<C> | null | undefined): Comparison<C>[] {
  if (!expr) return [];
  if (expr.kind === 'cmp') return [expr];
  if (expr.kind === 'not') return comparisons(expr.expr);
  return expr.items.flatMap((e) => comparisons(e));
}

class Parser<C> {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
    private readonly g: Grammar<C>,
  ) {}

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
  private take(word: string): boolean {
    if (!this.isKeyword(word)) return false;
    this.i++;
    return true;
  }
  private fail(kind: ProblemKind, token = this.peek(), column?: Token): never {
    const problem: FilterProblem = { kind, source: this.source, position: token.position, text: token.text, token, column };
    throw this.g.problem(problem);
  }

  parse(): FilterExpr<C> {
    const expr = this.or();
    if (this.peek().type !== 'end') this.fail('expected-end');
    return expr;
  }
  private or(): FilterExpr<C> {
    const items = [this.and()];
    while (this.take('OR')) items.push(this.and());
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }
  private and(): FilterExpr<C> {
    const items = [this.unary()];
    while (this.take('AND')) items.push(this.unary());
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }
  private unary(): FilterExpr<C> {
    if (this.take('NOT')) return { kind: 'not', expr: this.nested(() => this.unary()) };
    if (this.peek().type === 'lparen') {
      this.next();
      const expr = this.nested(() => this.or());
      if (this.peek().type !== 'rparen') this.fail('expected-rparen');
      this.next();
      return expr;
    }
    return this.comparison();
  }
  private nested<T>(parse: () => T): T {
    if (++this.depth > this.g.maxDepth) this.fail('too-deep');
    const out = parse();
    this.depth--;
    return out;
  }
  private comparison(): Comparison<C> {
    const name = this.peek();
    if (name.type !== 'ident' && !(name.type === 'string' && name.quoted)) this.fail('expected-column');
    this.next();
    const base = { ...this.g.column(name), kind: 'cmp' as const, position: name.position };
    const cmp = (op: Op, value: Literal | Literal[] | null): Comparison<C> => ({ ...base, op, value }) as Comparison<C>;
    const opToken = this.peek();
    if (opToken.type === 'op') {
      this.next();
      return cmp(opToken.value as Op, this.literal());
    }
    if (this.take('IS')) {
      const negated = this.take('NOT');
      if (!this.take('NULL')) this.fail('expected-null');
      return cmp(negated ? 'IS NOT NULL' : 'IS NULL', null);
    }
    const negated = this.take('NOT');
    if (negated && !(this.peek().type === 'keyword' && this.g.negatable.has(this.peek().value))) this.fail('expected-after-not', this.peek(), name);
    const not = negated ? 'NOT ' : '';
    if (this.take('IN')) return cmp(`${not}IN` as Op, this.list());
    for (const like of ['LIKE', 'ILIKE'] as const) if (this.take(like)) return cmp(`${not}${like}` as Op, this.pattern());
    if (this.take('BETWEEN')) {
      const low = this.literal();
      if (!this.take('AND')) this.fail('expected-between-and');
      return cmp(`${not}BETWEEN` as Op, [low, this.literal()]);
    }
    this.fail('expected-operator', this.peek(), name);
  }
  private literal(): Literal {
    const t = this.peek();
    if (t.type === 'string' || t.type === 'number') {
      this.next();
      return t.type === 'number' ? Number(t.value) : t.value;
    }
    if (this.isKeyword('TRUE') || this.isKeyword('FALSE')) {
      this.next();
      return t.value === 'TRUE';
    }
    this.fail(this.isKeyword('NULL') ? 'null-value' : 'expected-value', t);
  }
  private pattern(): Literal {
    if (this.g.likeNeedsString && this.peek().type !== 'string') this.fail('like-needs-string');
    return this.literal();
  }
  private list(): Literal[] {
    if (this.peek().type !== 'lparen') this.fail('expected-list-start');
    this.next();
    const values = [this.literal()];
    while (this.peek().type === 'comma') {
      this.next();
      values.push(this.literal());
      if (values.length > this.g.maxListValues) this.fail('too-many-values');
    }
    if (this.peek().type !== 'rparen') this.fail('expected-list-end');
    this.next();
    return values;
  }
}
