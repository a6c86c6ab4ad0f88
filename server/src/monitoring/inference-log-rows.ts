import { INFERENCE_LOG_COLUMNS } from '@forja/contracts';

/** Rows as named columns: what a call's input or answer flattens to. */
export interface Frame {
  columns: string[];
  rows: unknown[][];
}

/** A call's body or answer holds at most this many rows in the log; the rest are left out. */
export const MAX_LOGGED_ROWS = 100_000;
/** Columns beyond this many (a very wide input) are left out of the log. */
export const MAX_LOGGED_COLUMNS = 1_000;

const EMPTY: Frame = { columns: [], rows: [] };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value as the log stores it: scalars as they are, lists and objects as their JSON text. */
function cell(v: unknown): unknown {
  if (v === undefined) return null;
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
}

function fromRecords(records: Record<string, unknown>[]): Frame {
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const r of records.slice(0, MAX_LOGGED_ROWS))
    for (const k of Object.keys(r))
      if (!seen.has(k) && columns.length < MAX_LOGGED_COLUMNS) {
        seen.add(k);
        columns.push(k);
      }
  return { columns, rows: records.slice(0, MAX_LOGGED_ROWS).map((r) => columns.map((c) => cell(r[c]))) };
}

function fromSplit(columns: unknown[], data: unknown[]): Frame {
  const names = columns.slice(0, MAX_LOGGED_COLUMNS).map(String);
  return { columns: names, rows: data.slice(0, MAX_LOGGED_ROWS).map((row) => names.map((_, i) => cell(Array.isArray(row) ? row[i] : i === 0 ? row : null))) };
}

/** {"a": [1, 2], "b": [3, 4]}: columns of equal length (pandas' "list" orient, MLflow's columnar inputs). */
function columnar(o: Record<string, unknown>): Frame | undefined {
  const values = Object.values(o);
  if (values.length === 0 || !values.every(Array.isArray)) return undefined;
  const n = (values[0] as unknown[]).length;
  if (!values.every((v) => (v as unknown[]).length === n)) return undefined;
  const columns = Object.keys(o).slice(0, MAX_LOGGED_COLUMNS);
  return { columns, rows: Array.from({ length: Math.min(n, MAX_LOGGED_ROWS) }, (_, i) => columns.map((c) => cell((o[c] as unknown[])[i]))) };
}

function fromArray(items: unknown[], positional: (i: number) => string): Frame {
  if (items.length === 0) return EMPTY;
  if (items.every(isRecord)) return fromRecords(items);
  if (items.every(Array.isArray)) {
    const width = Math.min(MAX_LOGGED_COLUMNS, Math.max(...items.slice(0, MAX_LOGGED_ROWS).map((r) => (r as unknown[]).length)));
    return fromSplit(
      Array.from({ length: width }, (_, i) => positional(i)),
      items,
    );
  }
  return { columns: [positional(-1)], rows: items.slice(0, MAX_LOGGED_ROWS).map((v) => [cell(v)]) };
}

/**
 * The rows a JSON predict body carries, in every shape the predict routes take: one record,
 * records, Neomaril's {"Input": …}, MLflow's dataframe_split / dataframe_records / instances /
 * inputs, and columns of equal length. Lists without names get `input_<i>` columns.
 */
export function inputFrame(payload: unknown): Frame {
  const positional = (i: number) => (i < 0 ? 'input' : `input_${i}`);
  if (Array.isArray(payload)) return fromArray(payload, positional);
  if (!isRecord(payload)) return payload === undefined ? EMPTY : { columns: ['input'], rows: [[cell(payload)]] };
  const keys = Object.keys(payload);
  if (keys.length === 1 && keys[0] === 'Input') return inputFrame(payload.Input);
  const split = payload.dataframe_split ?? (Array.isArray(payload.columns) && Array.isArray(payload.data) ? payload : undefined);
  if (isRecord(split) && Array.isArray(split.data)) {
    const columns = Array.isArray(split.columns)
      ? split.columns
      : Array.from({ length: Array.isArray(split.data[0]) ? split.data[0].length : 1 }, (_, i) => positional(i));
    return fromSplit(columns, split.data);
  }
  if (Array.isArray(payload.dataframe_records)) return fromArray(payload.dataframe_records, positional);
  for (const key of ['instances', 'inputs'] as const) {
    const v = payload[key];
    if (v === undefined) continue;
    if (Array.isArray(v)) return fromArray(v, positional);
    if (isRecord(v)) return columnar(v) ?? fromRecords([v]);
    return { columns: ['input'], rows: [[cell(v)]] };
  }
  return columnar(payload) ?? fromRecords([payload]);
}

/**
 * The prediction columns of an answer: `prediction` for one value a row, `prediction_<name>` for
 * named outputs (a dict a row, or columns), `prediction_<i>` for a list a row (class
 * probabilities). MLflow's {"predictions": …} is unwrapped.
 */
export function outputFrame(payload: unknown): Frame {
  const named = (f: Frame): Frame => ({ ...f, columns: f.columns.map((c) => `prediction_${c}`) });
  if (isRecord(payload) && Object.keys(payload).length === 1 && 'predictions' in payload) return outputFrame(payload.predictions);
  if (Array.isArray(payload)) {
    if (payload.length === 0) return EMPTY;
    if (payload.every(isRecord)) return named(fromRecords(payload));
    return fromArray(payload, (i) => (i < 0 ? 'prediction' : `prediction_${i}`));
  }
  if (isRecord(payload)) return named(columnar(payload) ?? fromRecords([payload]));
  return payload === undefined ? EMPTY : { columns: ['prediction'], rows: [[cell(payload)]] };
}

/** The answer of a file (an async execution's output): one column is `prediction`, several `prediction_<name>`. */
export function outputFrameOfTable(frame: Frame): Frame {
  if (frame.columns.length === 1) return { ...frame, columns: ['prediction'] };
  return { ...frame, columns: frame.columns.map((c) => `prediction_${c}`) };
}

/** CSV text (RFC 4180: quotes, doubled quotes, newlines in quotes) as rows of strings, numbers where a field is one. */
export function csvFrame(text: string): Frame {
  const records: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  let wasQuoted = false;
  const cells: boolean[][] = [];
  let rowQuoted: boolean[] = [];
  const endField = () => {
    row.push(field);
    rowQuoted.push(wasQuoted);
    field = '';
    wasQuoted = false;
  };
  const endRow = () => {
    endField();
    if (!(row.length === 1 && row[0] === '' && !rowQuoted[0])) {
      records.push(row);
      cells.push(rowQuoted);
    }
    row = [];
    rowQuoted = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') {
      quoted = true;
      wasQuoted = true;
    } else if (ch === ',') endField();
    else if (ch === '\n') endRow();
    else if (ch !== '\r') field += ch;
    if (records.length > MAX_LOGGED_ROWS) break;
  }
  if (field !== '' || row.length > 0) endRow();
  const [header, ...data] = records;
  if (!header) return EMPTY;
  const columns = header.slice(0, MAX_LOGGED_COLUMNS);
  const value = (s: string | undefined, q: boolean | undefined): unknown => {
    if (s === undefined || (s === '' && !q)) return null;
    if (!q && /^\s*-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(s)) return Number(s);
    return s;
  };
  return { columns, rows: data.slice(0, MAX_LOGGED_ROWS).map((r, i) => columns.map((_, j) => value(r[j], cells[i + 1]?.[j]))) };
}

const RESERVED = new Set<string>([...INFERENCE_LOG_COLUMNS, '_rid']);
/** Lake column names: 1–255 characters without control characters; case does not tell two apart. */
function cleanName(name: string): string {
  const clean = name.replace(/[\u0000-\u001f]/g, '').slice(0, 255);
  return clean === '' ? 'column' : clean;
}

/** One call's rows as the log keeps them: the fixed columns, the features as sent, then the predictions. */
export interface LoggedRows {
  columns: string[];
  rows: unknown[][];
}

/**
 * Joins a call's input and output frames row by row (row i of the answer goes with row i of the
 * input; a side with fewer rows reads NULL), after the fixed columns. A feature whose name is one
 * of the fixed columns (or a prediction column) is kept as `input_<name>`.
 */
export function loggedRows(
  call: { requestId: string; loggedAt: string; latencyMs: number; modelVersion: string | null },
  input: Frame,
  output: Frame,
): LoggedRows {
  const taken = new Set<string>([...RESERVED].map((c) => c.toLowerCase()));
  const unique = (name: string) => {
    let n = cleanName(name);
    for (let k = 2; taken.has(n.toLowerCase()); k++) n = `${cleanName(name).slice(0, 250)}_${k}`;
    taken.add(n.toLowerCase());
    return n;
  };
  const outNames = output.columns.map(unique);
  const reservedOut = new Set(outNames.map((c) => c.toLowerCase()));
  const inNames = input.columns.map((c) => unique(RESERVED.has(c.toLowerCase()) || reservedOut.has(c.toLowerCase()) ? `input_${c}` : c));
  const n = Math.max(input.rows.length, output.rows.length, 1);
  const rows: unknown[][] = [];
  for (let i = 0; i < n; i++) {
    const inRow = input.rows[i];
    const outRow = output.rows[i];
    rows.push([
      call.requestId,
      call.loggedAt,
      call.latencyMs,
      call.modelVersion,
      i,
      ...input.columns.map((_, j) => inRow?.[j] ?? null),
      ...output.columns.map((_, j) => outRow?.[j] ?? null),
    ]);
  }
  return { columns: [...INFERENCE_LOG_COLUMNS, ...inNames, ...outNames], rows };
}
