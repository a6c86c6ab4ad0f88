import { invalid } from '../errors.js';

/**
 * The lake's filter language: a small grammar parsed into a tree. Values become bound parameters
 * and columns are resolved against the table's real columns, so no text of the filter ever reaches
 * the SQL as SQL.
 *
 *   expr      := and (OR and)*
 *   and       := unary (AND unary)*
 *   unary     := NOT unary | '(' expr ')' | predicate
 *   predicate := column op value | column [NOT] IN '(' value, … ')' | column IS [NOT] NULL
 *              | column [NOT] LIKE string | column [NOT] BETWEEN value AND value
 */
export type Literal = string | number | boolean;
export type FilterNode =
  | { kind: 'and' | 'or'; items: FilterNode[] }
  | { kind: 'not'; item: FilterNode }
  | { kind: 'compare'; column: string; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: Literal }
  | { kind: 'in'; column: string; values: Literal[]; negated: boolean }
  | { kind: 'null'; column: string; negated: boolean }
  | { kind: 'like'; column: string; pattern: string; negated: boolean }
  | { kind: 'between'; column: string; low: Literal; high: Literal; negated: boolean };

type Token =
  | { t: 'ident'; v: string; at: number; quoted: boolean }
  | { t: 'string'; v: string; at: number }
  | { t: 'number'; v: number; at: number }
  | { t: 'op'; v: string; at: number }
  | { t: 'end'; at: number };

const MAX_DEPTH = 64;
const MAX_IN_VALUES = 10_000;
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'LIKE', 'BETWEEN', 'TRUE', 'FALSE']);

function filterError(source: string, at: number, what: string) {
  const shown = source.length > 60 ? `${source.slice(Math.max(0, at - 20), at + 20)}` : source;
  return invalid(`Bad filter at character ${at + 1}: ${what}. Near: ${JSON.stringify(shown)}. Filters are comparisons (= != < <= > >=), IN (…), IS [NOT] NULL, LIKE and BETWEEN, joined with AND, OR, NOT and parentheses; strings in 'single quotes', odd column names in "double quotes".`);
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= src.length) throw filterError(src, at, 'a string is not closed');
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += src[i++];
      }
      out.push({ t: 'string', v, at });
    } else if (c === '"') {
      const end = src.indexOf('"', i + 1);
      if (end < 0) throw filterError(src, at, 'a quoted column name is not closed');
      const v = src.slice(i + 1, end);
      if (!v) throw filterError(src, at, 'an empty column name');
      out.push({ t: 'ident', v, at, quoted: true });
      i = end + 1;
    } else if (/[0-9]/.test(c) || ((c === '-' || c === '.') && /[0-9.]/.test(src[i + 1] ?? ''))) {
      const m = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
      if (!m) throw filterError(src, at, 'a malformed number');
      out.push({ t: 'number', v: Number(m[0]), at });
      i += m[0].length;
      if (/[A-Za-z_]/.test(src[i] ?? '')) throw filterError(src, i, 'a number runs into a name');
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: 'ident', v: m[0], at, quoted: false });
      i += m[0].length;
    } else {
      const two = src.slice(i, i + 2);
      if (['<=', '>=', '<>', '!='].includes(two)) {
        out.push({ t: 'op', v: two === '<>' ? '!=' : two, at });
        i += 2;
      } else if ('=<>(),'.includes(c)) {
        out.push({ t: 'op', v: c, at });
        i++;
      } else {
        throw filterError(src, at, `unexpected ${JSON.stringify(c)}`);
      }
    }
  }
  out.push({ t: 'end', at: src.length });
  return out;
}

export function parseFilter(source: string): FilterNode | undefined {
  if (!source.trim()) return undefined;
  const tokens = tokenize(source);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const isKw = (tok: Token, kw: string) => tok.t === 'ident' && !tok.quoted && tok.v.toUpperCase() === kw;
  const takeKw = (kw: string) => {
    if (isKw(peek(), kw)) {
      pos++;
      return true;
    }
    return false;
  };
  const expectOp = (op: string) => {
    const tok = peek();
    if (tok.t !== 'op' || tok.v !== op) throw filterError(source, tok.at, `expected ${op}`);
    pos++;
  };
  const describe = (tok: Token) => (tok.t === 'end' ? 'the end of the filter' : tok.t === 'string' ? 'a string' : tok.t === 'number' ? 'a number' : JSON.stringify(tok.v));

  const value = (): Literal => {
    const tok = peek();
    if (tok.t === 'string' || tok.t === 'number') {
      pos++;
      return tok.v;
    }
    if (isKw(tok, 'TRUE') || isKw(tok, 'FALSE')) {
      pos++;
      return isKw(tok, 'TRUE');
    }
    if (isKw(tok, 'NULL')) throw filterError(source, tok.at, 'compare with NULL using IS NULL or IS NOT NULL');
    throw filterError(source, tok.at, `expected a value ('text', a number, TRUE or FALSE), found ${describe(tok)}`);
  };
  const column = (): string => {
    const tok = peek();
    if (tok.t !== 'ident' || (!tok.quoted && KEYWORDS.has(tok.v.toUpperCase()))) throw filterError(source, tok.at, `expected a column name, found ${describe(tok)}`);
    pos++;
    return tok.v;
  };

  const predicate = (): FilterNode => {
    const col = column();
    const tok = peek();
    if (tok.t === 'op' && ['=', '!=', '<', '<=', '>', '>='].includes(tok.v)) {
      pos++;
      return { kind: 'compare', column: col, op: tok.v as '=', value: value() };
    }
    if (takeKw('IS')) {
      const negated = takeKw('NOT');
      if (!takeKw('NULL')) throw filterError(source, peek().at, 'expected NULL after IS');
      return { kind: 'null', column: col, negated };
    }
    const negated = takeKw('NOT');
    if (takeKw('IN')) {
      expectOp('(');
      const values = [value()];
      while (peek().t === 'op' && (peek() as { v: string }).v === ',') {
        pos++;
        values.push(value());
        if (values.length > MAX_IN_VALUES) throw filterError(source, peek().at, `IN takes at most ${MAX_IN_VALUES} values`);
      }
      expectOp(')');
      return { kind: 'in', column: col, values, negated };
    }
    if (takeKw('LIKE')) {
      const tok2 = peek();
      if (tok2.t !== 'string') throw filterError(source, tok2.at, "LIKE takes a 'pattern' in single quotes");
      pos++;
      return { kind: 'like', column: col, pattern: tok2.v, negated };
    }
    if (takeKw('BETWEEN')) {
      const low = value();
      if (!takeKw('AND')) throw filterError(source, peek().at, 'expected AND in BETWEEN … AND …');
      return { kind: 'between', column: col, low, high: value(), negated };
    }
    throw filterError(source, peek().at, `expected an operator after column ${JSON.stringify(col)}, found ${describe(peek())}`);
  };

  const unary = (depth: number): FilterNode => {
    if (depth > MAX_DEPTH) throw filterError(source, peek().at, 'nested too deeply');
    if (takeKw('NOT')) return { kind: 'not', item: unary(depth + 1) };
    const tok = peek();
    if (tok.t === 'op' && tok.v === '(') {
      pos++;
      const inner = or(depth + 1);
      expectOp(')');
      return inner;
    }
    return predicate();
  };
  const and = (depth: number): FilterNode => {
    const items = [unary(depth)];
    while (takeKw('AND')) items.push(unary(depth));
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  };
  const or = (depth: number): FilterNode => {
    const items = [and(depth)];
    while (takeKw('OR')) items.push(and(depth));
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  };

  const tree = or(0);
  const rest = peek();
  if (rest.t !== 'end') throw filterError(source, rest.at, `unexpected ${describe(rest)}`);
  return tree;
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
      return `(NOT ${compileFilter(node.item, b)})`;
    case 'compare': {
      const c = b.column(node.column);
      return `(${c.sql} ${node.op === '!=' ? '<>' : node.op} ${b.param(node.value, c.type, node.column)})`;
    }
    case 'in': {
      const c = b.column(node.column);
      return `(${c.sql} ${node.negated ? 'NOT IN' : 'IN'} (${node.values.map((v) => b.param(v, c.type, node.column)).join(', ')}))`;
    }
    case 'null':
      return `(${b.column(node.column).sql} IS ${node.negated ? 'NOT ' : ''}NULL)`;
    case 'like': {
      const c = b.column(node.column);
      return `(CAST(${c.sql} AS VARCHAR) ${node.negated ? 'NOT LIKE' : 'LIKE'} ${b.param(node.pattern, 'VARCHAR', node.column)})`;
    }
    case 'between': {
      const c = b.column(node.column);
      return `(${c.sql} ${node.negated ? 'NOT BETWEEN' : 'BETWEEN'} ${b.param(node.low, c.type, node.column)} AND ${b.param(node.high, c.type, node.column)})`;
    }
  }
}
