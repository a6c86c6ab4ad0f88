import { Fragment, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApprovalStatusSchema, type ApprovalRequest, type RegistrySettings } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { keys, useAbilities, useRefreshRegistry, useRegistrySettings, useWhoami } from '../../hooks';
import { Button, Dialog, EmptyState, ErrorText, Field, QueryError, Time } from '../../components/ui';
import { CheckIcon } from '../../components/icons';
import { DialogForm } from '../../components/DialogForm';
import { ListCount } from '../../components/ListCount';
import { TableCard } from '../../components/TableCard';
import { ACTIONS, TableHead } from '../../components/TableHead';
import { ApprovalStatusBadge, approversText, modelPath, StageBadge } from './format';
import { MetricChange } from './MetricChange';
import { usePageTitle } from '../../usePageTitle';

type StatusFilter = ApprovalRequest['status'] | 'all';
const statusFilters: StatusFilter[] = [...ApprovalStatusSchema.options, 'all'];
const GATED_STAGES: RegistrySettings['approvalStages'] = ['Staging', 'Production'];

/** The group's approval requests, pending first by default, with the stages that need one. */
export function ApprovalsPage() {
  const client = useClient();
  const { group } = useSession();
  const [params, setParams] = useSearchParams();
  const status = (statusFilters.find((s) => s === params.get('status')) ?? 'pending') as StatusFilter;
  const approvals = useQuery({
    queryKey: keys.approvals(group, status),
    queryFn: () => client.models.approvals(status === 'all' ? undefined : status),
  });
  usePageTitle('Approvals', 'Models');
  return (
    <section aria-label="Approval requests">
      <ApprovalSettings />
      <div className="toolbar">
        <div className="toolbar-title">
          <select
            aria-label="Status"
            className="select-sm"
            value={status}
            onChange={(e) => setParams(e.target.value === 'pending' ? {} : { status: e.target.value }, { replace: true })}
            data-testid="approvals-status"
          >
            {statusFilters.map((s) => (
              <option key={s} value={s}>
                {s === 'all' ? 'All requests' : s[0]!.toUpperCase() + s.slice(1)}
              </option>
            ))}
          </select>
          {approvals.isSuccess && <ListCount count={approvals.data.length} things={['requests', 'request']} />}
        </div>
      </div>
      <TableCard
        query={approvals}
        empty={
          approvals.data?.length === 0 && (
            <EmptyState
              icon={<CheckIcon size={26} />}
              title={status === 'pending' ? 'Nothing waits for a decision' : `No ${status === 'all' ? '' : `${status} `}requests`}
            >
              Moving a version into a stage that needs approval opens a request here, for a group admin other than the requester to approve or reject.
            </EmptyState>
          )
        }
      >
        <ApprovalsTable approvals={approvals.data ?? []} showModel testId="approvals-table" />
      </TableCard>
    </section>
  );
}

/** Which stages need approval and who approves: group admins change it, everyone else sees it. */
function ApprovalSettings() {
  const client = useClient();
  const { group } = useSession();
  const can = useAbilities();
  const queryClient = useQueryClient();
  const settings = useRegistrySettings();
  const [draft, setDraft] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (next: RegistrySettings) => client.models.updateSettings(next),
    onSuccess: (saved) => {
      queryClient.setQueryData(keys.registrySettings(group), saved);
      setDraft(null);
    },
  });
  const manage = group !== undefined && can.canAdministerGroup(group);
  const stages = settings.data?.approvalStages ?? [];
  const approvers = settings.data?.approvers ?? [];
  const toggle = (stage: RegistrySettings['approvalStages'][number], on: boolean) =>
    save.mutate({ approvalStages: GATED_STAGES.filter((s) => (s === stage ? on : stages.includes(s))), approvers });
  const saveApprovers = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({
      approvalStages: stages,
      approvers: (draft ?? '')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
    });
  };

  return (
    <div className="card card-pad settings-strip" data-testid="approval-settings">
      <div className="settings-row">
        <h3>Approval needed to move a version into</h3>
        <div className="settings-options">
          {settings.isPending ? (
            <span className="spinner spinner-muted" aria-label="Loading settings" />
          ) : (
            GATED_STAGES.map((stage) => (
              <label key={stage} className="checkbox checkbox-inline">
                <input
                  type="checkbox"
                  checked={stages.includes(stage)}
                  disabled={!manage || save.isPending}
                  onChange={(e) => toggle(stage, e.target.checked)}
                  data-testid={`approval-stage-${stage}`}
                />
                <StageBadge stage={stage} />
              </label>
            ))
          )}
        </div>
      </div>
      {draft === null ? (
        <div className="settings-row">
          <p className="muted small" data-testid="approvers">
            Approved by {approversText(approvers)}; nobody approves their own request.{manage ? '' : ' Group admins change this.'}
          </p>
          {manage && (
            <Button size="sm" variant="ghost" onClick={() => setDraft(approvers.join(', '))} data-testid="edit-approvers">
              Change approvers
            </Button>
          )}
        </div>
      ) : (
        <form className="settings-edit" onSubmit={saveApprovers} aria-label="Change the approvers">
          <div className="inline-form-row">
            <Field label="Approvers" htmlFor="approvers">
              <input id="approvers" autoFocus value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="e.g. ana, ben" />
            </Field>
            <Button type="submit" variant="primary" pending={save.isPending}>
              Save
            </Button>
            <Button
              variant="ghost"
              onClick={() => {
                save.reset();
                setDraft(null);
              }}
            >
              Cancel
            </Button>
          </div>
          <div className="field-hint">Usernames of group members, separated by commas; leave it empty for the group’s admins.</div>
        </form>
      )}
      {settings.isError && <QueryError query={settings} />}
      <ErrorText error={save.error} />
    </div>
  );
}

/**
 * Why the signed-in user may not decide on a request, or null when they may. The server has the
 * last word (the dialog shows its 403); this only spares people buttons that cannot work.
 */
function useDecisionBlocker(): (a: ApprovalRequest) => string | null {
  const me = useWhoami();
  const can = useAbilities();
  const approvers = useRegistrySettings().data?.approvers ?? [];
  const myName = me.data?.user?.username ?? me.data?.tokenName ?? undefined;
  return (a) => {
    if (a.requestedBy === myName) return 'You asked; another approver decides';
    // The group names its approvers, or leaves it to its admins.
    if (approvers.length > 0) return myName !== undefined && approvers.includes(myName) ? null : 'A named approver decides';
    return can.canAdministerGroup(a.group) ? null : 'A group admin decides';
  };
}

export function ApprovalsTable({ approvals, showModel, testId }: { approvals: ApprovalRequest[]; showModel: boolean; testId: string }) {
  const blocker = useDecisionBlocker();
  const [deciding, setDeciding] = useState<{ request: ApprovalRequest; decision: 'approve' | 'reject' } | null>(null);
  return (
    <>
      <table className="table" data-testid={testId}>
        <TableHead columns={[showModel ? 'Model version' : 'Version', 'Change', 'Requested', 'Status', ACTIONS]} />
        <tbody>
          {approvals.map((a) => {
            const blocked = blocker(a);
            return (
              <Fragment key={a.id}>
                <tr data-testid="approval-row" data-version={a.version} data-status={a.status}>
                  <td>
                    {showModel ? (
                      <Link to={`${modelPath(a.model)}?version=${a.version}`} className="cell-link">
                        {a.model} <span className="muted">v{a.version}</span>
                      </Link>
                    ) : (
                      <span className="cell-primary">Version {a.version}</span>
                    )}
                  </td>
                  <td>
                    <span className="stage-change">
                      <StageBadge stage={a.fromStage} /> <span className="muted">→</span> <StageBadge stage={a.toStage} />
                    </span>
                    {a.archiveExistingVersions && <div className="cell-secondary">archives the versions now in {a.toStage}</div>}
                  </td>
                  <td className="cell-wrap">
                    <div>
                      {a.requestedBy} <span className="muted">·</span> <Time at={a.requestedAt} />
                    </div>
                    {a.comment && <div className="cell-secondary quote">“{a.comment}”</div>}
                  </td>
                  <td className="cell-wrap">
                    <ApprovalStatusBadge status={a.status} />
                    {a.decidedBy && (
                      <div className="cell-secondary">
                        by {a.decidedBy}, <Time at={a.decidedAt} />
                      </div>
                    )}
                    {a.decisionComment && <div className="cell-secondary quote">“{a.decisionComment}”</div>}
                  </td>
                  <td className="col-actions">
                    {a.status === 'pending' &&
                      (blocked ? (
                        <span className="muted small" data-testid="decision-blocked">
                          {blocked}
                        </span>
                      ) : (
                        <div className="row-actions">
                          <Button
                            size="sm"
                            variant="primary"
                            onClick={() => setDeciding({ request: a, decision: 'approve' })}
                            aria-label={`Approve version ${a.version} to ${a.toStage}`}
                          >
                            Approve
                          </Button>
                          <Button
                            size="sm"
                            onClick={() => setDeciding({ request: a, decision: 'reject' })}
                            aria-label={`Reject version ${a.version} to ${a.toStage}`}
                          >
                            Reject
                          </Button>
                        </div>
                      ))}
                  </td>
                </tr>
                {a.status === 'pending' && a.toStage === 'Production' && (
                  <tr className="row-detail" data-testid="approval-metrics" data-version={a.version}>
                    <td colSpan={5}>
                      <MetricChange model={a.model} version={a.version} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
      <DecisionDialog deciding={deciding} onClose={() => setDeciding(null)} />
    </>
  );
}

function DecisionDialog({ deciding, onClose }: { deciding: { request: ApprovalRequest; decision: 'approve' | 'reject' } | null; onClose: () => void }) {
  const client = useClient();
  const refresh = useRefreshRegistry();
  const [comment, setComment] = useState('');
  const close = () => {
    setComment('');
    decide.reset();
    onClose();
  };
  const decide = useMutation({
    mutationFn: ({ id, decision }: { id: string; decision: 'approve' | 'reject' }) => client.models.decide(id, decision, comment.trim() || undefined),
    onSuccess: async () => {
      await refresh();
      close();
    },
  });
  const r = deciding?.request;
  const approve = deciding?.decision === 'approve';
  return (
    <Dialog open={deciding !== null} onClose={close} title={approve ? 'Approve the transition' : 'Reject the transition'} testId="decision-dialog">
      {r && (
        <DialogForm
          request={decide}
          onSubmit={() => decide.mutate({ id: r.id, decision: approve ? 'approve' : 'reject' })}
          onCancel={close}
          submitLabel={approve ? 'Approve' : 'Reject'}
          submitVariant={approve ? 'primary' : 'danger'}
        >
          <p className="dialog-text">
            {r.requestedBy} asks to move <strong>{r.model}</strong> version <strong>{r.version}</strong> to <StageBadge stage={r.toStage} />
            {r.archiveExistingVersions ? `, archiving the versions now in ${r.toStage}` : ''}.{approve ? ' Approving moves it now.' : ''}
          </p>
          {r.comment && <p className="quote muted">“{r.comment}”</p>}
          <Field label="Comment" htmlFor="decision-comment" hint="Kept with the request and in the model's timeline.">
            <textarea id="decision-comment" rows={3} autoFocus value={comment} onChange={(e) => setComment(e.target.value)} />
          </Field>
        </DialogForm>
      )}
    </Dialog>
  );
}
