import { Fragment, useState } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { WEBHOOK_EVENTS, type Webhook, type WebhookDelivery, type WebhookEvent } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import {
  Badge,
  Button,
  ConfirmDialog,
  CreateButton,
  Dialog,
  EmptyCard,
  EmptyState,
  ErrorText,
  Field,
  Spinner,
  Time,
  relativeTime,
  type Tone,
  QueryError,
} from '../../components/ui';
import { ChevronDownIcon } from '../../components/icons';
import { DialogForm } from '../../components/DialogForm';
import { SecretDialog } from '../../components/SecretDialog';
import { TableCard } from '../../components/TableCard';
import { ACTIONS, num, TableHead } from '../../components/TableHead';
import { useConfirmedMutation } from '../../components/useConfirmedMutation';
import { jobPath } from '../jobs/format';
import './webhooks.css';
import { usePageTitle } from '../../usePageTitle';

const webhookKeys = {
  list: (group: string | undefined) => ['webhooks', group ?? ''] as const,
  deliveries: (group: string | undefined, id: string) => ['webhooks', group ?? '', id, 'deliveries'] as const,
};
const DELIVERIES_SHOWN = 25;
const DELIVERY_REFRESH_MS = 2000;

/** Registry webhooks of the group chosen in the top bar (group admins). */
export function WebhooksPage() {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  const can = useAbilities();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ hook: Webhook; secret: string } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const allowed = group !== undefined && can.canAdministerGroup(group);

  const hooks = useQuery({ queryKey: webhookKeys.list(group), queryFn: () => client.webhooks.list(), enabled: allowed });
  const remove = useConfirmedMutation(
    (h: Webhook) => client.webhooks.delete(h.id),
    () => queryClient.invalidateQueries({ queryKey: ['webhooks'] }),
  );
  const rotate = useConfirmedMutation(
    (h: Webhook) => client.webhooks.update(h.id, { rotateSecret: true }),
    ({ secret: fresh, ...hook }) => {
      if (fresh) setSecret({ hook, secret: fresh });
    },
  );

  usePageTitle('Webhooks', 'Admin');
  if (!group || !allowed) {
    return (
      <EmptyCard title={group ? `You do not administer ${group}` : 'No group selected'} action={<Link to="/admin/groups">Go to groups</Link>}>
        Webhooks belong to a group and are managed by its admins. Pick a group you administer in the top bar.
      </EmptyCard>
    );
  }

  const list = hooks.data ?? [];
  return (
    <section aria-label="Webhooks">
      <div className="toolbar">
        <p className="muted">
          Registry and monitoring-alert events of <strong>{group}</strong> are POSTed as signed JSON to these URLs, and retried with backoff when the receiver
          fails.
        </p>
        <CreateButton onClick={() => setCreating(true)} testId="new-webhook">
          New webhook
        </CreateButton>
      </div>
      <TableCard
        query={hooks}
        empty={
          list.length === 0 && (
            <EmptyState title="No webhooks yet" action={<Button onClick={() => setCreating(true)}>Create a webhook</Button>}>
              Tell CI, chat or a deployment tool when a model is registered, a version changes stage or an approval is decided.
            </EmptyState>
          )
        }
      >
        <table className="table" data-testid="webhooks-table">
          <TableHead columns={['Name', 'URL', 'Events', 'Active', 'Created', ACTIONS]} />
          <tbody>
            {list.map((h) => (
              <Fragment key={h.id}>
                <WebhookRow
                  hook={h}
                  open={open === h.id}
                  onToggle={() => setOpen(open === h.id ? null : h.id)}
                  onRotate={() => rotate.ask(h)}
                  onDelete={() => remove.ask(h)}
                />
                {open === h.id && (
                  <tr className="row-details">
                    <td colSpan={6}>
                      <Deliveries hook={h} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      </TableCard>

      <CreateWebhookDialog
        open={creating}
        onClose={() => setCreating(false)}
        onCreated={(hook, s) => {
          setCreating(false);
          setSecret({ hook, secret: s });
          setOpen(hook.id);
        }}
      />
      <WebhookSecretDialog shown={secret} onDone={() => setSecret(null)} />
      <ConfirmDialog {...rotate.dialog} title="Rotate signing secret" confirmLabel="Rotate">
        Make a new signing secret for <strong>{rotate.target?.name}</strong>? Deliveries are signed with the new one from now on, so the receiver must be given
        it.
      </ConfirmDialog>
      <ConfirmDialog {...remove.dialog} title="Delete webhook" confirmLabel="Delete">
        Delete <strong>{remove.target?.name}</strong> and its delivery log? <span className="mono">{remove.target?.url}</span> gets no more events. This cannot
        be undone.
      </ConfirmDialog>
    </section>
  );
}

function WebhookRow({
  hook: h,
  open,
  onToggle,
  onRotate,
  onDelete,
}: {
  hook: Webhook;
  open: boolean;
  onToggle: () => void;
  onRotate: () => void;
  onDelete: () => void;
}) {
  const client = useClient();
  const queryClient = useQueryClient();
  const { group } = useSession();
  // Optimistic: the switch moves at once, and moves back if the server refuses.
  const toggle = useMutation({
    mutationFn: (active: boolean) => client.webhooks.update(h.id, { active }),
    onMutate: async (active) => {
      await queryClient.cancelQueries({ queryKey: webhookKeys.list(group) });
      const before = queryClient.getQueryData<Webhook[]>(webhookKeys.list(group));
      queryClient.setQueryData<Webhook[]>(webhookKeys.list(group), (list) => list?.map((x) => (x.id === h.id ? { ...x, active } : x)));
      return { before };
    },
    onError: (_err, _active, context) => queryClient.setQueryData(webhookKeys.list(group), context?.before),
    onSettled: () => queryClient.invalidateQueries({ queryKey: webhookKeys.list(group) }),
  });
  const ping = useMutation({
    mutationFn: () => client.webhooks.ping(h.id),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: webhookKeys.deliveries(group, h.id) });
      if (!open) onToggle();
    },
  });
  return (
    <tr data-testid={`webhook-row-${h.name}`} className={[open ? 'row-open' : '', h.active ? '' : 'row-muted'].filter(Boolean).join(' ') || undefined}>
      <td>
        <span className="cell-primary">{h.name}</span>
        {h.description && <div className="cell-secondary">{h.description}</div>}
      </td>
      <td className="cell-wrap">
        <span className="mono small">{h.url}</span>
      </td>
      <td>
        <span className="muted" title={h.events.join('\n')}>
          {h.events.length === WEBHOOK_EVENTS.length ? 'all events' : h.events.length === 1 ? h.events[0] : `${h.events.length} events`}
        </span>
      </td>
      <td>
        <label className="checkbox checkbox-inline">
          <input
            type="checkbox"
            checked={h.active}
            disabled={toggle.isPending}
            onChange={(e) => toggle.mutate(e.target.checked)}
            aria-label={`Active: ${h.name}`}
            data-testid="webhook-active"
          />
          <span>{h.active ? 'on' : 'off'}</span>
        </label>
        {toggle.isError && <ErrorText error={toggle.error} />}
      </td>
      <td>
        <Time at={h.createdAt} withTime={false} />
      </td>
      <td className="col-actions">
        <div className="row-actions">
          <Button size="sm" onClick={() => ping.mutate()} pending={ping.isPending} title="Send a ping event now" data-testid="webhook-ping">
            Ping
          </Button>
          <Button size="sm" variant="ghost" onClick={onToggle} aria-expanded={open} data-testid="webhook-deliveries-toggle">
            Deliveries <ChevronDownIcon size={12} style={{ transform: open ? 'rotate(180deg)' : undefined }} />
          </Button>
          <Button size="sm" variant="ghost" onClick={onRotate} aria-label={`Rotate the secret of ${h.name}`} data-testid="webhook-rotate">
            Rotate secret
          </Button>
          <Button size="sm" variant="ghost" className="text-danger" onClick={onDelete} aria-label={`Delete ${h.name}`}>
            Delete
          </Button>
        </div>
        {ping.isError && <ErrorText error={ping.error} />}
      </td>
    </tr>
  );
}

const deliveryTone: Record<WebhookDelivery['status'], Tone> = { pending: 'neutral', retrying: 'amber', delivered: 'green', failed: 'red' };

function Deliveries({ hook }: { hook: Webhook }) {
  const client = useClient();
  const { group } = useSession();
  const deliveries = useQuery({
    queryKey: webhookKeys.deliveries(group, hook.id),
    queryFn: async () => (await client.webhooks.deliveries(hook.id, { limit: DELIVERIES_SHOWN })).items,
    // Follows deliveries still under way; settled ones do not change.
    refetchInterval: (q) => (q.state.data?.some((d) => d.status === 'pending' || d.status === 'retrying') ? DELIVERY_REFRESH_MS : false),
  });
  if (deliveries.isPending) return <Spinner />;
  if (deliveries.isError) return <QueryError query={deliveries} />;
  const list = deliveries.data;
  if (list.length === 0) return <p className="muted">No deliveries yet. Ping the webhook to send a test event.</p>;
  return (
    <div className="card table-card">
      <table className="table" data-testid={`deliveries-${hook.name}`}>
        <TableHead columns={['Event', 'Status', num('Attempts'), num('HTTP'), num('Time'), 'Error', 'Sent', 'Job']} />
        <tbody>
          {list.map((d) => (
            <tr key={d.id} data-testid="delivery-row" data-event={d.event} data-status={d.status}>
              <td className="mono">{d.event}</td>
              <td>
                <Badge tone={deliveryTone[d.status]}>{d.status}</Badge>
              </td>
              <td className="num">{d.attempts}</td>
              <td className="num">{d.responseStatus ?? <span className="muted">—</span>}</td>
              <td className="num">{d.durationMs === null ? <span className="muted">—</span> : `${d.durationMs} ms`}</td>
              <td className="cell-wrap">{d.error ? <span className="text-danger small">{d.error}</span> : <span className="muted">—</span>}</td>
              <td className="nowrap">
                <span title={new Date(d.lastAttemptAt ?? d.createdAt).toISOString()}>{relativeTime(d.lastAttemptAt ?? d.createdAt)}</span>
              </td>
              <td>
                {d.jobId ? (
                  <Link to={jobPath(d.jobId)} className="mono small">
                    {d.jobId}
                  </Link>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CreateWebhookDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (hook: Webhook, secret: string) => void }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [events, setEvents] = useState<WebhookEvent[]>([...WEBHOOK_EVENTS]);

  const create = useMutation({
    mutationFn: () => client.webhooks.create({ name: name.trim(), url: url.trim(), description: description.trim(), events }),
    onSuccess: ({ secret, ...hook }) => {
      void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
      reset();
      onCreated(hook, secret);
    },
  });
  const reset = () => {
    setName('');
    setUrl('');
    setDescription('');
    setEvents([...WEBHOOK_EVENTS]);
    create.reset();
  };
  const close = () => {
    reset();
    onClose();
  };
  const flip = (ev: WebhookEvent, on: boolean) => setEvents((cur) => WEBHOOK_EVENTS.filter((x) => (x === ev ? on : cur.includes(x))));

  return (
    <Dialog open={open} onClose={close} title="New webhook" testId="create-webhook-dialog" width={500}>
      <DialogForm request={create} onSubmit={() => create.mutate()} onCancel={close} submitLabel="Create webhook" submitDisabled={events.length === 0}>
        <Field label="Name" htmlFor="wh-name" hint="Letters, digits, spaces, “_”, “.” and “-”.">
          <input id="wh-name" required autoFocus maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. ci-deploy" />
        </Field>
        <Field label="URL" htmlFor="wh-url" hint="Receives a POST with a JSON body and an X-Forja-Signature header.">
          <input
            id="wh-url"
            required
            type="url"
            maxLength={2000}
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            placeholder="https://ci.example.com/hooks/forja"
            className="mono"
          />
        </Field>
        <Field label="Description" htmlFor="wh-description">
          <textarea id="wh-description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
        <fieldset className="field">
          <legend>Events</legend>
          <div className="webhook-events">
            {WEBHOOK_EVENTS.map((ev) => (
              <label key={ev} className="checkbox">
                <input type="checkbox" checked={events.includes(ev)} onChange={(e) => flip(ev, e.target.checked)} data-testid={`event-${ev}`} />
                <span className="mono">{ev}</span>
              </label>
            ))}
          </div>
        </fieldset>
      </DialogForm>
    </Dialog>
  );
}

function WebhookSecretDialog({ shown, onDone }: { shown: { hook: Webhook; secret: string } | null; onDone: () => void }) {
  return (
    <SecretDialog
      shown={shown}
      title="Your webhook's signing secret"
      testId="webhook-secret"
      warning="This is the only time Forja shows it. Your receiver checks each delivery with it; if you lose it, rotate it."
      onDone={onDone}
      details={({ hook }) => (
        <>
          <dt>Webhook</dt>
          <dd>{hook.name}</dd>
          <dt>URL</dt>
          <dd className="mono">{hook.url}</dd>
          <dt>Verify</dt>
          <dd className="small">
            <code className="mono">X-Forja-Signature</code> is <code className="mono">sha256=</code> HMAC-SHA256 of{' '}
            <code className="mono">&lt;X-Forja-Timestamp&gt;.&lt;body&gt;</code>
          </dd>
        </>
      )}
    />
  );
}
