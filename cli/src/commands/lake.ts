import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { ForjaClient } from '@forja/client';
import { TERMINAL_JOB_STATUSES, type LakeBatchPrediction, type LakeQuery, type LakeWriteMode } from '@forja/contracts';
import { clientFor, jsonOf } from '../context.js';
import { printList, printObject } from '../output.js';
import { Progress } from '../progress.js';
import { ask } from '../prompt.js';
import { counting, saveBody } from '../transfer.js';
import { int, sleep, when } from '../options.js';

const positive = (v: string) => {
  const n = int(v);
  if (n < 1) throw new Error(`"${v}" must be 1 or more`);
  return n;
};

/** --version N or latest. */
const versionOf = (v: string): number | 'latest' => {
  if (v === 'latest') return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--version takes a VERSION number or "latest", not "${v}"`);
  return n;
};

/** --columns a,b,c (spaces around the commas are dropped). */
const columnsOf = (v: string) => {
  const cols = v
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (cols.length === 0) throw new Error('--columns takes a comma-separated list of column names');
  return cols;
};

/** --order col or col:desc (or col:asc). */
const orderOf = (v: string) => {
  const m = /^(.+):(asc|desc)$/i.exec(v);
  const column = m ? m[1]! : v;
  if (!column) throw new Error(`--order takes a column, optionally followed by :desc, not "${v}"`);
  return [{ column, desc: m ? m[2]!.toLowerCase() === 'desc' : false }];
};

/** The file format of a path, from its extension. */
function formatOf(file: string): 'csv' | 'parquet' {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  throw new Error(`${file}: the format comes from the extension, which must be .csv or .parquet`);
}

const MODES: LakeWriteMode[] = ['fail', 'append', 'replace'];
const modeOf = (v: string): LakeWriteMode => {
  if (!MODES.includes(v as LakeWriteMode)) throw new Error(`--mode is fail, append or replace, not "${v}"`);
  return v as LakeWriteMode;
};

const size = (bytes: number) =>
  bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(1)} GiB`
    : bytes >= 1024 ** 2
      ? `${(bytes / 1024 ** 2).toFixed(1)} MiB`
      : bytes >= 1024
        ? `${(bytes / 1024).toFixed(1)} KiB`
        : `${bytes} B`;

/** A cell of `lake head`: NULL spelled out, objects as JSON, long text cut so the table stays readable. */
function cell(value: unknown, width = 48): string {
  const text = value === null || value === undefined ? 'NULL' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' ');
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

/** Asks before something that destroys rows; off a terminal the flag is required, never a prompt. */
async function confirm(question: string, refusal: string): Promise<void> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) throw new Error(refusal);
  const answer = await ask(`${question} [y/N] `);
  if (!/^y(es)?$/i.test(answer.trim())) throw new Error('Cancelled.');
}

interface ReadOptions {
  filter?: string;
  columns?: string[];
  tableVersion?: number | 'latest';
}
const readQuery = (o: ReadOptions): Omit<LakeQuery, 'format'> => ({
  ...(o.columns ? { columns: o.columns } : {}),
  ...(o.filter !== undefined ? { filter: o.filter } : {}),
  ...(o.tableVersion !== undefined ? { version: o.tableVersion } : {}),
});

/** A row-count bar for batch predictions, drawn on a terminal like the byte bars of uploads. */
class RowProgress {
  private lastLine = '';
  private readonly tty = Boolean(process.stderr.isTTY);
  constructor(private readonly label: string) {}
  update(done: number, total: number): void {
    if (!this.tty) return;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 24;
    const line = `\r${this.label} [${'#'.repeat(Math.round(frac * width)).padEnd(width, ' ')}] ${(frac * 100).toFixed(0).padStart(3)}% ${done}/${total} rows   `;
    if (line !== this.lastLine) process.stderr.write(line);
    this.lastLine = line;
  }
  finish(): void {
    if (this.tty && this.lastLine) process.stderr.write('\n');
  }
}

async function followPrediction(client: ForjaClient, started: LakeBatchPrediction): Promise<LakeBatchPrediction> {
  const bar = new RowProgress(`${started.sourceTable} → ${started.outputTable}`);
  let p = started;
  let lastStatus = '';
  try {
    for (;;) {
      if (p.status !== lastStatus && !process.stderr.isTTY)
        process.stderr.write(`${p.status}${p.progress ? ` (${p.progress.done}/${p.progress.total} rows)` : ''}\n`);
      lastStatus = p.status;
      if (p.progress) bar.update(p.progress.done, p.progress.total);
      if (TERMINAL_JOB_STATUSES.includes(p.status as never)) return p;
      await sleep(1000);
      p = await client.lake.batchPrediction(p.jobId);
    }
  } finally {
    bar.finish();
  }
}

const GLOBAL_WITH_VALUE = ['--url', '--token', '--group'];

/**
 * `--version` is the program's own flag: commander reads it wherever it stands and prints the CLI's
 * version. On `forja lake <command>` it means a table VERSION, so it is handed on as --table-version.
 */
function routeVersionFlag(argv: string[]): void {
  let i = 2;
  while (i < argv.length && argv[i]!.startsWith('-')) i += GLOBAL_WITH_VALUE.includes(argv[i]!) ? 2 : 1;
  if (argv[i] !== 'lake') return;
  for (let j = i + 2; j < argv.length && argv[j] !== '--'; j++) {
    if (argv[j] === '--version') argv[j] = '--table-version';
    else if (argv[j]!.startsWith('--version=')) argv[j] = `--table-version=${argv[j]!.slice('--version='.length)}`;
  }
}

export function registerLakeCommands(program: Command, argv: string[] = process.argv): void {
  routeVersionFlag(argv);
  const lake = program.command('lake').description("The group's lake tables: list, read, import, export, and score with a registered model");

  lake
    .command('ls', { isDefault: true })
    .alias('list')
    .description('Tables with their rows, columns, latest VERSION and last update')
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      printList(
        await clientFor(cmd).lake.tables(),
        [
          { header: 'name', value: (t) => t.name },
          { header: 'rows', value: (t) => t.rowCount },
          { header: 'columns', value: (t) => t.columnCount },
          { header: 'version', value: (t) => t.latestVersion ?? '-' },
          { header: 'updated', value: (t) => when(t.updatedAt) },
          { header: 'created by', value: (t) => t.createdBy },
        ],
        jsonOf(cmd),
      );
    });

  lake
    .command('describe <table>')
    .alias('show')
    .description('A table: columns and types, rows, size, engine and VERSIONs')
    .option('--json', 'print JSON')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const t = await clientFor(cmd).lake.describe(name);
      if (jsonOf(cmd)) return printObject(t, true);
      printObject(
        {
          name: t.name,
          group: t.group,
          engine: t.engine,
          rows: t.rowCount,
          size: t.engine === 'duckdb' ? `${size(t.sizeBytes)} (estimate)` : size(t.sizeBytes),
          'latest version': t.latestVersion ?? '-',
          'created by': t.createdBy,
          created: when(t.createdAt),
          updated: when(t.updatedAt),
        },
        false,
      );
      process.stdout.write(`\nColumns (${t.columns.length}):\n`);
      printList(
        t.columns.map((c, i) => ({ ...c, i: i + 1 })),
        [
          { header: '#', value: (c) => String(c.i) },
          { header: 'column', value: (c) => c.name },
          { header: 'type', value: (c) => c.type },
        ],
        false,
      );
      if (t.versions.length) {
        process.stdout.write(`\nVersions (${t.versions.length}${t.versions.length === 100 ? ', newest 100' : ''}):\n`);
        printList(
          t.versions,
          [
            { header: 'version', value: (v) => String(v.version) },
            { header: 'rows', value: (v) => String(v.rows) },
            { header: 'created', value: (v) => when(v.createdAt) },
            { header: 'model', value: (v) => (v.modelName ? `${v.modelName}${v.modelVersion ? ` v${v.modelVersion}` : ''}` : '-') },
          ],
          false,
        );
      }
    });

  lake
    .command('head <table>')
    .description('The first rows of a table (or of the rows a filter keeps)')
    .option('-n, --rows <n>', 'how many rows', positive, 10)
    .option('--filter <expr>', `which rows, e.g. "species IN ('setosa') AND \\"sepal length\\" >= 5.1"`)
    .option('--columns <a,b>', 'only these columns, in this order', columnsOf)
    .option('--version, --table-version <n|latest>', 'only this VERSION of a versioned table', versionOf)
    .option('--order <col[:desc]>', 'order by one column', orderOf)
    .option('--json', 'print the rows as JSON')
    .action(async (name: string, o: ReadOptions & { rows: number; order?: { column: string; desc: boolean }[] }, cmd: Command) => {
      const client = clientFor(cmd);
      const rows: Record<string, unknown>[] = [];
      let columns: { name: string; type: string }[] = [];
      let pageToken: string | undefined;
      do {
        const page = await client.lake.rows(name, {
          ...readQuery(o),
          ...(o.order ? { orderBy: o.order } : {}),
          limit: Math.min(10_000, o.rows - rows.length),
          ...(pageToken ? { pageToken } : {}),
        });
        columns = page.columns;
        rows.push(...page.rows);
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken && rows.length < o.rows);
      if (jsonOf(cmd)) return printObject(rows, true);
      if (rows.length === 0) {
        process.stdout.write(`(no rows; columns: ${columns.map((c) => c.name).join(', ')})\n`);
        return;
      }
      printList(
        rows,
        columns.map((c) => ({ header: c.name, value: (r: Record<string, unknown>) => cell(r[c.name]) })),
        false,
      );
    });

  lake
    .command('import <file> <table>')
    .description('Stream a .csv or .parquet file into a table, with a progress bar')
    .option('--mode <mode>', 'fail: the table must be new; append: add rows (made if missing); replace: delete the rows first', modeOf, 'fail' as LakeWriteMode)
    .option('--yes-replace', 'confirm --mode replace, which deletes every row of the table')
    .option('--versioned', 'add VERSION (the newest + 1) and CREATED_AT columns to the rows')
    .option('--model-name <name>', 'with --versioned: MODEL_NAME of the rows')
    .option('--model-version <v>', 'with --versioned: MODEL_VERSION of the rows')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        file: string,
        table: string,
        o: { mode: LakeWriteMode; yesReplace?: boolean; versioned?: boolean; modelName?: string; modelVersion?: string },
        cmd: Command,
      ) => {
        const format = formatOf(file);
        if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${file} is not a file`);
        if (o.yesReplace && o.mode !== 'replace') throw new Error('--yes-replace goes with --mode replace');
        if (o.mode === 'replace' && !o.yesReplace)
          await confirm(
            `Delete every row of ${table} and import ${path.basename(file)} instead?`,
            `--mode replace deletes every row of ${table} first: pass --yes-replace to confirm.`,
          );
        const client = clientFor(cmd);
        const bytes = statSync(file).size;
        const progress = new Progress(path.basename(file), bytes);
        const source = createReadStream(file).pipe(counting(progress));
        const body = Readable.toWeb(source) as unknown as ReadableStream<Uint8Array>;
        let result;
        try {
          result = await client.lake.write(table, body, {
            format,
            mode: o.mode,
            confirmReplace: o.mode === 'replace' || undefined,
            versioned: o.versioned || undefined,
            modelName: o.modelName,
            modelVersion: o.modelVersion,
          });
        } catch (err) {
          if (process.stderr.isTTY) process.stderr.write('\n'); // end the progress line before the error
          throw err;
        } finally {
          source.destroy();
        }
        progress.finish();
        if (jsonOf(cmd)) return printObject(result, true);
        const where = result.created ? `new table ${result.table}` : result.table;
        const version = result.version !== null ? ` as VERSION ${result.version}` : '';
        process.stdout.write(
          o.mode === 'replace'
            ? `Replaced the rows of ${where}: ${result.rowsWritten} rows written${version}.\n`
            : `${result.rowsWritten} rows written to ${where}${version}.\n`,
        );
      },
    );

  lake
    .command('export <table> <file>')
    .description('Stream a table (or the rows a filter keeps) to a .csv or .parquet file, with a progress bar')
    .option('--filter <expr>', 'which rows')
    .option('--columns <a,b>', 'only these columns, in this order', columnsOf)
    .option('--version, --table-version <n|latest>', 'only this VERSION of a versioned table', versionOf)
    .option('-n, --limit <n>', 'at most this many rows', positive)
    .option('--force', 'overwrite the file if it exists')
    .action(async (table: string, file: string, o: ReadOptions & { limit?: number; force?: boolean }, cmd: Command) => {
      const format = formatOf(file);
      if (existsSync(file) && !o.force) throw new Error(`${file} exists: pass --force to overwrite it`);
      const res = await clientFor(cmd).lake.download(table, { ...readQuery(o), ...(o.limit ? { limit: o.limit } : {}), format });
      if (!res.body) throw new Error('The server sent no rows.');
      const rows = res.headers.get('x-forja-rows');
      await saveBody(res, file);
      process.stdout.write(`${rows ?? 'The'} rows of ${table} exported to ${file}.\n`);
    });

  lake
    .command('rename <table> <new-name>')
    .description('Rename a table')
    .action(async (table: string, newName: string, _o: unknown, cmd: Command) => {
      const t = await clientFor(cmd).lake.rename(table, newName);
      process.stdout.write(`Table ${table} renamed to ${t.name}.\n`);
    });

  lake
    .command('rm <table>')
    .alias('drop')
    .description('Drop a table and all its rows')
    .option('-y, --yes', 'do not ask (required off a terminal)')
    .action(async (table: string, o: { yes?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      if (!o.yes) {
        const t = await client.lake.describe(table);
        await confirm(`Drop table ${t.name} and its ${t.rowCount} rows?`, `Dropping ${t.name} deletes its ${t.rowCount} rows: pass --yes to confirm.`);
      }
      await client.lake.drop(table);
      process.stdout.write(`Table ${table} dropped.\n`);
    });

  lake
    .command('predict <source>')
    .description('Score a table with a registered model on the server, into a versioned output table')
    .requiredOption('--model <uri>', 'models:/name/Stage, models:/name@alias or models:/name/<version>')
    .requiredOption('--into <table>', 'the output table (made if missing; each run appends a new VERSION)')
    .option('--filter <expr>', 'score only the rows this keeps')
    .option('--column <name>', 'the prediction column (default PREDICT)')
    .option('--keep <a,b>', 'source columns copied next to the prediction (default: all)', columnsOf)
    .option('--chunk-rows <n>', 'rows scored at a time (default 50000)', positive)
    .option('-f, --follow', 'show its progress until it ends; exit 1 unless it succeeded')
    .option('--json', 'print the batch prediction as JSON')
    .action(
      async (
        source: string,
        o: { model: string; into: string; filter?: string; column?: string; keep?: string[]; chunkRows?: number; follow?: boolean },
        cmd: Command,
      ) => {
        const client = clientFor(cmd);
        const started = await client.lake.startBatchPrediction({
          sourceTable: source,
          model: o.model,
          outputTable: o.into,
          ...(o.filter !== undefined ? { filter: o.filter } : {}),
          ...(o.column ? { predictionColumn: o.column } : {}),
          ...(o.keep ? { keepColumns: o.keep } : {}),
          ...(o.chunkRows ? { chunkRows: o.chunkRows } : {}),
        });
        process.stderr.write(`Batch prediction ${started.jobId}: ${started.sourceTable} scored by ${started.model} into ${started.outputTable}.\n`);
        if (!o.follow) {
          if (jsonOf(cmd)) return printObject(started, true);
          process.stderr.write(`Follow it: forja jobs logs ${started.jobId} --follow\n`);
          return;
        }
        const done = await followPrediction(client, started);
        if (jsonOf(cmd)) printObject(done, true);
        else if (done.status === 'succeeded' && done.result)
          process.stdout.write(
            `${done.result.rowsWritten} rows scored by ${done.result.modelName} version ${done.result.modelVersion} into ${done.outputTable} as VERSION ${done.result.version}.\n`,
          );
        if (done.status !== 'succeeded') {
          process.stderr.write(`Batch prediction ${done.jobId} ${done.status}${done.error ? `: ${done.error}` : ''}\n`);
          process.exitCode = 1;
        }
      },
    );
}
