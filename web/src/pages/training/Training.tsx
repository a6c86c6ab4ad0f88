import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { TrainingRun } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { Button, CreateButton, Dialog, Field, PageHeader, Time, QueryError } from '../../components/ui';
import { DialogForm } from '../../components/DialogForm';
import { GroupList } from '../../components/GroupList';
import { TableHead } from '../../components/TableHead';
import { lakeKeys } from '../lake/format';
import { dataText, formatMetric, isActive, LIVE_REFRESH_MS, TrainingIcon, trainingKeys, trainingPath, TrainingStatusBadge } from './format';
import './training.css';
import { usePageTitle } from '../../usePageTitle';

/** The group's training runs: a train_model(df, base_path) script run as a job on a file or a lake table, its metrics and model in a tracking run. */
export function TrainingPage() {
  const client = useClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { group } = useSession();
  const can = useAbilities();
  const [creating, setCreating] = useState(false);
  const list = useQuery({
    queryKey: trainingKeys.list(group),
    queryFn: () => client.training.list(),
    enabled: Boolean(group),
    refetchInterval: (q) => (q.state.data?.some(isActive) ? LIVE_REFRESH_MS : false),
  });
  const mayEdit = group !== undefined && can.canEditGroup(group);
  const rows = list.data ?? [];

  const created = async (r: TrainingRun) => {
    queryClient.setQueryData(trainingKeys.one(group, r.id), r);
    await queryClient.invalidateQueries({ queryKey: trainingKeys.list(group) });
    navigate(trainingPath(r.id));
  };

  usePageTitle('Training');
  return (
    <div className="page page-wide" data-testid="section-training">
      <PageHeader
        title="Training"
        description={
          <>
            Training runs
            {group ? (
              <>
                {' '}
                of group <strong>{group}</strong>
              </>
            ) : null}
            : a <code>train_model(df, base_path)</code> script trained in its own environment on a file or a lake table; metrics and the model land in a
            tracking run
          </>
        }
        actions={
          mayEdit && (
            <CreateButton onClick={() => setCreating(true)} testId="new-training-run">
              New training run
            </CreateButton>
          )
        }
      />
      <GroupList
        group={group}
        icon={<TrainingIcon size={26} />}
        things={['runs', 'run']}
        kind="Training runs"
        count={rows.length}
        countTestId="training-count"
        query={list}
        empty={{
          title: 'No training runs yet',
          action: mayEdit && (
            <Button variant="primary" onClick={() => setCreating(true)}>
              New training run
            </Button>
          ),
          text: (
            <>
              Upload a Python file that defines <code>train_model(df, base_path)</code> returning <code>{'{"pipeline": model, "metrics": {…}}'}</code>, the data
              (CSV, Parquet or a lake table) and its requirements.
            </>
          ),
        }}
      >
        <table className="table table-clickable" data-testid="training-table">
          <TableHead columns={['Experiment', 'Run', 'Status', 'Metrics', 'Data', 'Model', 'Created']} />
          <tbody>
            {rows.map((r) => (
              <TrainingRow key={r.id} run={r} onOpen={() => navigate(trainingPath(r.id))} />
            ))}
          </tbody>
        </table>
      </GroupList>
      <NewTrainingDialog open={creating} onClose={() => setCreating(false)} onCreated={created} />
    </div>
  );
}

function TrainingRow({ run: r, onOpen }: { run: TrainingRun; onOpen: () => void }) {
  const metrics = Object.entries(r.metrics).sort(([a], [b]) => a.localeCompare(b));
  return (
    <tr data-testid={`training-row-${r.id}`} data-status={r.status} onClick={onOpen}>
      <td className="cell-name">
        <Link to={`/experiments/${encodeURIComponent(r.experimentId)}`} className="cell-link" onClick={(e) => e.stopPropagation()}>
          {r.experimentName}
        </Link>
        <div className="cell-secondary">{r.modelType}</div>
      </td>
      <td>
        <Link to={trainingPath(r.id)} className="mono small cell-link" onClick={(e) => e.stopPropagation()}>
          {r.id}
        </Link>
        <div className="cell-secondary mono">{r.sourceName}</div>
      </td>
      <td>
        <TrainingStatusBadge status={r.status} />
      </td>
      <td>
        {metrics.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <span className="tr-metrics" data-testid="training-metrics">
            {metrics.slice(0, 3).map(([k, v]) => (
              <span key={k} className="tr-metric" title={`${k} = ${v}`}>
                <span className="tr-metric-key">{k}</span> <span className="mono">{formatMetric(v)}</span>
              </span>
            ))}
            {metrics.length > 3 && <span className="muted small">+{metrics.length - 3}</span>}
          </span>
        )}
      </td>
      <td>
        <span className="tr-data mono small" title={dataText(r.data)}>
          {dataText(r.data)}
        </span>
        <div className="cell-secondary">{r.data.table ? 'lake table' : 'file'}</div>
      </td>
      <td>
        {r.promoted ? (
          <Link to={`/models/${encodeURIComponent(r.promoted.model)}`} className="small" onClick={(e) => e.stopPropagation()}>
            {r.promoted.model} <span className="mono">v{r.promoted.version}</span>
          </Link>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td>
        <Time at={r.createdAt} />
        {r.createdBy && <div className="cell-secondary">by {r.createdBy}</div>}
      </td>
    </tr>
  );
}

const MODEL_TYPES = ['Classification', 'Regression', 'Unsupervised'] as const;
type Problems = Partial<Record<'source' | 'data' | 'table' | 'experiment', string>>;

/** The checks the server would make on the files and names, made before anything is uploaded. */
function check(f: { source: File | null; dataMode: 'file' | 'table'; data: File | null; table: string; experiment: string }): Problems {
  const p: Problems = {};
  if (!f.source) p.source = 'Choose the training script: a .py file that defines train_model(df, base_path).';
  else if (!/\.py$/i.test(f.source.name)) p.source = `"${f.source.name}" is not a Python file: the script must end in .py.`;
  if (f.dataMode === 'file') {
    if (!f.data) p.data = 'Choose the training data: a .csv or .parquet file (or train on a lake table).';
    else if (!/\.(csv|parquet)$/i.test(f.data.name)) p.data = `"${f.data.name}" must be a .csv or .parquet file.`;
  } else if (!f.table.trim()) p.table = 'Choose the lake table to train on.';
  if (!f.experiment.trim()) p.experiment = 'Name the experiment the run is logged in.';
  return p;
}

function Problem({ text, testId }: { text: string | undefined; testId: string }) {
  if (!text) return null;
  return (
    <span className="text-danger" data-testid={testId}>
      {text}
    </span>
  );
}

/** A training run: the script, the data (a file, or a lake table with a filter), requirements and extra files, the experiment and the model type. */
function NewTrainingDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (r: TrainingRun) => void | Promise<void> }) {
  const client = useClient();
  const { group } = useSession();
  const [source, setSource] = useState<File | null>(null);
  const [dataMode, setDataMode] = useState<'file' | 'table'>('file');
  const [data, setData] = useState<File | null>(null);
  const [table, setTable] = useState('');
  const [filter, setFilter] = useState('');
  const [requirements, setRequirements] = useState<File | null>(null);
  const [extra, setExtra] = useState<File[]>([]);
  const [experiment, setExperiment] = useState('');
  const [runName, setRunName] = useState('');
  const [modelType, setModelType] = useState<(typeof MODEL_TYPES)[number]>('Classification');
  const [trainFunction, setTrainFunction] = useState('train_model');
  const [submitted, setSubmitted] = useState(false);
  const [generation, setGeneration] = useState(0);
  const tables = useQuery({ queryKey: lakeKeys.tables(group), queryFn: () => client.lake.tables(), enabled: open && dataMode === 'table' && Boolean(group) });
  const problems = submitted ? check({ source, dataMode, data, table, experiment }) : {};

  const create = useMutation({
    mutationFn: () => {
      const form = new FormData();
      form.append('experimentName', experiment.trim());
      if (runName.trim()) form.append('runName', runName.trim());
      form.append('modelType', modelType);
      if (trainFunction.trim()) form.append('trainFunction', trainFunction.trim());
      if (dataMode === 'table') {
        form.append('table', table.trim());
        if (filter.trim()) form.append('filter', filter.trim());
      }
      form.append('source', source!, source!.name);
      if (dataMode === 'file') form.append('data', data!, data!.name);
      if (requirements) form.append('requirements', requirements, requirements.name);
      for (const f of extra) form.append('extra', f, f.name);
      return client.training.start(form);
    },
    onSuccess: async (r) => {
      await onCreated(r);
      close();
    },
  });
  const close = () => {
    setSource(null);
    setDataMode('file');
    setData(null);
    setTable('');
    setFilter('');
    setRequirements(null);
    setExtra([]);
    setExperiment('');
    setRunName('');
    setModelType('Classification');
    setTrainFunction('train_model');
    setSubmitted(false);
    setGeneration((g) => g + 1);
    create.reset();
    onClose();
  };
  const submit = () => {
    setSubmitted(true);
    create.reset();
    if (Object.keys(check({ source, dataMode, data, table, experiment })).length === 0) create.mutate();
  };
  return (
    <Dialog open={open} onClose={close} title="New training run" testId="new-training-dialog" width={620}>
      <DialogForm
        key={generation}
        request={create}
        onSubmit={submit}
        onCancel={close}
        submitLabel="Start training"
        submitTestId="training-submit"
        errorTestId="training-create-error"
        className="form tr-form"
        noValidate
      >
        <div className="form-row">
          <Field
            label="Experiment"
            htmlFor="nt-experiment"
            hint={problems.experiment ? <Problem text={problems.experiment} testId="training-error-experiment" /> : undefined}
          >
            <input
              id="nt-experiment"
              autoFocus
              maxLength={256}
              value={experiment}
              onChange={(e) => setExperiment(e.target.value)}
              placeholder="e.g. churn"
              aria-invalid={problems.experiment ? true : undefined}
              data-testid="training-experiment"
            />
          </Field>
          <Field label="Run name" htmlFor="nt-run">
            <input
              id="nt-run"
              maxLength={256}
              value={runName}
              onChange={(e) => setRunName(e.target.value)}
              placeholder="optional"
              data-testid="training-run-name"
            />
          </Field>
        </div>
        <Field
          label="Training script (.py)"
          htmlFor="nt-source"
          hint={
            problems.source ? (
              <Problem text={problems.source} testId="training-error-source" />
            ) : (
              <>
                Defines the function below: it gets the data as a DataFrame and returns <code>{'{"pipeline": model, "metrics": {…}}'}</code>.
              </>
            )
          }
        >
          <input
            id="nt-source"
            type="file"
            className="file-input"
            accept=".py,text/x-python"
            onChange={(e) => setSource(e.target.files?.[0] ?? null)}
            aria-invalid={problems.source ? true : undefined}
            data-testid="training-source"
          />
        </Field>
        <fieldset className="field">
          <legend>Data</legend>
          <div className="segmented tr-data-mode" role="radiogroup" aria-label="Data source">
            {(['file', 'table'] as const).map((m) => (
              <button
                key={m}
                type="button"
                role="radio"
                aria-checked={dataMode === m}
                className={dataMode === m ? 'active' : undefined}
                onClick={() => setDataMode(m)}
                data-testid={`training-data-mode-${m}`}
              >
                {m === 'file' ? 'Upload a file' : 'Lake table'}
              </button>
            ))}
          </div>
          {dataMode === 'file' ? (
            <div className="tr-data-input">
              <input
                type="file"
                aria-label="Data file"
                className="file-input"
                accept=".csv,.parquet"
                onChange={(e) => setData(e.target.files?.[0] ?? null)}
                aria-invalid={problems.data ? true : undefined}
                data-testid="training-data-file"
              />
              <div className="field-hint">
                {problems.data ? <Problem text={problems.data} testId="training-error-data" /> : 'CSV with a header line, or Parquet.'}
              </div>
            </div>
          ) : (
            <div className="tr-data-input form-row">
              <div className="field">
                <label htmlFor="nt-table">Table</label>
                <select
                  id="nt-table"
                  value={table}
                  onChange={(e) => setTable(e.target.value)}
                  aria-invalid={problems.table ? true : undefined}
                  data-testid="training-table-select"
                >
                  <option value="">
                    {tables.isPending ? 'Loading tables…' : (tables.data?.length ?? 0) === 0 ? 'No tables in this group' : 'Choose a table'}
                  </option>
                  {tables.data?.map((t) => (
                    <option key={t.name} value={t.name}>
                      {t.name} ({t.rowCount} rows)
                    </option>
                  ))}
                </select>
                {problems.table && (
                  <div className="field-hint">
                    <Problem text={problems.table} testId="training-error-table" />
                  </div>
                )}
              </div>
              <div className="field">
                <label htmlFor="nt-filter">Filter</label>
                <input
                  id="nt-filter"
                  className="mono"
                  value={filter}
                  onChange={(e) => setFilter(e.target.value)}
                  placeholder={"e.g. VERSION = 3 AND city = 'Lisbon'"}
                  data-testid="training-filter"
                />
              </div>
            </div>
          )}
          <QueryError query={tables} />
        </fieldset>
        <div className="form-row">
          <Field label="Model type" htmlFor="nt-type">
            <select
              id="nt-type"
              value={modelType}
              onChange={(e) => setModelType(e.target.value as (typeof MODEL_TYPES)[number])}
              data-testid="training-model-type"
            >
              {MODEL_TYPES.map((t) => (
                <option key={t}>{t}</option>
              ))}
            </select>
          </Field>
          <Field label="Train function" htmlFor="nt-fn">
            <input id="nt-fn" className="mono" value={trainFunction} onChange={(e) => setTrainFunction(e.target.value)} data-testid="training-function" />
          </Field>
        </div>
        <div className="form-row">
          <Field label="Requirements" htmlFor="nt-req" hint="A requirements.txt; its environment is built once and reused.">
            <input
              id="nt-req"
              type="file"
              className="file-input"
              accept=".txt"
              onChange={(e) => setRequirements(e.target.files?.[0] ?? null)}
              data-testid="training-requirements"
            />
          </Field>
          <Field
            label="Extra files"
            htmlFor="nt-extra"
            hint={extra.length ? <span className="mono">{extra.map((f) => f.name).join(', ')}</span> : 'Modules or files the script reads from base_path.'}
          >
            <input
              id="nt-extra"
              type="file"
              className="file-input"
              multiple
              onChange={(e) => setExtra(Array.from(e.target.files ?? []))}
              data-testid="training-extra"
            />
          </Field>
        </div>
      </DialogForm>
    </Dialog>
  );
}
