import { createReadStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { ForjaClient } from '@forja/client';
import type { Execution } from '@forja/contracts';
import { clientFor, jsonOf } from '../context.js';
import { printList, printObject } from '../output.js';
import { Progress } from '../progress.js';
import { counting, saveBody } from '../transfer.js';
import { tailJobLogs } from './jobs.js';
import { sleep } from '../options.js';

const FINISHED = ['Succeeded', 'Failed'];

/** --columns a,b,c (spaces around the commas are dropped). */
const columnsOf = (v: string) => {
  const cols = v
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (cols.length === 0) throw new Error('--columns takes a comma-separated list of column names');
  return cols;
};
const formatOf = (v: string): 'csv' | 'parquet' => {
  if (v !== 'csv' && v !== 'parquet') throw new Error(`--format is csv or parquet, not "${v}"`);
  return v;
};

const size = (bytes: number | null) =>
  bytes === null
    ? '-'
    : bytes >= 1024 ** 3
      ? `${(bytes / 1024 ** 3).toFixed(1)} GiB`
      : bytes >= 1024 ** 2
        ? `${(bytes / 1024 ** 2).toFixed(1)} MiB`
        : bytes >= 1024
          ? `${(bytes / 1024).toFixed(1)} KiB`
          : `${bytes} B`;
const firstLine = (m: string | null) => (m ?? '').split('\n')[0]!;
/** The message of a failed execution, its last line first: a Python traceback ends with the error itself. */
const failure = (e: Execution) => {
  const lines = (e.message ?? '')
    .trim()
    .split('\n')
    .filter((l) => l.trim());
  return lines.length ? lines[lines.length - 1]!.trim() : 'no message';
};

/** Waits for the end, printing each new status it sees to stderr (the first was printed on the start). */
async function follow(client: ForjaClient, depId: string, started: Execution): Promise<Execution> {
  let e = started;
  let last = started.status;
  for (let delay = 250; ; delay = Math.min(2000, delay * 1.5)) {
    if (e.status !== last) process.stderr.write(`Execution ${e.id}: ${e.status}\n`);
    last = e.status;
    if (FINISHED.includes(e.status)) return e;
    await sleep(delay);
    e = await client.deployments.execution(depId, e.id);
  }
}

/** The file name of a content-disposition header (filename*=UTF-8'' or filename="…"). */
function dispositionName(header: string | null): string | undefined {
  if (!header) return undefined;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1]!.trim());
    } catch {
      /* fall through to the plain form */
    }
  }
  return /filename\s*=\s*"([^"]*)"/i.exec(header)?.[1] ?? /filename\s*=\s*([^;]+)/i.exec(header)?.[1]?.trim();
}

/** Streams the output file to `out` (or the name the server gives it, in the current folder), with a progress bar. */
async function downloadResult(client: ForjaClient, depId: string, e: Execution, out: string | undefined, force: boolean): Promise<string> {
  if (out && existsSync(out) && !force) throw new Error(`${out} exists: pass --force to overwrite it`);
  const res = await client.deployments.executionResult(depId, e.id);
  if (!res.body) throw new Error('The server sent no result.');
  // Only the last part of the server's name: a result never lands outside the current folder.
  const file = out ?? path.basename(dispositionName(res.headers.get('content-disposition')) ?? e.outputName ?? `${e.id}.out`);
  if (!out && existsSync(file) && !force) {
    await res.body.cancel();
    throw new Error(`${file} exists: pass --force to overwrite it, or --out another file (forja executions download ${depId} ${e.id} --out FILE)`);
  }
  await saveBody(res, file);
  return file;
}

/** Uploads a file as a stream, with a progress bar. */
async function upload(client: ForjaClient, depId: string, file: string): Promise<Execution> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${file} is not a file`);
  const progress = new Progress(path.basename(file), statSync(file).size);
  const source = createReadStream(file).pipe(counting(progress));
  const body = Readable.toWeb(source) as unknown as ReadableStream<Uint8Array>;
  try {
    const e = await client.deployments.execute(depId, body, path.basename(file));
    progress.finish();
    return e;
  } catch (err) {
    if (process.stderr.isTTY) process.stderr.write('\n'); // end the progress line before the error
    throw err;
  } finally {
    source.destroy();
  }
}

interface RunOptions {
  table?: string;
  filter?: string;
  columns?: string[];
  format?: 'csv' | 'parquet';
  follow?: boolean;
  out?: string;
  force?: boolean;
}

export function registerExecutionCommands(program: Command): void {
  const executions = program.command('executions').description("Async deployments' executions: a file (or a lake table's rows) in, a file out");

  executions
    .command('run <deployment-id> [file]')
    .description('Start an execution on a file (uploaded with a progress bar) or on the rows of a lake table')
    .option('--table <table>', 'the rows of this lake table as the input, instead of a file')
    .option('--filter <expr>', 'with --table: which rows')
    .option('--columns <a,b>', 'with --table: only these columns, in this order', columnsOf)
    .option('--format <format>', 'with --table: the input file the scorer gets, parquet (default) or csv', formatOf)
    .option('-f, --follow', 'wait for the end, then download the result; exit 1 if it failed')
    .option('-o, --out <file>', 'with --follow: where the result goes (default: its own name, in the current folder)')
    .option('--force', 'overwrite the result file if it exists')
    .option('--json', 'print the execution as JSON')
    .action(async (depId: string, file: string | undefined, o: RunOptions, cmd: Command) => {
      if (file && o.table) throw new Error('give a file or --table, not both');
      if (!file && !o.table) throw new Error('give the input: a file, or --table TABLE');
      if (!o.table && (o.filter !== undefined || o.columns || o.format)) throw new Error('--filter, --columns and --format go with --table');
      if (o.out && !o.follow) throw new Error('--out goes with --follow (or use `forja executions download` later)');
      if (o.out && existsSync(o.out) && !o.force) throw new Error(`${o.out} exists: pass --force to overwrite it`);
      const client = clientFor(cmd);
      const started = o.table
        ? await client.deployments.executeTable(depId, {
            table: o.table,
            ...(o.filter !== undefined ? { filter: o.filter } : {}),
            ...(o.columns ? { columns: o.columns } : {}),
            ...(o.format ? { format: o.format } : {}),
          })
        : await upload(client, depId, file!);
      process.stderr.write(`Execution ${started.id} of deployment ${depId} on ${started.inputName} (${size(started.inputSize)}): ${started.status}.\n`);
      if (!o.follow) {
        if (jsonOf(cmd)) return printObject(started, true);
        process.stdout.write(`${started.id}\n`);
        process.stderr.write(`Follow it: forja executions show ${depId} ${started.id}, or forja executions logs ${depId} ${started.id} --follow\n`);
        return;
      }
      const done = await follow(client, depId, started);
      if (done.status === 'Failed') {
        if (jsonOf(cmd)) printObject(done, true);
        process.stderr.write(`Execution ${done.id} failed: ${failure(done)}\nIts log: forja executions logs ${depId} ${done.id}\n`);
        process.exitCode = 1;
        return;
      }
      const written = await downloadResult(client, depId, done, o.out, Boolean(o.force));
      if (jsonOf(cmd)) return printObject(done, true);
      process.stdout.write(`Execution ${done.id} succeeded: ${done.outputName} (${size(done.outputSize)}) written to ${written}.\n`);
    });

  executions
    .command('ls <deployment-id>')
    .alias('list')
    .description("A deployment's executions, newest first")
    .option('--json', 'print JSON')
    .action(async (depId: string, _o: unknown, cmd: Command) => {
      printList(
        await clientFor(cmd).deployments.executions(depId),
        [
          { header: 'id', value: (e) => e.id },
          { header: 'status', value: (e) => e.status },
          { header: 'input', value: (e) => `${e.inputName} (${size(e.inputSize)})` },
          { header: 'output', value: (e) => (e.outputName ? `${e.outputName} (${size(e.outputSize)})` : '-') },
          { header: 'created', value: (e) => e.createdAt },
          { header: 'finished', value: (e) => e.finishedAt },
          { header: 'by', value: (e) => e.createdBy },
          { header: 'message', value: (e) => (e.status === 'Failed' ? failure(e) : firstLine(e.message)) },
        ],
        jsonOf(cmd),
      );
    });

  executions
    .command('show <deployment-id> <execution-id>')
    .description('An execution: status, input, output, times, job, message')
    .option('--json', 'print JSON')
    .action(async (depId: string, id: string, _o: unknown, cmd: Command) => {
      const e = await clientFor(cmd).deployments.execution(depId, id);
      if (jsonOf(cmd)) return printObject(e, true);
      printObject(
        {
          id: e.id,
          deployment: e.deploymentId,
          status: e.status,
          input: `${e.inputName} (${size(e.inputSize)})`,
          output: e.outputName ? `${e.outputName} (${size(e.outputSize)})` : null,
          job: e.jobId,
          'created by': e.createdBy,
          created: e.createdAt,
          started: e.startedAt,
          finished: e.finishedAt,
        },
        false,
      );
      if (e.message) process.stdout.write(`\nMessage:\n${e.message.trimEnd()}\n`);
    });

  executions
    .command('download <deployment-id> <execution-id>')
    .description("A succeeded execution's output file, streamed with a progress bar")
    .option('-o, --out <file>', 'where it goes (default: its own name, in the current folder)')
    .option('--force', 'overwrite the file if it exists')
    .option('--json', 'print the execution as JSON')
    .action(async (depId: string, id: string, o: { out?: string; force?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      const e = await client.deployments.execution(depId, id);
      if (e.status !== 'Succeeded')
        throw new Error(`Execution ${id} is ${e.status}${e.status === 'Failed' ? `: ${failure(e)}` : ''}; it has a result once it has succeeded.`);
      const written = await downloadResult(client, depId, e, o.out, Boolean(o.force));
      if (jsonOf(cmd)) return printObject({ ...e, file: written }, true);
      process.stdout.write(`${e.outputName} (${size(e.outputSize)}) written to ${written}.\n`);
    });

  executions
    .command('logs <deployment-id> <execution-id>')
    .description("An execution's log: its job's output and Forja's notes")
    .option('-f, --follow', 'keep printing until it has finished; exit 1 if it failed')
    .action(async (depId: string, id: string, o: { follow?: boolean }, cmd: Command) => {
      const client = clientFor(cmd);
      let e = await client.deployments.execution(depId, id);
      if (!e.jobId) throw new Error(`Execution ${id} has no job yet.`);
      await tailJobLogs(client, e.jobId, Boolean(o.follow), (line) => process.stdout.write(line + '\n'));
      if (!o.follow) return;
      // The job's log is complete; the execution's own status follows within moments.
      for (let i = 0; i < 20 && !FINISHED.includes(e.status); i++) {
        e = await client.deployments.execution(depId, id);
        if (!FINISHED.includes(e.status)) await sleep(250);
      }
      process.stderr.write(`Execution ${id} ${e.status}${e.status === 'Failed' ? `: ${failure(e)}` : ''}\n`);
      if (e.status !== 'Succeeded') process.exitCode = 1;
    });
}
