import { createReadStream, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import {
  ArtifactListSchema,
  ExperimentPageSchema,
  ExperimentSchema,
  OkSchema,
  RunPageSchema,
  RunSchema,
  UploadCompletedSchema,
  UploadStateSchema,
  type Run,
} from '@forja/contracts';
import { ForjaApiError, type ForjaClient } from '@forja/client';
import { clientFor, jsonOf } from '../context.js';
import { printList, printObject } from '../output.js';
import { Progress } from '../progress.js';
import { counting, downloadStorePath, storePathOf } from '../transfer.js';

const CHUNK = 10 * 1024 * 1024;

const metric = (run: Run, key: string) => run.data.metrics.find((m) => m.key === key)?.value ?? null;

export function registerTrackingCommands(program: Command): void {
  const experiments = program.command('experiments').description("The group's experiments");
  experiments
    .command('list', { isDefault: true })
    .description('List experiments')
    .option('--filter <filter>', 'e.g. "name LIKE \'churn%\'"')
    .option('--deleted', 'list deleted experiments instead')
    .option('--json', 'print JSON')
    .action(async (o: { filter?: string; deleted?: boolean }, cmd: Command) => {
      const page = await clientFor(cmd).request('POST', '/api/v1/experiments/search', ExperimentPageSchema, {
        body: { filter: o.filter, viewType: o.deleted ? 'DELETED_ONLY' : 'ACTIVE_ONLY', maxResults: 1000 },
      });
      printList(
        page.experiments,
        [
          { header: 'id', value: (e) => e.experimentId },
          { header: 'name', value: (e) => e.name },
          { header: 'created', value: (e) => e.creationTime },
          { header: 'artifacts', value: (e) => e.artifactLocation },
        ],
        jsonOf(cmd),
      );
    });
  experiments
    .command('create <name>')
    .description('Create an experiment')
    .option('--json', 'print JSON')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      printObject(await clientFor(cmd).request('POST', '/api/v1/experiments', ExperimentSchema, { body: { name } }), jsonOf(cmd));
    });
  experiments
    .command('delete <id>')
    .description('Delete an experiment and its runs (restorable); --permanent on a deleted one removes it and its artifacts')
    .option('--permanent', 'remove for good')
    .action(async (id: string, o: { permanent?: boolean }, cmd: Command) => {
      await clientFor(cmd).request('DELETE', `/api/v1/experiments/${encodeURIComponent(id)}`, OkSchema, {
        query: { permanent: o.permanent ? 'true' : undefined },
      });
      process.stdout.write(`Experiment ${id} ${o.permanent ? 'removed for good' : 'deleted (restore with the API or UI)'}.\n`);
    });

  const runs = program.command('runs').description('Runs of experiments');
  runs
    .command('list <experiment...>')
    .description('List runs of experiments (ids), newest first, with a filter and chosen columns')
    .option('--filter <filter>', 'e.g. "metrics.acc > 0.9 and params.model = \'rf\'"')
    .option('--order-by <column...>', 'e.g. "metrics.acc DESC"')
    .option('--columns <column...>', 'metrics/params/tags to show, e.g. metrics.acc params.lr')
    .option('--max <n>', 'at most this many runs', (v) => Number(v), 100)
    .option('--json', 'print JSON')
    .action(async (ids: string[], o: { filter?: string; orderBy?: string[]; columns?: string[]; max: number }, cmd: Command) => {
      const page = await clientFor(cmd).request('POST', '/api/v1/runs/search', RunPageSchema, {
        body: { experimentIds: ids, filter: o.filter, orderBy: o.orderBy ?? [], maxResults: o.max, ...(o.columns ? { columns: o.columns } : {}) },
      });
      const extra = (o.columns ?? []).map((c) => ({
        header: c,
        value: (r: Run) => {
          const [kind, ...rest] = c.split('.');
          const key = rest.join('.');
          if (kind?.startsWith('metric')) return metric(r, key);
          const list = kind?.startsWith('param') ? r.data.params : r.data.tags;
          return list.find((kv) => kv.key === key)?.value ?? null;
        },
      }));
      printList(
        page.runs,
        [
          { header: 'run id', value: (r) => r.info.runId },
          { header: 'name', value: (r) => r.info.runName },
          { header: 'status', value: (r) => r.info.status },
          { header: 'started', value: (r) => r.info.startTime },
          ...extra,
        ],
        jsonOf(cmd),
      );
    });
  runs
    .command('get <runId>')
    .description('Show a run: info, params, latest metrics, tags')
    .option('--json', 'print JSON')
    .action(async (runId: string, _o: unknown, cmd: Command) => {
      const run = await clientFor(cmd).request('GET', `/api/v1/runs/${encodeURIComponent(runId)}`, RunSchema);
      if (jsonOf(cmd)) return printObject(run, true);
      printObject(
        {
          run: run.info.runId,
          name: run.info.runName,
          experiment: run.info.experimentId,
          status: run.info.status,
          user: run.info.userId,
          started: run.info.startTime,
          ended: run.info.endTime,
          artifacts: run.info.artifactUri,
        },
        false,
      );
      for (const [title, rows] of [
        ['params', run.data.params],
        ['metrics', run.data.metrics.map((m) => ({ key: m.key, value: `${m.value} (step ${m.step})` }))],
        ['tags', run.data.tags.filter((t) => !t.key.startsWith('mlflow.'))],
      ] as const) {
        process.stdout.write(`\n${title}:\n`);
        printList(
          [...rows],
          [
            { header: 'key', value: (r) => r.key },
            { header: 'value', value: (r) => r.value },
          ],
          false,
        );
      }
    });
  runs
    .command('compare <runIds...>')
    .description('Params and metrics of several runs side by side; differing params are marked with *')
    .option('--json', 'print JSON')
    .action(async (runIds: string[], _o: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      const all = await Promise.all(runIds.map((id) => client.request('GET', `/api/v1/runs/${encodeURIComponent(id)}`, RunSchema)));
      const keys = (pick: (r: Run) => { key: string }[]) => [...new Set(all.flatMap((r) => pick(r).map((x) => x.key)))].sort();
      const rows = [
        ...keys((r) => r.data.params).map((k) => {
          const values = all.map((r) => r.data.params.find((p) => p.key === k)?.value ?? null);
          return { key: `${new Set(values).size > 1 ? '* ' : '  '}params.${k}`, values };
        }),
        ...keys((r) => r.data.metrics).map((k) => ({ key: `  metrics.${k}`, values: all.map((r) => metric(r, k)) })),
      ];
      if (jsonOf(cmd)) return printObject({ runs: runIds, rows }, true);
      printList(
        rows,
        [{ header: 'column', value: (r) => r.key }, ...all.map((r, i) => ({ header: r.info.runName, value: (row: { values: unknown[] }) => row.values[i] }))],
        false,
      );
    });

  const artifacts = program.command('artifacts').description("Upload and download a run's artifacts");
  artifacts
    .command('list <runId> [path]')
    .description("List a directory of the run's artifacts")
    .option('--json', 'print JSON')
    .action(async (runId: string, dir: string | undefined, _o: unknown, cmd: Command) => {
      const list = await clientFor(cmd).request('GET', `/api/v1/runs/${encodeURIComponent(runId)}/artifacts`, ArtifactListSchema, {
        query: { path: dir ?? '' },
      });
      printList(
        list.files,
        [
          { header: 'path', value: (f) => f.path + (f.isDir ? '/' : '') },
          { header: 'size', value: (f) => f.size },
        ],
        jsonOf(cmd),
      );
    });
  artifacts
    .command('upload <runId> <localPath> [artifactPath]')
    .description("Upload a file, or a directory's contents, under artifactPath (files over 10 MiB go in resumable chunks), with a progress bar")
    .action(async (runId: string, local: string, artifactPath: string | undefined, _o: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      // As mlflow's log_artifact(s): a file lands under artifactPath; a directory's contents do.
      const isDir = statSync(local).isDirectory();
      const files = walk(local);
      for (const f of files) await uploadFile(client, runId, f.abs, [artifactPath, isDir ? f.rel : path.basename(local)].filter(Boolean).join('/'));
      process.stdout.write(`Uploaded ${files.length} file${files.length === 1 ? '' : 's'} to run ${runId}.\n`);
    });
  artifacts
    .command('download <runId> <artifactPath> [destination]')
    .description("Download a file or a directory of the run's artifacts, streamed, with a progress bar")
    .action(async (runId: string, artifactPath: string, dest: string | undefined, _o: unknown, cmd: Command) => {
      const client = clientFor(cmd);
      const run = await client.request('GET', `/api/v1/runs/${encodeURIComponent(runId)}`, RunSchema);
      const root = storePathOf(run.info.artifactUri);
      if (root === undefined) throw new Error(`Run ${runId} keeps its artifacts at ${run.info.artifactUri}, which this server does not serve.`);
      const n = await downloadStorePath(client, `${root}/${artifactPath.replace(/^\/+|\/+$/g, '')}`, dest ?? '.');
      process.stdout.write(`Downloaded ${n} file${n === 1 ? '' : 's'}.\n`);
    });
}

/** Every file under a directory with its path relative to it (or the file itself). */
function walk(local: string): { abs: string; rel: string }[] {
  if (!statSync(local).isDirectory()) return [{ abs: path.resolve(local), rel: path.basename(local) }];
  const out: { abs: string; rel: string }[] = [];
  const visit = (dir: string, prefix: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) visit(abs, rel);
      else if (e.isFile()) out.push({ abs, rel });
    }
  };
  visit(path.resolve(local), '');
  return out;
}

async function send(client: ForjaClient, url: string, body: Readable, length: number): Promise<Response> {
  const res = await fetch(url, {
    method: 'PUT',
    headers: { authorization: `Bearer ${client.token ?? ''}`, 'content-type': 'application/octet-stream', 'content-length': String(length) },
    body: Readable.toWeb(body) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  if (!res.ok) {
    const err = ((await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } }).error;
    throw ForjaApiError.from(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? res.statusText);
  }
  return res;
}

async function uploadFile(client: ForjaClient, runId: string, abs: string, dest: string): Promise<void> {
  const size = statSync(abs).size;
  const progress = new Progress(dest, size);
  const run = encodeURIComponent(runId);
  if (size <= CHUNK) {
    await send(
      client,
      `${client.baseUrl}/api/v1/runs/${run}/artifacts/file?path=${encodeURIComponent(dest)}`,
      createReadStream(abs).pipe(counting(progress)),
      size,
    );
  } else {
    const upload = await client.request('POST', `/api/v1/runs/${run}/uploads`, UploadStateSchema, { body: { path: dest, size } });
    for (let offset = 0; offset < size; offset += CHUNK) {
      const end = Math.min(size, offset + CHUNK);
      await send(
        client,
        `${client.baseUrl}/api/v1/uploads/${upload.uploadId}?offset=${offset}`,
        createReadStream(abs, { start: offset, end: end - 1 }).pipe(counting(progress)),
        end - offset,
      );
    }
    await client.request('POST', `/api/v1/uploads/${upload.uploadId}/complete`, UploadCompletedSchema, { body: {} });
  }
  progress.finish();
}
