import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { LakeBatchPrediction, LakeTableSummary } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { keys } from '../../hooks';
import { Button, ErrorText, Field, Time } from '../../components/ui';
import { LayersIcon } from '../../components/icons';
import { GroupList } from '../../components/GroupList';
import { JobRow, JobTable } from '../../components/JobTable';
import { JobCancelButton, JobDetails, JobError, JobLink } from '../../components/JobDetails';
import { BatchStatusBadge, formatCount, isActive, lakeKeys, lakeTablePath, ProgressBar } from './format';

/** While a prediction is queued or running the list follows it; settled lists do not change on their own. */
const LIVE_REFRESH_MS = 2000;

/** Scoring lake tables with registered models: a form that starts a job, and the jobs with their progress, log and result. */
export function BatchPredictions({ tables, mayWrite }: { tables: LakeTableSummary[]; mayWrite: boolean }) {
  const client = useClient();
  const { group } = useSession();
  const [open, setOpen] = useState<string | null>(null);
  const list = useQuery({
    queryKey: lakeKeys.predictions(group),
    queryFn: () => client.lake.batchPredictions(),
    enabled: Boolean(group),
    refetchInterval: (q) => (q.state.data?.some(isActive) ? LIVE_REFRESH_MS : false),
  });
  const items = list.data ?? [];

  return (
    <section aria-label="Batch predictions" className="lake-predictions">
      {mayWrite && <NewPrediction tables={tables} onStarted={(p) => setOpen(p.jobId)} />}
      <GroupList
        group={group}
        icon={<LayersIcon size={26} />}
        things={['batch predictions', 'batch prediction']}
        count={items.length}
        countTestId="batch-count"
        query={list}
        empty={{
          title: 'No batch predictions yet',
          text: 'Score a table, or the rows a filter keeps, with a registered model: the predictions are appended to an output table as a new VERSION, with the model’s name and version.',
        }}
      >
        <JobTable
          testId="batch-table"
          columns={['Started', 'Status', 'Source → output', 'Model', 'Progress']}
          expandTestId="batch-expand"
          open={open}
          onOpen={setOpen}
        >
          {items.map((p) => (
            <JobRow
              key={p.jobId}
              id={p.jobId}
              testId={`batch-row-${p.jobId}`}
              status={p.status}
              details={<PredictionDetails prediction={p} mayWrite={mayWrite} />}
            >
              <PredictionCells prediction={p} />
            </JobRow>
          ))}
        </JobTable>
      </GroupList>
    </section>
  );
}

function PredictionCells({ prediction: p }: { prediction: LakeBatchPrediction }) {
  return (
    <>
      <td>
        <Time at={p.createdAt} />
        <div className="cell-secondary mono">{p.jobId}</div>
      </td>
      <td>
        <BatchStatusBadge status={p.status} />
      </td>
      <td>
        <Link to={lakeTablePath(p.sourceTable)} className="mono" onClick={(e) => e.stopPropagation()}>
          {p.sourceTable}
        </Link>
        <span className="muted"> → </span>
        <Link to={lakeTablePath(p.outputTable)} className="mono" onClick={(e) => e.stopPropagation()}>
          {p.outputTable}
        </Link>
      </td>
      <td className="mono small">{p.model}</td>
      <td>
        <ProgressBar progress={p.progress} status={p.status} />
      </td>
    </>
  );
}

function PredictionDetails({ prediction: p, mayWrite }: { prediction: LakeBatchPrediction; mayWrite: boolean }) {
  const client = useClient();
  const { group } = useSession();
  return (
    <JobDetails testId="batch-details" className="lake-details" jobId={p.jobId} logTitle="Job log" logTestId="batch-log">
      <dl className="kv" data-testid="batch-result">
        <dt>Job</dt>
        <dd>
          <JobLink jobId={p.jobId} />
        </dd>
        <dt>Model</dt>
        <dd className="mono break">{p.model}</dd>
        {p.result ? (
          <>
            <dt>Output</dt>
            <dd>
              <Link to={lakeTablePath(p.outputTable)} className="mono">
                {p.outputTable}
              </Link>{' '}
              VERSION{' '}
              <span className="mono" data-testid="batch-result-version">
                {p.result.version}
              </span>
            </dd>
            <dt>Rows written</dt>
            <dd data-testid="batch-result-rows">{formatCount(p.result.rowsWritten)}</dd>
            <dt>Model version</dt>
            <dd className="mono">
              {p.result.modelName} v{p.result.modelVersion}
            </dd>
          </>
        ) : (
          <>
            <dt>Result</dt>
            <dd className="muted">{isActive(p) ? 'Not finished yet.' : 'None.'}</dd>
          </>
        )}
      </dl>
      <JobError error={p.error} testId="batch-error" />
      {mayWrite && isActive(p) && (
        <JobCancelButton
          cancel={() => client.lake.cancelBatchPrediction(p.jobId)}
          list={lakeKeys.predictions(group)}
          idOf={(x) => x.jobId}
          label="Cancel"
          testId="batch-cancel"
        />
      )}
    </JobDetails>
  );
}

/** Starts a batch prediction; the server checks the table, filter and model before it queues the job. */
function NewPrediction({ tables, onStarted }: { tables: LakeTableSummary[]; onStarted: (p: LakeBatchPrediction) => void }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const [sourceTable, setSourceTable] = useState('');
  const [filter, setFilter] = useState('');
  const [model, setModel] = useState('models:/');
  const [outputTable, setOutputTable] = useState('');
  const [predictionColumn, setPredictionColumn] = useState('PREDICT');

  // URIs of the group's models to pick from: each alias, each stage and the newest versions.
  const models = useQuery({
    queryKey: keys.models(group, { picker: true }),
    queryFn: () => client.models.search({ maxResults: 100 }),
    enabled: Boolean(group),
  });
  const suggestions = (models.data?.registeredModels ?? []).flatMap((m) => [
    ...m.aliases.map((a) => `models:/${m.name}@${a.alias}`),
    ...m.latestVersions.flatMap((v) => [
      `models:/${m.name}/${v.version}`,
      ...(v.currentStage && v.currentStage !== 'None' ? [`models:/${m.name}/${v.currentStage}`] : []),
    ]),
  ]);

  const start = useMutation({
    mutationFn: () =>
      client.lake.startBatchPrediction({
        sourceTable,
        model: model.trim(),
        outputTable: outputTable.trim(),
        predictionColumn: predictionColumn.trim() || 'PREDICT',
        ...(filter.trim() ? { filter: filter.trim() } : {}),
      }),
    onSuccess: async (p) => {
      queryClient.setQueryData<LakeBatchPrediction[]>(lakeKeys.predictions(group), (old) => [p, ...(old ?? []).filter((x) => x.jobId !== p.jobId)]);
      await queryClient.invalidateQueries({ queryKey: lakeKeys.predictions(group) });
      onStarted(p);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    start.mutate();
  };
  const chooseSource = (name: string) => {
    setSourceTable(name);
    if (!outputTable.trim() && name) setOutputTable(`${name}_predictions`.slice(0, 63));
  };

  return (
    <div className="card lake-new-prediction" data-testid="batch-form">
      <div className="card-head">
        <h3>New batch prediction</h3>
        <span className="muted small">runs as a job; the output gets a new VERSION</span>
      </div>
      <form className="form card-pad" onSubmit={submit}>
        <div className="lake-form-grid">
          <Field label="Source table" htmlFor="bp-source">
            <select id="bp-source" required value={sourceTable} onChange={(e) => chooseSource(e.target.value)} data-testid="batch-source">
              <option value="" disabled>
                {tables.length ? 'Choose a table' : 'No tables yet'}
              </option>
              {tables.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.name} ({formatCount(t.rowCount)} rows)
                </option>
              ))}
            </select>
          </Field>
          <Field label="Model" htmlFor="bp-model" hint="models:/name/Production, models:/name@alias or models:/name/3">
            <input
              id="bp-model"
              required
              className="mono"
              list="bp-model-options"
              value={model}
              onChange={(e) => setModel(e.target.value)}
              placeholder="models:/churn/Production"
              data-testid="batch-model"
            />
            <datalist id="bp-model-options">
              {[...new Set(suggestions)].map((s) => (
                <option key={s} value={s} />
              ))}
            </datalist>
          </Field>
          <Field label="Output table" htmlFor="bp-output" hint="Made if missing; each run appends a VERSION.">
            <input
              id="bp-output"
              required
              className="mono"
              maxLength={63}
              value={outputTable}
              onChange={(e) => setOutputTable(e.target.value)}
              placeholder="e.g. churn_scores"
              data-testid="batch-output"
            />
          </Field>
          <Field label="Prediction column" htmlFor="bp-column">
            <input
              id="bp-column"
              className="mono"
              maxLength={63}
              value={predictionColumn}
              onChange={(e) => setPredictionColumn(e.target.value)}
              data-testid="batch-column"
            />
          </Field>
        </div>
        <Field label="Filter (optional)" htmlFor="bp-filter" hint="Only the rows it keeps are scored; the same grammar as the table preview.">
          <input
            id="bp-filter"
            className="mono"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            placeholder="e.g. signup_date >= '2025-01-01' AND plan IN ('pro', 'team')"
            spellCheck={false}
            data-testid="batch-filter"
          />
        </Field>
        <ErrorText error={start.error} testId="batch-start-error" />
        <div className="lake-form-actions">
          <Button type="submit" variant="primary" pending={start.isPending} disabled={!sourceTable} data-testid="batch-start">
            Start batch prediction
          </Button>
        </div>
      </form>
    </div>
  );
}
