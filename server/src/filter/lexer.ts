/**
 * The one lexer of the filter language shared by tracking search (MLflow's dialect) and the lake
 * (SQL's). The dialects differ only in quoting, dotted names, signs and keywords; those are
 * options here, and each domain words its own errors from the neutral problems this reports.
 */

export type TokenType = 'ident' | 'string' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma' | 'keyword' | 'end';
export interface Token {
  type: TokenType;
  /** The source text; `<end>` for the end. */
  text: string;
  /** Strings: the unquoted text; keywords: upper case; operators: `<>` reads as `!=`. */
  value: string;
  /** 0-based character offset. */
  position: number;
  /** Names (and MLflow's lone "…"): the dotted parts, each already unquoted. */
  parts?: string[];
  /** Names: true when written with quotes, so keywords can be names. */
  quoted?: boolean;
}

/** What went wrong and where; the domain turns it into its own error and words. */
export type ProblemKind =
  | 'unterminated-string'
  | 'unterminated-name'
  | 'empty-name'
  | 'unexpected-character'
  | 'malformed-number'
  | 'number-touches-name'
  | 'expected-end'
  | 'expected-column'
  | 'expected-operator'
  | 'expected-after-not'
  | 'expected-null'
  | 'expected-value'
  | 'null-value'
  | 'like-needs-string'
  | 'expected-between-and'
  | 'expected-list-start'
  | 'expected-list-end'
  | 'too-many-values'
  | 'expected-rparen'
  | 'too-deep';
export interface FilterProblem {
  kind: ProblemKind;
  /** The whole filter. */
  source: string;
  position: number;
  /** The text at fault: a token's text, or the characters where lexing stopped. */
  text: string;
  /** The token at fault, for problems found by the parser. */
  token?: Token;
  /** The name the comparison is about, once read. */
  column?: Token;
  /** The quote character of an unterminated string or name. */
  quote?: string;
}

export interface LexOptions {
  /** Unquoted words (matched case-insensitively) that are syntax, not names. */
  keywords: ReadonlySet<string>;
  /** Characters that quote a name: `"` (and `` ` `` in MLflow's dialect). */
  nameQuotes: string;
  /** A backslash takes the next character literally inside any quotes (MLflow). */
  backslashEscapes: boolean;
  /** A doubled quote inside a quoted name stands for one (strings always allow `''`). */
  doubledQuotesInNames: boolean;
  /** `metrics.acc`, `` `params`.`lr` ``: a name is dotted parts. */
  dottedNames: boolean;
  /** MLflow's lone "…" may be a string value as well as a name. */
  doubleQuotedStrings: boolean;
  /** `""` is a name; SQL's dialect refuses it. */
  emptyNames: boolean;
  /** A number may carry a leading `+` (only `-` otherwise). */
  plusSign: boolean;
  /** `1abc` is a number then a name; SQL's dialect refuses it. */
  numbersMayTouchNames: boolean;
  problem(p: FilterProblem): Error;
}

const OPS = ['>=', '<=', '!=', '<>', '=', '>', '<'];
const NAME_START = /[A-Za-z_]/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/;

export function lex(input: string, o: LexOptions): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const problem = (kind: ProblemKind, position: number, text: string, quote?: string) => o.problem({ kind, source: input, position, text, quote });
  const readQuoted = (quote: string, doubled: boolean): string => {
    const start = i;
    i++;
    let out = '';
    while (i < input.length) {
      const c = input[i]!;
      if (o.backslashEscapes && c === '\\' && i + 1 < input.length) {
        out += input[i + 1];
        i += 2;
        continue;
      }
      if (c === quote) {
        if (doubled && input[i + 1] === quote) {
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
    throw problem(quote === "'" ? 'unterminated-string' : 'unterminated-name', start, input.slice(start, start + 20), quote);
  };
  const isNameQuote = (c: string | undefined) => c !== undefined && o.nameQuotes.includes(c);
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
      const value = readQuoted("'", true);
      tokens.push({ type: 'string', text: input.slice(start, i), value, position: start });
    } else if (isNameQuote(c) || NAME_START.test(c)) {
      const parts: string[] = [];
      let quoted = false;
      for (;;) {
        const ch = input[i];
        if (isNameQuote(ch)) {
          const part = readQuoted(ch!, o.doubledQuotesInNames);
          if (!part && !o.emptyNames) throw problem('empty-name', start, input.slice(start, i));
          parts.push(part);
          quoted = true;
        } else if (ch !== undefined && NAME_START.test(ch)) {
          const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(input.slice(i))!;
          parts.push(m[0]);
          i += m[0].length;
        } else break;
        const next = input[i + 1];
        if (o.dottedNames && input[i] === '.' && next !== undefined && (NAME_START.test(next) || isNameQuote(next))) {
          i++;
          continue;
        }
        break;
      }
      const text = input.slice(start, i);
      if (!quoted && parts.length === 1 && o.keywords.has(parts[0]!.toUpperCase())) {
        tokens.push({ type: 'keyword', text, value: parts[0]!.toUpperCase(), position: start });
      } else if (o.doubleQuotedStrings && c === '"' && parts.length === 1) {
        tokens.push({ type: 'string', text, value: parts[0]!, position: start, parts, quoted: true });
      } else tokens.push({ type: 'ident', text, value: text, position: start, parts, quoted });
    } else if (/[0-9]/.test(c) || ((c === '-' || c === '.' || (o.plusSign && c === '+')) && /[0-9.]/.test(input[i + 1] ?? ''))) {
      const m = NUMBER.exec(input.slice(i));
      if (!m) throw problem('malformed-number', i, c);
      tokens.push({ type: 'number', text: m[0], value: m[0], position: start });
      i += m[0].length;
      if (!o.numbersMayTouchNames && NAME_START.test(input[i] ?? '')) throw problem('number-touches-name', i, input[i]!);
    } else {
      const op = OPS.find((x) => input.startsWith(x, i));
      if (!op) throw problem('unexpected-character', i, c);
      tokens.push({ type: 'op', text: op, value: op === '<>' ? '!=' : op, position: start });
      i += op.length;
    }
  }
  tokens.push({ type: 'end', text: '<end>', value: '', position: input.length });
  return tokens;
}
