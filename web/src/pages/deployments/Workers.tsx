import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { DeploymentSettingsSchema, type Deployment, type DeploymentSettings } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { Button, Dialog, ErrorText, Spinner, QueryError } from '../../components/ui';
import { formatDuration } from '../tracking/format';
import { deploymentKeys, settingsText } from './format';

const WORKERS_POLL_MS = 2000;
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

type StatKey = 'workers' | 'busy' | 'queued' | 'served' | 'failed' | 'restarts';
const TILES: { key: StatKey; label: string; help: string }[] = [
  { key: 'workers', label: 'Alive', help: 'Python worker processes running on this server' },
  { key: 'busy', label: 'Busy', help: 'Workers answering a call right now' },
  { key: 'queued', label: 'Queued', help: 'Requests waiting for a free worker' },
  { key: 'served', label: 'Served', help: 'Requests answered since the workers started' },
  { key: 'failed', label: 'Failed', help: 'Requests the model raised on, or whose worker crashed or timed out' },
  { key: 'restarts', label: 'Restarts', help: 'Workers replaced after a crash, a timeout or running out of memory' },
];

/** The workers of this server for the deployment, live, with its settings and a way to change them. */
export function WorkersPanel({ deployment: d, mayEdit, onEdit }: { deployment: Deployment; mayEdit: boolean; onEdit: () => void }) {
  const client = useClient();
  const { group } = useSession();
  // Its own key: the Usage tab keeps a history of the deployment's stats and this must not feed it twice.
  const stats = useQuery({
    queryKey: [...deploymentKeys.stats(group, d.id), 'workers-panel'],
    queryFn: () => client.deployments.stats(d.id),
    staleTime: 0,
    refetchInterval: WORKERS_POLL_MS,
  });
  const now = stats.data;
  const s = d.settings;
  return (
    <section aria-label="Workers" data-testid="workers-panel">
      {stats.isPending ? (
        <Spinner />
      ) : stats.isError ? (
        <QueryError query={stats} />
      ) : (
        <div className="stat-tiles workers-tiles" data-testid="workers-stats">
          {TILES.map((t) => (
            <div key={t.key} className={`stat-tile${(t.key === 'failed' || t.key === 'restarts') && (now?.[t.key] ?? 0) > 0 ? ' is-bad' : ''}`} title={t.help}>
              <div className="stat-label">{t.label}</div>
              <div className="stat-value" data-testid={`workers-stat-${t.key}`}>
                {now?.[t.key] ?? '—'}
                {t.key === 'workers' && <span className="stat-of muted"> / {s.maxWorkers}</span>}
              </div>
            </div>
          ))}
        </div>
      )}
      <p className="section-note usage-note muted small" data-testid="workers-note">
        These figures are <strong>this server’s</strong> workers for the deployment, counted since they started; other servers behind the same address have
        their own. Read every {WORKERS_POLL_MS / 1000} s{stats.dataUpdatedAt ? <> (last at {clock.format(new Date(stats.dataUpdatedAt))})</> : null}.
        {d.operation === 'async' && ' Async executions run as jobs, each in its own process, not on these workers.'}
      </p>
      <div className="card">
        <div className="card-head">
          <h3>Settings</h3>
          <span className="muted small">{settingsText(s)}</span>
          <div className="toolbar-spacer" />
          {mayEdit && (
            <Button size="sm" onClick={onEdit} data-testid="workers-edit-settings">
              Edit settings
            </Button>
          )}
        </div>
        <dl className="kv kv-wide card-pad settings-kv" data-testid="settings-values">
          {SETTINGS.map((f) => (
            <SettingValue key={f.key} field={f} value={s[f.key]} />
          ))}
          <dt>Network</dt>
          <dd>
            <span className={s.network ? 'badge badge-amber' : 'mono'} data-testid="setting-value-network">
              {s.network ? 'allowed' : 'off'}
            </span>
            <span className="muted small"> · {NETWORK_HELP}</span>
          </dd>
          <dt>Public</dt>
          <dd>
            <span className={s.public ? 'badge badge-red' : 'mono'} data-testid="setting-value-public">
              {s.public ? 'anyone, no token' : 'off'}
            </span>
            <span className="muted small"> · {PUBLIC_HELP}</span>
          </dd>
        </dl>
        {s.public && (
          <div className="callout callout-warning card-pad" data-testid="public-warning">
            <span>
              <strong>Public:</strong> anyone who can reach this server may call <span className="mono">/invocations</span> and{' '}
              <span className="mono">/predict</span> of this deployment without a token ({s.publicRateLimit} calls a minute per address). Every other action
              still needs one.
            </span>
          </div>
        )}
      </div>
    </section>
  );
}

function SettingValue({ field: f, value }: { field: SettingField; value: number }) {
  return (
    <>
      <dt>{f.label}</dt>
      <dd>
        <span className="mono" data-testid={`setting-value-${f.key}`}>
          {value}
        </span>
        {f.unit && <span className="muted"> {f.unit}</span>}
        {f.key === 'timeoutMs' && <span className="muted small"> ({formatDuration(value)})</span>}
        <span className="muted small"> · {f.help}</span>
      </dd>
    </>
  );
}

/** The numeric settings; `network` and `public` are switches of their own, `inferenceLog` an object of its own, `scorerPaths` shown with executions. */
type SettingKey = Exclude<keyof DeploymentSettings, 'network' | 'public' | 'inferenceLog' | 'scorerPaths'>;
const NETWORK_HELP = 'outbound traffic from the model’s sandbox; only a group admin may allow it';
const PUBLIC_HELP = '/invocations and /predict answer callers without a token (dashboards); only a group admin may turn it on';
interface SettingField {
  key: SettingKey;
  label: string;
  unit?: string;
  help: string;
  min: number;
  max: number;
  default: number;
}

/** The bounds and defaults come from the contract the server validates with. */
function boundsOf(key: SettingKey) {
  const field = DeploymentSettingsSchema.shape[key];
  const inner = field.unwrap() as import('zod').ZodNumber;
  return { min: inner.minValue ?? 0, max: inner.maxValue ?? Number.MAX_SAFE_INTEGER, default: field.def.defaultValue as number };
}

const SETTINGS: SettingField[] = [
  { key: 'minWorkers', label: 'Min workers', help: 'kept running even when idle', ...boundsOf('minWorkers') },
  { key: 'maxWorkers', label: 'Max workers', help: 'started as calls come in, one call each', ...boundsOf('maxWorkers') },
  { key: 'timeoutMs', label: 'Timeout', unit: 'ms', help: 'per request, waiting included: 504 after it', ...boundsOf('timeoutMs') },
  { key: 'maxQueue', label: 'Max queue', help: 'waiting requests before 503', ...boundsOf('maxQueue') },
  { key: 'maxBatch', label: 'Max batch', help: 'concurrent requests a frame model answers in one call', ...boundsOf('maxBatch') },
  { key: 'memoryMb', label: 'Memory', unit: 'MB', help: 'address-space limit of each worker', ...boundsOf('memoryMb') },
  { key: 'cpuSeconds', label: 'CPU time', unit: 's', help: 'a worker is replaced after using this much CPU (0: no limit)', ...boundsOf('cpuSeconds') },
  { key: 'maxFiles', label: 'Open files', help: 'files a worker may have open at once', ...boundsOf('maxFiles') },
  {
    key: 'publicRateLimit',
    label: 'Public rate',
    unit: 'calls/min',
    help: 'per client address, for calls without a token when public',
    ...boundsOf('publicRateLimit'),
  },
];

const valuesOf = (s: DeploymentSettings) => Object.fromEntries(SETTINGS.map((f) => [f.key, String(s[f.key])])) as Record<SettingKey, string>;

/**
 * Edits the settings. Bounds are hints only: the values go to the server as typed (whole
 * numbers), and its 400 is shown in the dialog.
 */
export function SettingsDialog({
  open,
  deployment: d,
  onClose,
  onSaved,
}: {
  open: boolean;
  deployment: Deployment;
  onClose: () => void;
  onSaved: (d: Deployment) => void | Promise<void>;
}) {
  const client = useClient();
  const [values, setValues] = useState<Record<SettingKey, string>>(() => valuesOf(d.settings));
  const [network, setNetwork] = useState(d.settings.network);
  const [isPublic, setPublic] = useState(d.settings.public);

  // Only what changed is sent; an empty field or a non-number is sent as typed so the server names it.
  const changes = Object.fromEntries(
    SETTINGS.filter((f) => values[f.key].trim() !== String(d.settings[f.key])).map((f) => {
      const raw = values[f.key].trim();
      const n = Number(raw);
      return [f.key, raw !== '' && Number.isFinite(n) ? n : raw];
    }),
  ) as Partial<Record<SettingKey, number | string>> & { network?: boolean; public?: boolean };
  if (network !== d.settings.network) changes.network = network;
  if (isPublic !== d.settings.public) changes.public = isPublic;
  const changed = Object.keys(changes).length > 0;

  const save = useMutation({
    // A non-number goes as typed (see above), which the client's type does not foresee.
    mutationFn: () => client.deployments.update(d.id, changes as Partial<DeploymentSettings>),
    onSuccess: async (updated) => {
      await onSaved(updated);
      close();
    },
  });
  const close = () => {
    save.reset();
    onClose();
  };
  // Opening starts again from the deployment's current values.
  const [wasOpen, setWasOpen] = useState(open);
  if (open !== wasOpen) {
    setWasOpen(open);
    if (open) {
      setValues(valuesOf(d.settings));
      setNetwork(d.settings.network);
      setPublic(d.settings.public);
    }
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (changed) save.mutate();
  };

  return (
    <Dialog open={open} onClose={close} title={`Settings of ${d.name}`} testId="settings-dialog" width={600}>
      <form className="form" onSubmit={submit} noValidate>
        <div className="settings-grid">
          {SETTINGS.map((f) => {
            const dirty = f.key in changes;
            return (
              <div key={f.key} className={`field setting-field${dirty ? ' is-dirty' : ''}`}>
                <label htmlFor={`setting-${f.key}`}>
                  {f.label}
                  {f.unit && <span className="muted small"> ({f.unit})</span>}
                </label>
                <input
                  id={`setting-${f.key}`}
                  type="number"
                  inputMode="numeric"
                  step={1}
                  min={f.min}
                  max={f.max}
                  className="mono"
                  value={values[f.key]}
                  onChange={(e) => {
                    // The server's answer was about the values before this edit.
                    if (save.isError) save.reset();
                    setValues((v) => ({ ...v, [f.key]: e.target.value }));
                  }}
                  data-testid={`setting-${f.key}`}
                />
                <div className="field-hint" data-testid={`setting-hint-${f.key}`}>
                  {f.min.toLocaleString('en-US')}–{f.max.toLocaleString('en-US')}, default {f.default.toLocaleString('en-US')}
                  {dirty && <span className="setting-was"> · now {d.settings[f.key].toLocaleString('en-US')}</span>}
                  <br />
                  {f.help}
                </div>
              </div>
            );
          })}
        </div>
        <SettingSwitch
          checked={network}
          onChange={(on) => {
            if (save.isError) save.reset();
            setNetwork(on);
          }}
          testId="setting-network"
          label="Allow outbound network"
          help={NETWORK_HELP}
        />
        <SettingSwitch
          checked={isPublic}
          onChange={(on) => {
            if (save.isError) save.reset();
            setPublic(on);
          }}
          testId="setting-public"
          label="Public: answer without a token"
          help={PUBLIC_HELP}
        />
        {isPublic && !d.settings.public && (
          <div className="callout callout-warning" data-testid="public-dialog-warning">
            <span>
              Anyone who can reach this server will be able to call this model and read its predictions, up to the public rate per address. Turn it on only for
              models whose answers are not secret.
            </span>
          </div>
        )}
        <div className="callout callout-warning settings-restart" data-testid="settings-restart-note">
          <span>
            Saving <strong>restarts the deployment’s workers</strong>: the running ones are replaced by workers with the new settings, and their counters start
            again from zero.
          </span>
        </div>
        <ErrorText error={save.error} testId="settings-error" />
        <div className="dialog-footer">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" pending={save.isPending} disabled={!changed} data-testid="settings-save">
            Save
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** A yes/no deployment setting with its explanation. */
function SettingSwitch({
  checked,
  onChange,
  testId,
  label,
  help,
}: {
  checked: boolean;
  onChange: (on: boolean) => void;
  testId: string;
  label: string;
  help: string;
}) {
  return (
    <label className="field setting-field checkbox-field">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} data-testid={testId} /> {label}{' '}
      <span className="muted small">({help})</span>
    </label>
  );
}
