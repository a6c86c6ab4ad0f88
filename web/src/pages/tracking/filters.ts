/** Pieces of the search filter and order_by grammar the UI writes itself. */

/** A string literal for the filter grammar, whose quoted strings treat a backslash as an escape. */
export const quoteLiteral = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export type ColumnKind = 'metrics' | 'params' | 'tags';
export const columnKinds: ColumnKind[] = ['metrics', 'params', 'tags'];

/** A metric, param or tag column, identified as the server's projection names it: "metrics.acc". */
export interface DataColumn {
  kind: ColumnKind;
  key: string;
}

export const columnId = (c: DataColumn) => `${c.kind}.${c.key}`;

export function parseColumnId(id: string): DataColumn | undefined {
  const dot = id.indexOf('.');
  const kind = id.slice(0, dot);
  if (dot < 1 || !columnKinds.includes(kind as ColumnKind) || dot === id.length - 1) return undefined;
  return { kind: kind as ColumnKind, key: id.slice(dot + 1) };
}

/** Run attributes the table can sort by, with the name order_by knows them under. */
export const sortableAttributes = { run_name: 'Run', status: 'Status', start_time: 'Created', user_id: 'User' } as const;
export type SortableAttribute = keyof typeof sortableAttributes;

/** The column a table is sorted by: "attributes.start_time" or a data column id. */
export interface Sort {
  column: string;
  desc: boolean;
}

/** Keys may hold dots, spaces and slashes, so data columns are always backticked. */
export function orderByOf(sort: Sort): string {
  const data = parseColumnId(sort.column);
  const target = data ? `${data.kind}.\`${data.key}\`` : sort.column;
  return `${target} ${sort.desc ? 'DESC' : 'ASC'}`;
}

/**
 * Column lists in a URL: ids joined by commas ("metrics.acc,params.lr"). Tracking keys cannot hold a
 * comma, so no escaping is needed; ids that do not parse are dropped.
 */
export const columnsToParam = (columns: DataColumn[]) => columns.map(columnId).join(',');
export function columnsFromParam(param: string | null): DataColumn[] | undefined {
  if (param === null) return undefined;
  return param
    .split(',')
    .map(parseColumnId)
    .filter((c) => c !== undefined);
}
