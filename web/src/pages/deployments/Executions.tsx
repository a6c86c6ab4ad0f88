import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Deployment, Execution } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { Badge, Button, Dialog, EmptyState, ErrorText, Field, Time, type Tone, QueryError } from '../../components/ui';
import { DialogForm } from '../../components/DialogForm';
import { ListCount } from '../../components/ListCount';
import { TableCard } from '../../components/TableCard';
import { JobRow, JobTable } from '../../components/JobTable';
import { JobDetails, JobFailure, JobLink } from '../../components/JobDetails';
import { lakeKeys, lakeTablePath } from '../lake/format';
import { formatBytes, formatDuration } from '../tracking/format';
import { deploymentKeys } from './format';

/** While an execution is Requested or Running the list follows it; settled lists do not change on their own. */
const LIVE_REFRESH_MS = 2000;

type ExecutionStatus = Execution['status'];
const statusTone: Record<ExecutionStatus, Tone> = { Requested: 'amber', Running: 'blue', Succeeded: 'green', Failed: 'red' };
const statusHelp: Record<ExecutionStatus, string> = {
  Requested: 'Queued: waiting for a job worker',
  Running: 'The scorer is running on the input',
  Succeeded: 'Finished: its output file can be downloaded',
  Failed: 'The scorer raised or wrote no output: see its message and log',
};
export const isExecutionActive = (e: Pick<Execution, 'status'>) => e.status === 'Requested' || e.status === 'Running';

export const executionKeys = {
  list: (group: string | undefined, id: string) => [...deploymentKeys.one(group, id), 'executions'] as const,
};

export function ExecutionStatusBadge({ status }: { status: ExecutionStatus }) {
  return (
    <span data-testid="execution-status" data-status={status} className="execution-status">
      <Badge tone={statusTone[status]} title={statusHelp[status]}>
        {status === 'Running' && <span className="spinner spinner-inline" aria-hidden="true" />}
        {status}
      </Badge>
    </span>
  );
}

/** How long it ran: to its end, or until now while it runs. */
function durationOf(e: Execution, now: number): string {
  if (e.startedAt === null) return '';
  return formatDuration((e.finishedAt ?? now) - e.startedAt);
}

/** A failure's message ends with the scorer's traceback: its last line (the exception) says most in one line. */
function tellingLine(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.length > 1 ? lines[lines.length - 1]! : (lines[0] ?? '');
}

/** Re-renders every second while `on`, so running durations tick. */
function useNow(on: boolean) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!on) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [on]);
  return now;
}

/** An async deployment's executions: files in, files out, each a job with a live log. */
export function ExecutionsPanel({ deployment: d, mayRun }: { deployment: Deployment; mayRun: boolean }) {
  const client = useClient();
  const { group } = useSession();
  const [creating, setCreating] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const list = useQuery({
    queryKey: executionKeys.list(group, d.id),
    queryFn: () => client.deployments.executions(d.id),
    refetchInterval: (q) => (q.state.data?.some(isExecutionActive) ? LIVE_REFRESH_MS : false),
  });
  const items = list.data ?? [];
  const now = useNow(items.some(isExecutionActive));
  const runnable = d.status === 'Deployed';

  return (
    <section aria-label="Executions" data-testid="executions">
      <div className="toolbar">
        <div className="toolbar-title">
          {list.isSuccess && <ListCount count={items.length} things={['executions', 'execution']} testId="executions-count" />}
          {list.isFetching && !list.isPending && <span className="spinner spinner-inline spinner-muted" aria-hidden="true" />}
        </div>
        <div className="toolbar-spacer" />
        {mayRun && (
          <Button
            variant="primary"
            onClick={() => setCreating(true)}
            disabled={!runnable}
            title={runnable ? undefined : `Only a Deployed deployment runs executions (this one is ${d.status})`}
            data-testid="new-execution"
          >
            New execution
          </Button>
        )}
      </div>
      <p className="section-note muted small">
        Each execution runs <span className="mono">{d.entrypoint ?? 'score'}(data_path, model_path)</span> as a job on one input file; the file it writes next
        to the input is its result.
        {d.kind === 'script' && (
          <span data-testid="scorer-paths">
            {d.settings.scorerPaths === 'folders'
              ? ' data_path is the folder holding the input under its own name, model_path the folder of the deployment’s files.'
              : ' data_path is the input file, model_path the model file (scorerPaths: files, kept from before folders were the default).'}
          </span>
        )}
      </p>
      <TableCard
        query={list}
        empty={
          items.length === 0 && (
            <EmptyState title="No executions yet">
              Run the model on a file (CSV, Parquet, JSON or whatever the scorer reads) or on the rows of a lake table; the output file is kept for download.
            </EmptyState>
          )
        }
      >
        <JobTable
          testId="executions-table"
          className="executions-table"
          columns={['Status', 'Input', 'Output', 'Started', 'Duration', 'Message']}
          expandTestId="execution-expand"
          open={open}
          onOpen={setOpen}
        >
          {items.map((e) => (
            <JobRow
              key={e.id}
              id={e.id}
              testId="execution-row"
              data-id={e.id}
              status={e.status}
              details={<ExecutionDetails deploymentId={d.id} execution={e} />}
            >
              <ExecutionCells execution={e} now={now} />
            </JobRow>
          ))}
        </JobTable>
      </TableCard>
      <NewExecutionDialog
        open={creating}
        deployment={d}
        onClose={() => setCreating(false)}
        onStarted={(e) => {
          setCreating(false);
          setOpen(e.id);
        }}
      />
    </section>
  );
}

function ExecutionCells({ execution: e, now }: { execution: Execution; now: number }) {
  return (
    <>
      <td>
        <ExecutionStatusBadge status={e.status} />
      </td>
      <td data-testid="execution-input">
        <span className="mono">{e.inputName}</span>
        <div className="cell-secondary">{formatBytes(e.inputSize)}</div>
      </td>
      <td data-testid="execution-output">
        {e.outputName ? (
          <>
            <span className="mono">{e.outputName}</span>
            <div className="cell-secondary">{formatBytes(e.outputSize)}</div>
          </>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td>
        {e.startedAt !== null ? <Time at={e.startedAt} /> : <span className="muted">not yet</span>}
        <div className="cell-secondary">{e.createdBy ? `by ${e.createdBy}` : ''}</div>
      </td>
      <td className="nowrap" data-testid="execution-duration">
        {durationOf(e, now) || <span className="muted">—</span>}
      </td>
      <td className={`execution-message-cell${e.status === 'Failed' ? ' is-error' : ''}`} title={e.message ?? undefined} data-testid="execution-message-cell">
        {e.message ? tellingLine(e.message) : ''}
      </td>
    </>
  );
}

/** Saves a blob under `name` through a temporary link, as the lake's exports do. */
function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function ExecutionDetails({ deploymentId, execution: e }: { deploymentId: string; execution: Execution }) {
  const client = useClient();
  const download = useMutation({
    mutationFn: async () => {
      const res = await client.deployments.executionResult(deploymentId, e.id);
      saveBlob(await res.blob(), e.outputName ?? `${e.id}.out`);
    },
  });
  return (
    <JobDetails
      testId="execution-details"
      jobId={e.jobId}
      logTitle="Execution log"
      logTestId="execution-log"
      noLog={<div className="card card-pad muted">No job yet.</div>}
    >
      <dl className="kv">
        <dt>Execution</dt>
        <dd className="mono break">{e.id}</dd>
        <dt>Job</dt>
        <dd>{e.jobId ? <JobLink jobId={e.jobId} /> : <span className="muted">—</span>}</dd>
        <dt>Requested</dt>
        <dd>
          <Time at={e.createdAt} />
        </dd>
        <dt>Finished</dt>
        <dd>
          <Time at={e.finishedAt} />
        </dd>
        <dt>Input</dt>
        <dd>
          <span className="mono">{e.inputName}</span> <span className="muted small">{formatBytes(e.inputSize)}</span>
        </dd>
        <dt>Output</dt>
        <dd>
          {e.outputName ? (
            <>
              <span className="mono">{e.outputName}</span> <span className="muted small">{formatBytes(e.outputSize)}</span>
            </>
          ) : (
            <span className="muted">{isExecutionActive(e) ? 'not finished yet' : 'none'}</span>
          )}
        </dd>
      </dl>
      {e.status === 'Failed' && (
        <JobFailure
          title={`The execution failed${e.message ? `: ${tellingLine(e.message)}` : ''}`}
          message={e.message ?? 'No reason was given: see its log.'}
          testId="execution-failure"
          messageTestId="execution-message"
        />
      )}
      {e.status === 'Succeeded' && (
        <div>
          <Button variant="primary" size="sm" onClick={() => download.mutate()} pending={download.isPending} data-testid="execution-download">
            Download {e.outputName ?? 'the result'}
          </Button>
        </div>
      )}
      <ErrorText error={download.error} testId="execution-download-error" />
    </JobDetails>
  );
}

type Source = 'file' | 'table';
const sources: { id: Source; label: string; help: string }[] = [
  { id: 'file', label: 'Upload a file', help: 'CSV, Parquet, JSON or what the scorer reads, as it is.' },
  { id: 'table', label: 'A lake table', help: 'Its rows (a filter and columns optional), as input.parquet or input.csv.' },
];

/** Starts an execution on an uploaded file or on the rows of a lake table; the server answers 202 and queues its job. */
function NewExecutionDialog({
  open,
  deployment: d,
  onClose,
  onStarted,
}: {
  open: boolean;
  deployment: Deployment;
  onClose: () => void;
  onStarted: (e: Execution) => void;
}) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const [source, setSource] = useState<Source>('file');
  const [file, setFile] = useState<File | null>(null);
  const [table, setTable] = useState('');
  const [filter, setFilter] = useState('');
  // null: every column.
  const [columns, setColumns] = useState<string[] | null>(null);
  const [format, setFormat] = useState<'parquet' | 'csv'>('parquet');
  const [generation, setGeneration] = useState(0);

  const tables = useQuery({ queryKey: lakeKeys.tables(group), queryFn: () => client.lake.tables(), enabled: open && source === 'table' && Boolean(group) });
  const described = useQuery({
    queryKey: [...lakeKeys.tables(group), 'describe', table],
    queryFn: () => client.lake.describe(table),
    enabled: open && source === 'table' && Boolean(table),
  });
  const allColumns = described.data?.columns.map((c) => c.name) ?? [];

  const start = useMutation({
    mutationFn: async () => {
      if (source === 'file') {
        return client.deployments.execute(d.id, file!, file!.name);
      }
      const body = { table, format, ...(filter.trim() ? { filter: filter.trim() } : {}), ...(columns ? { columns } : {}) };
      return client.deployments.executeTable(d.id, body);
    },
    onSuccess: async (e) => {
      queryClient.setQueryData<Execution[]>(executionKeys.list(group, d.id), (old) => [e, ...(old ?? []).filter((x) => x.id !== e.id)]);
      await queryClient.invalidateQueries({ queryKey: executionKeys.list(group, d.id) });
      reset();
      onStarted(e);
    },
  });
  const reset = () => {
    setSource('file');
    setFile(null);
    setTable('');
    setFilter('');
    setColumns(null);
    setFormat('parquet');
    setGeneration((g) => g + 1);
    start.reset();
  };
  const close = () => {
    reset();
    onClose();
  };
  const chooseTable = (name: string) => {
    setTable(name);
    setColumns(null);
  };
  const toggleColumn = (name: string, on: boolean) => {
    const current = columns ?? allColumns;
    const next = on ? allColumns.filter((c) => c === name || current.includes(c)) : current.filter((c) => c !== name);
    setColumns(next.length === allColumns.length ? null : next);
  };
  const blocked = source === 'file' ? !file : !table || (columns !== null && columns.length === 0);

  return (
    <Dialog open={open} onClose={close} title={`New execution of ${d.name}`} testId="execution-dialog" width={600}>
      <DialogForm
        key={generation}
        request={start}
        onSubmit={() => {
          if (!blocked) start.mutate();
        }}
        onCancel={close}
        submitLabel="Start execution"
        submitDisabled={blocked}
        submitTestId="execution-start"
        errorTestId="execution-start-error"
      >
        <fieldset className="field">
          <legend>Input</legend>
          <div className="radio-cards execution-sources">
            {sources.map((s) => (
              <label key={s.id} className={`radio-card${source === s.id ? ' checked' : ''}`} data-testid={`execution-source-${s.id}`}>
                <input type="radio" name="ex-source" value={s.id} checked={source === s.id} onChange={() => setSource(s.id)} />
                <span className="radio-card-title">{s.label}</span>
                <span className="radio-card-help">{s.help}</span>
              </label>
            ))}
          </div>
        </fieldset>
        {source === 'file' ? (
          <Field
            label="File"
            htmlFor="ex-file"
            hint={file ? `${file.name}, ${formatBytes(file.size)}` : 'Up to the server’s upload limit; the scorer gets it under its own name.'}
          >
            <input
              id="ex-file"
              type="file"
              className="file-input"
              required
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
              data-testid="execution-file"
            />
          </Field>
        ) : (
          <>
            <div className="form-row">
              <Field
                label="Table"
                htmlFor="ex-table"
                hint={
                  table ? (
                    <Link to={lakeTablePath(table)} target="_blank" rel="noreferrer">
                      Open the table
                    </Link>
                  ) : (
                    'The group’s lake tables.'
                  )
                }
              >
                <select
                  id="ex-table"
                  required
                  value={table}
                  onChange={(e) => chooseTable(e.target.value)}
                  disabled={tables.isPending}
                  data-testid="execution-table"
                >
                  <option value="" disabled>
                    {tables.isPending ? 'Loading…' : tables.data?.length ? 'Choose a table' : 'No tables yet'}
                  </option>
                  {(tables.data ?? []).map((t) => (
                    <option key={t.name} value={t.name}>
                      {t.name} ({t.rowCount} rows)
                    </option>
                  ))}
                </select>
              </Field>
              <Field label="Format" htmlFor="ex-format" hint="The file the scorer reads.">
                <select id="ex-format" value={format} onChange={(e) => setFormat(e.target.value as 'parquet' | 'csv')} data-testid="execution-format">
                  <option value="parquet">Parquet (input.parquet)</option>
                  <option value="csv">CSV (input.csv)</option>
                </select>
              </Field>
            </div>
            <QueryError query={tables} testId="execution-tables-error" />
            <Field label="Filter (optional)" htmlFor="ex-filter" hint="Only the rows it keeps are sent; the same grammar as the table preview.">
              <input
                id="ex-filter"
                className="mono"
                value={filter}
                onChange={(e) => setFilter(e.target.value)}
                placeholder="e.g. day = '2026-11-23' AND x < 5"
                spellCheck={false}
                data-testid="execution-filter"
              />
            </Field>
            {table && (
              <fieldset className="field">
                <legend>
                  Columns <span className="muted small">{columns ? `${columns.length} of ${allColumns.length}` : 'all'}</span>
                </legend>
                {described.isPending ? (
                  <span className="muted small">Loading the columns…</span>
                ) : described.isError ? (
                  <QueryError query={described} />
                ) : (
                  <div className="execution-columns" data-testid="execution-columns">
                    {allColumns.map((c) => (
                      <label key={c} className="checkbox small">
                        <input
                          type="checkbox"
                          checked={!columns || columns.includes(c)}
                          onChange={(e) => toggleColumn(c, e.target.checked)}
                          data-testid={`execution-column-${c}`}
                        />
                        <span className="mono">{c}</span>
                      </label>
                    ))}
                  </div>
                )}
              </fieldset>
            )}
          </>
        )}
      </DialogForm>
    </Dialog>
  );
}
