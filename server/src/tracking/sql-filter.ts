import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from '../db/database.js';
import { FilterError, type Comparison, type FilterExpr, type Literal } from './filter.js';

/**
 * Compiles a parsed filter into a bound SQL condition. `column` maps an attribute to its column
 * (or throws); metrics, params, tags and datasets become EXISTS subqueries on the row's id, so a
 * row without the key never matches, as in MLflow.
 */
export interface FilterTarget {
  dialect: Dialect;
  /** The outer row's id column, e.g. sql.ref('runs.id'). */
  id: RawBuilder<unknown>;
  attribute(cmp: Comparison): { column: RawBuilder<unknown>; kind: 'string' | 'number' };
  /** Where a key's values live; `where` narrows the rows that count (a logged model's metrics on some datasets). */
  keyTable(entity: 'metric' | 'param' | 'tag', cmp: Comparison): { table: string; idColumn: string; where?: RawBuilder<unknown> } | undefined;
  dataset?: (cmp: Comparison) => RawBuilder<unknown>;
}

const NUMERIC_OPS = new Set(['=', '!=', '>', '>=', '<', '<=']);
const STRING_OPS = new Set(['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN', 'IS NULL', 'IS NOT NULL']);

export function compileFilter(expr: FilterExpr, target: FilterTarget): RawBuilder<unknown> {
  if (expr.kind === 'cmp') return compileComparison(expr, target);
  if (expr.kind === 'not') return sql`(NOT ${compileFilter(expr.expr, target)})`;
  const parts = expr.items.map((e) => compileFilter(e, target));
  return sql`(${sql.join(parts, expr.kind === 'and' ? sql` AND ` : sql` OR `)})`;
}

function fail(cmp: Comparison, message: string): never {
  throw new FilterError(message, cmp.position, cmp.key);
}

/** `col op value` for one comparison, with the value bound. */
export function predicate(column: RawBuilder<unknown>, cmp: Comparison, kind: 'string' | 'number', dialect: Dialect): RawBuilder<unknown> {
  const { op, value } = cmp;
  if (op === 'IS NULL') return sql`${column} IS NULL`;
  if (op === 'IS NOT NULL') return sql`${column} IS NOT NULL`;
  if (op === 'IN' || op === 'NOT IN') {
    const values = value as Literal[];
    if (kind === 'number' && values.some((v) => typeof v !== 'number')) fail(cmp, `'${cmp.key}' takes numbers in the IN list`);
    const list = sql.join(values.map((v) => sql`${kind === 'string' ? String(v) : v}`));
    return op === 'IN' ? sql`${column} IN (${list})` : sql`${column} NOT IN (${list})`;
  }
  if (kind === 'number') {
    if (!NUMERIC_OPS.has(op)) fail(cmp, `'${cmp.key}' is a number: use =, !=, >, >=, < or <=`);
    if (typeof value !== 'number') fail(cmp, `'${cmp.key}' is a number: compare it with a number, not '${String(value)}'`);
  } else if (typeof value !== 'string') {
    fail(cmp, `'${cmp.key}' is a string: quote the value ('${String(value)}')`);
  }
  switch (op) {
    case '=':
      return sql`${column} = ${value}`;
    case '!=':
      return sql`${column} <> ${value}`;
    case '>':
      return sql`${column} > ${value}`;
    case '>=':
      return sql`${column} >= ${value}`;
    case '<':
      return sql`${column} < ${value}`;
    case '<=':
      return sql`${column} <= ${value}`;
    case 'LIKE':
      return sql`${column} LIKE ${value}`;
    case 'ILIKE':
      return dialect === 'postgres' ? sql`${column} ILIKE ${value}` : sql`lower(${column}) LIKE lower(${value})`;
    default:
      fail(cmp, `operator ${op} does not apply here`);
  }
}

function compileComparison(cmp: Comparison, target: FilterTarget): RawBuilder<unknown> {
  if (cmp.entity === 'attribute') {
    const { column, kind } = target.attribute(cmp);
    if (kind === 'string' && !STRING_OPS.has(cmp.op)) fail(cmp, `'${cmp.key}' is a string: use =, !=, LIKE, ILIKE, IN or NOT IN`);
    return predicate(column, cmp, kind, target.dialect);
  }
  if (cmp.entity === 'dataset') {
    if (!target.dataset) fail(cmp, 'datasets cannot be filtered here');
    return target.dataset(cmp);
  }
  const spec = target.keyTable(cmp.entity, cmp);
  if (!spec) fail(cmp, `${cmp.entity}s cannot be filtered here`);
  const t = sql.table(spec.table);
  const idCol = sql.ref(`${spec.table}.${spec.idColumn}`);
  const keyCol = sql.ref(`${spec.table}.key`);
  const valueCol = sql.ref(`${spec.table}.value`);
  const conds = (cond: RawBuilder<unknown> | null) => [cond, spec.where].filter((c): c is RawBuilder<unknown> => c !== null && c !== undefined);
  const exists = (cond: RawBuilder<unknown> | null) =>
    sql`EXISTS (SELECT 1 FROM ${t} WHERE ${sql.join([sql`${idCol} = ${target.id}`, sql`${keyCol} = ${cmp.key}`, ...conds(cond)], sql` AND `)})`;
  if (cmp.op === 'IS NULL') return sql`NOT ${exists(null)}`;
  if (cmp.op === 'IS NOT NULL') return exists(null);
  if (cmp.entity === 'metric') {
    // NaN is stored as 0 with is_nan set; it never satisfies a numeric comparison.
    return exists(sql`${sql.ref(`${spec.table}.is_nan`)} = 0 AND ${predicate(valueCol, cmp, 'number', target.dialect)}`);
  }
  if (!STRING_OPS.has(cmp.op)) fail(cmp, `${cmp.entity}s are strings: use =, !=, LIKE, ILIKE, IN or NOT IN`);
  return exists(predicate(valueCol, cmp, 'string', target.dialect));
}
