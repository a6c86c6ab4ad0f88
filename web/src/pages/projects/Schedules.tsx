import { useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import type { BatchProject, Schedule } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { Badge, Button, ConfirmDialog, EmptyState, ErrorText, Field, Time } from '../../components/ui';
import { ClockIcon } from '../../components/icons';
import { TableCard } from '../../components/TableCard';
import { ACTIONS, TableHead } from '../../components/TableHead';
import { useConfirmedMutation } from '../../components/useConfirmedMutation';
import { paramsText, parseParams, projectKeys } from './format';

const PRESETS = [
  { label: 'Hourly', cron: '0 * * * *' },
  { label: 'Daily 06:00', cron: '0 6 * * *' },
  { label: 'Weekdays 06:00', cron: '0 6 * * 1-5' },
  { label: 'Mondays 08:00', cron: '0 8 * * 1' },
  { label: '1st of month', cron: '0 3 1 * *' },
] as const;

const MISSED_LABEL: Record<Schedule['missedPolicy'], string> = { skip: 'skip', run_once: 'run once' };
const MISSED_HELP: Record<Schedule['missedPolicy'], string> = {
  skip: 'Ticks missed while no server ran are skipped',
  run_once: 'Ticks missed while no server ran become one run',
};

const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** The project's cron schedules with their next fire times, a form to add one, pause/resume and delete. */
export function SchedulesTab({ project, schedules, canEdit }: { project: BatchProject; schedules: UseQueryResult<Schedule[]>; canEdit: boolean }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const remove = useConfirmedMutation(
    (s: Schedule) => client.batch.deleteSchedule(s.id),
    () => queryClient.invalidateQueries({ queryKey: ['batch', group ?? ''] }),
  );
  const items = schedules.data ?? [];
  return (
    <section aria-label="Schedules">
      {canEdit && <NewSchedule project={project} />}
      <TableCard
        query={schedules}
        empty={
          items.length === 0 && (
            <EmptyState icon={<ClockIcon size={26} />} title="No schedules">
              A schedule runs the current version on a cron, in a time zone, with its own parameters.{' '}
              {project.currentVersion === null && 'Deploy a script first: ticks without a Ready deploy start nothing.'}
            </EmptyState>
          )
        }
      >
        <table className="table" data-testid="schedules-table">
          <TableHead columns={['Cron', 'Time zone', 'Next fire times', 'Missed ticks', 'Params', 'Last fired', 'State', canEdit && ACTIONS]} />
          <tbody>
            {items.map((s) => (
              <ScheduleRow key={s.id} schedule={s} canEdit={canEdit} onDelete={() => remove.ask(s)} />
            ))}
          </tbody>
        </table>
      </TableCard>
      <ConfirmDialog {...remove.dialog} title="Delete schedule" confirmLabel="Delete">
        Delete the schedule <span className="mono">{remove.target?.cron}</span> ({remove.target?.timezone})? Runs it already started are kept.
      </ConfirmDialog>
    </section>
  );
}

function ScheduleRow({ schedule: s, canEdit, onDelete }: { schedule: Schedule; canEdit: boolean; onDelete: () => void }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const toggle = useMutation({
    mutationFn: () => client.batch.updateSchedule(s.id, { paused: !s.paused }),
    onSuccess: async (updated) => {
      queryClient.setQueryData<Schedule[]>(projectKeys.schedules(group, s.project), (old) => old?.map((x) => (x.id === updated.id ? updated : x)));
      await queryClient.invalidateQueries({ queryKey: ['batch', group ?? ''] });
    },
  });
  const inZone = useMemo(() => zoneFormat(s.timezone), [s.timezone]);
  const params = paramsText(s.params);
  return (
    <tr data-testid={`schedule-row-${s.id}`} data-paused={s.paused} className={s.paused ? 'row-muted' : undefined}>
      <td>
        <span className="mono cron-text" data-testid="schedule-cron">
          {s.cron}
        </span>
        <div className="cell-secondary">{describeCron(s.cron)}</div>
      </td>
      <td data-testid="schedule-timezone">{s.timezone}</td>
      <td data-testid="schedule-next">
        {s.paused ? (
          <span className="muted">paused</span>
        ) : s.nextFireTimes.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          <ol className="fire-times">
            {s.nextFireTimes.slice(0, 3).map((t, i) => (
              <li key={t} title={`${new Date(t).toISOString()} · ${localFormat.format(new Date(t))} your time`} data-testid="schedule-fire-time">
                <span className="nowrap">{inZone.format(new Date(t))}</span>
                {i === 0 && <span className="muted small"> · {untilText(t)}</span>}
              </li>
            ))}
          </ol>
        )}
      </td>
      <td title={MISSED_HELP[s.missedPolicy]}>{MISSED_LABEL[s.missedPolicy]}</td>
      <td>
        {params ? (
          <span className="pj-params-cell mono" title={JSON.stringify(s.params, null, 2)}>
            {params}
          </span>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td>
        <Time at={s.lastFireAt} />
      </td>
      <td data-testid="schedule-state">{s.paused ? <Badge tone="amber">Paused</Badge> : <Badge tone="green">Active</Badge>}</td>
      {canEdit && (
        <td className="col-actions">
          <div className="row-actions">
            <Button size="sm" onClick={() => toggle.mutate()} pending={toggle.isPending} data-testid={s.paused ? 'schedule-resume' : 'schedule-pause'}>
              {s.paused ? 'Resume' : 'Pause'}
            </Button>
            <Button size="sm" variant="ghost" onClick={onDelete} data-testid="schedule-delete">
              Delete
            </Button>
          </div>
          <ErrorText error={toggle.error} />
        </td>
      )}
    </tr>
  );
}

/** Cron, time zone, missed-tick policy, parameters and timeout; the server checks the cron and the zone and says what is wrong. */
function NewSchedule({ project }: { project: BatchProject }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const [cron, setCron] = useState('');
  const [timezone, setTimezone] = useState(localZone);
  const [missedPolicy, setMissedPolicy] = useState<Schedule['missedPolicy']>('skip');
  const [params, setParams] = useState('');
  const [timeout, setTimeoutSeconds] = useState('3600');
  const parsed = parseParams(params);
  const zones = useMemo(() => (typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []), []);
  const create = useMutation({
    mutationFn: () =>
      client.batch.schedule(project.name, {
        cron: cron.trim(),
        timezone: timezone.trim(),
        missedPolicy,
        params: parsed.value ?? {},
        timeoutSeconds: Number(timeout),
      }),
    onSuccess: async () => {
      setCron('');
      setParams('');
      await queryClient.invalidateQueries({ queryKey: ['batch', group ?? ''] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!parsed.error) create.mutate();
  };
  return (
    <div className="card card-pad new-schedule" data-testid="new-schedule">
      <form className="form" onSubmit={submit} aria-label="New schedule">
        <div className="schedule-form-grid">
          <Field label="Cron" htmlFor="sc-cron" hint="minute hour day month weekday; 6 fields put seconds first.">
            <input
              id="sc-cron"
              className="mono"
              required
              spellCheck={false}
              value={cron}
              onChange={(e) => {
                setCron(e.target.value);
                create.reset();
              }}
              placeholder="0 6 * * *"
              data-testid="schedule-cron-input"
            />
          </Field>
          <Field label="Time zone" htmlFor="sc-tz" hint="An IANA name; daylight saving is followed.">
            <input
              id="sc-tz"
              required
              list="sc-tz-options"
              spellCheck={false}
              value={timezone}
              onChange={(e) => setTimezone(e.target.value)}
              data-testid="schedule-timezone-input"
            />
            <datalist id="sc-tz-options">
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </Field>
          <Field label="Missed ticks" htmlFor="sc-missed" hint={MISSED_HELP[missedPolicy]}>
            <select
              id="sc-missed"
              value={missedPolicy}
              onChange={(e) => setMissedPolicy(e.target.value as Schedule['missedPolicy'])}
              data-testid="schedule-missed-input"
            >
              <option value="skip">Skip them</option>
              <option value="run_once">Run once for all</option>
            </select>
          </Field>
          <Field label="Timeout (s)" htmlFor="sc-timeout" hint="Per run.">
            <input id="sc-timeout" type="number" min={1} max={604800} required value={timeout} onChange={(e) => setTimeoutSeconds(e.target.value)} />
          </Field>
        </div>
        <div className="cron-presets" aria-label="Common crons">
          <span className="muted small">Common:</span>
          {PRESETS.map((p) => (
            <button key={p.cron} type="button" className={`preset-chip${cron.trim() === p.cron ? ' active' : ''}`} onClick={() => setCron(p.cron)}>
              {p.label} <span className="mono">{p.cron}</span>
            </button>
          ))}
        </div>
        <Field
          label="Parameters (JSON object, optional)"
          htmlFor="sc-params"
          hint={parsed.error ? <span className="text-danger">{parsed.error}</span> : 'Every run of this schedule gets them in FORJA_PARAMS.'}
        >
          <textarea
            id="sc-params"
            rows={2}
            className="mono"
            spellCheck={false}
            value={params}
            onChange={(e) => setParams(e.target.value)}
            placeholder='{"mode": "full"}'
            aria-invalid={parsed.error ? true : undefined}
            data-testid="schedule-params-input"
          />
        </Field>
        <ErrorText error={create.error} testId="schedule-error" />
        <div className="schedule-form-actions">
          <Button type="submit" variant="primary" pending={create.isPending} disabled={Boolean(parsed.error)} data-testid="schedule-submit">
            Add schedule
          </Button>
        </div>
      </form>
    </div>
  );
}

const localFormat = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'short',
});

function zoneFormat(timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat(undefined, {
      timeZone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  } catch {
    return localFormat;
  }
}

function untilText(at: number, now = Date.now()): string {
  const s = Math.round((at - now) / 1000);
  if (s < 60) return 'in less than a minute';
  const m = Math.round(s / 60);
  if (m < 60) return `in ${m} min`;
  const h = Math.round(m / 60);
  if (h < 48) return `in ${h} h`;
  return `in ${Math.round(h / 24)} d`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** A few common shapes in words; anything else is left to the cron itself. */
function describeCron(cron: string): string {
  const f = cron.trim().split(/\s+/);
  if (f.length !== 5) return '';
  const [min, hour, dom, mon, dow] = f as [string, string, string, string, string];
  const num = (v: string) => /^\d+$/.test(v);
  const at = num(min) && num(hour) ? `at ${hour.padStart(2, '0')}:${min.padStart(2, '0')}` : '';
  if (num(min) && hour === '*' && dom === '*' && mon === '*' && dow === '*') return `hourly at :${min.padStart(2, '0')}`;
  if (!at || mon !== '*') return '';
  if (dom === '*' && dow === '*') return `daily ${at}`;
  if (dom === '*' && dow === '1-5') return `weekdays ${at}`;
  if (dom === '*' && num(dow)) return `${WEEKDAYS[Number(dow) % 7]}s ${at}`;
  if (num(dom) && dow === '*') return `day ${dom} of each month ${at}`;
  return '';
}
