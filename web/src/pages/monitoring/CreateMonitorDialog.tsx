import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { DRIFT_METHODS, type Monitor, type MonitorCreate, type MonitorPeriod } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { Dialog, Field } from '../../components/ui';
import { DialogForm } from '../../components/DialogForm';
import { deploymentKeys } from '../deployments/format';
import { lakeKeys } from '../lake/format';
import { useCreateMonitor } from './queries';

const PERIODS: { id: MonitorPeriod; label: string }[] = [
  { id: 'hour', label: 'Hourly' },
  { id: 'day', label: 'Daily' },
  { id: 'week', label: 'Weekly' },
  { id: 'month', label: 'Monthly' },
];

const listOf = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * A new monitor: what it watches (a deployment's inference log, or a lake table with a time
 * column), the reference it compares with (a lake table, optionally filtered), how often, and
 * which checks. The server checks the columns and answers a 400 naming any the target lacks.
 */
export function CreateMonitorDialog({
  open,
  onClose,
  deploymentId,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  /** Fixed when opened from a deployment's page. */
  deploymentId?: string;
  onCreated: (m: Monitor) => void;
}) {
  const client = useClient();
  const { group } = useSession();
  const [name, setName] = useState('');
  const [targetKind, setTargetKind] = useState<'deployment' | 'table'>('deployment');
  const [deployment, setDeployment] = useState(deploymentId ?? '');
  const [table, setTable] = useState('');
  const [timeColumn, setTimeColumn] = useState('');
  const [reference, setReference] = useState('');
  const [filter, setFilter] = useState('');
  const [columns, setColumns] = useState('');
  const [period, setPeriod] = useState<MonitorPeriod>('day');
  const [scheduled, setScheduled] = useState(true);
  const [method, setMethod] = useState('');
  const [performance, setPerformance] = useState<'' | 'classification' | 'regression'>('');
  const [explain, setExplain] = useState(false);

  const deployments = useQuery({ queryKey: deploymentKeys.list(group), queryFn: () => client.deployments.list(), enabled: open && !deploymentId });
  const tables = useQuery({ queryKey: lakeKeys.tables(group), queryFn: () => client.lake.tables(), enabled: open });
  const create = useCreateMonitor();

  const close = () => {
    setName('');
    setReference('');
    setFilter('');
    setColumns('');
    create.reset();
    onClose();
  };
  const body = (): MonitorCreate => {
    const cols = listOf(columns);
    const drift = { ...(method ? { numericalMethod: method as (typeof DRIFT_METHODS)[number] } : {}), ...(cols.length ? { columns: cols } : {}) };
    return {
      name: name.trim(),
      target: targetKind === 'deployment' ? { deployment: deploymentId ?? deployment } : { table, timeColumn: timeColumn.trim() },
      reference: { kind: 'table', table: reference, ...(filter.trim() ? { filter: filter.trim() } : {}) },
      ...(cols.length ? { inputColumns: cols } : {}),
      period,
      scheduled,
      checks: {
        drift,
        ...(performance ? { performance: { task: performance } } : {}),
        ...(explain ? { explanations: {} } : {}),
      },
    };
  };
  const tableChoices = (tables.data ?? []).map((t) => ({ value: t.name, label: t.name }));
  return (
    <Dialog open={open} onClose={close} title="New monitor" testId="create-monitor-dialog" width={600}>
      <DialogForm
        request={create}
        onSubmit={() =>
          create.mutate(body(), {
            onSuccess: (m) => {
              close();
              onCreated(m);
            },
          })
        }
        onCancel={close}
        submitLabel="Create monitor"
        submitTestId="create-monitor-submit"
        errorTestId="create-monitor-error"
      >
        <Field label="Name" htmlFor="monitor-name" hint='Letters, digits, "_", "." and "-".'>
          <input
            id="monitor-name"
            required
            autoFocus
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="credit-scorer-drift"
          />
        </Field>
        {!deploymentId && (
          <div className="form-row">
            <Field label="Watches" htmlFor="monitor-target-kind">
              <select id="monitor-target-kind" value={targetKind} onChange={(e) => setTargetKind(e.target.value as 'deployment' | 'table')}>
                <option value="deployment">a deployment's inference log</option>
                <option value="table">a lake table</option>
              </select>
            </Field>
            {targetKind === 'deployment' ? (
              <Field label="Deployment" htmlFor="monitor-deployment">
                <RequiredChoice
                  id="monitor-deployment"
                  value={deployment}
                  onChange={setDeployment}
                  options={(deployments.data ?? []).map((d) => ({ value: d.id, label: d.name }))}
                />
              </Field>
            ) : (
              <>
                <Field label="Table" htmlFor="monitor-table">
                  <RequiredChoice id="monitor-table" value={table} onChange={setTable} options={tableChoices} />
                </Field>
                <Field label="Time column" htmlFor="monitor-time-column">
                  <input id="monitor-time-column" required value={timeColumn} onChange={(e) => setTimeColumn(e.target.value)} placeholder="ts" />
                </Field>
              </>
            )}
          </div>
        )}
        <div className="form-row">
          <Field label="Reference table" htmlFor="monitor-reference" hint="The data the model learned from.">
            <RequiredChoice id="monitor-reference" value={reference} onChange={setReference} options={tableChoices} />
          </Field>
          <Field label="Reference filter" htmlFor="monitor-filter" hint="Optional, e.g. year < 2024">
            <input id="monitor-filter" value={filter} onChange={(e) => setFilter(e.target.value)} />
          </Field>
        </div>
        <Field label="Columns" htmlFor="monitor-columns" hint="Comma-separated input features; empty: every column both sides share.">
          <input id="monitor-columns" value={columns} onChange={(e) => setColumns(e.target.value)} placeholder="age, income, region" />
        </Field>
        <div className="form-row">
          <Field label="Period" htmlFor="monitor-period" hint="Each run looks at one such window.">
            <select id="monitor-period" value={period} onChange={(e) => setPeriod(e.target.value as MonitorPeriod)}>
              {PERIODS.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Drift test for numbers" htmlFor="monitor-method" hint="Automatic: Evidently's choice.">
            <select id="monitor-method" value={method} onChange={(e) => setMethod(e.target.value)}>
              <option value="">Automatic</option>
              {DRIFT_METHODS.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <div className="form-row">
          <Field label="Performance" htmlFor="monitor-performance" hint="Needs labels posted for the logged calls.">
            <select id="monitor-performance" value={performance} onChange={(e) => setPerformance(e.target.value as typeof performance)}>
              <option value="">Off</option>
              <option value="classification">Classification</option>
              <option value="regression">Regression</option>
            </select>
          </Field>
          <div className="monitor-checks">
            <label className="checkbox">
              <input type="checkbox" checked={explain} onChange={(e) => setExplain(e.target.checked)} /> SHAP importance
            </label>
            <label className="checkbox">
              <input type="checkbox" checked={scheduled} onChange={(e) => setScheduled(e.target.checked)} data-testid="monitor-scheduled" /> Run every period
            </label>
          </div>
        </div>
      </DialogForm>
    </Dialog>
  );
}

/** A select that must be answered: "Choose…" first, then the options. */
function RequiredChoice({
  id,
  value,
  onChange,
  options,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  options: { value: string; label: string }[];
}) {
  return (
    <select id={id} required value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">Choose…</option>
      {options.map((o) => (
        <option key={o.value} value={o.value}>
          {o.label}
        </option>
      ))}
    </select>
  );
}
