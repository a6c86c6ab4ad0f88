import { useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import type { ApprovalRequest, ModelVersion, RegisteredModel, Stage } from '@forja/contracts';
import { useClient } from '../../session';
import { useRefreshRegistry, useRegistrySettings } from '../../hooks';
import { Badge, Button, Dialog, ErrorText, Field, Time } from '../../components/ui';
import { CloseIcon } from '../../components/icons';
import { DialogForm } from '../../components/DialogForm';
import { ACTIONS, TableHead } from '../../components/TableHead';
import { AliasChip, approversText, isServingStage, STAGES, StageBadge, VersionStatusBadge } from './format';

/** Runs ids are long; the start tells them apart in a table, the link and title give the rest. */
const SHORT_RUN_ID = 8;

export function VersionsTable({
  model,
  versions,
  selected,
  canEdit,
  onRequested,
}: {
  model: RegisteredModel;
  versions: ModelVersion[];
  selected: string | undefined;
  canEdit: boolean;
  /** The transition opened an approval request instead of moving the version. */
  onRequested: (request: ApprovalRequest) => void;
}) {
  const [params] = useSearchParams();
  const [transitioning, setTransitioning] = useState<ModelVersion | null>(null);
  const [aliasing, setAliasing] = useState<ModelVersion | null>(null);
  const select = (version: string) => {
    const next = new URLSearchParams(params);
    next.set('version', version);
    return `?${next.toString()}`;
  };
  return (
    <>
      <table className="table" data-testid="versions-table">
        <TableHead columns={['Version', 'Stage', 'Aliases', 'Source run', 'Created', 'Status', 'Description', canEdit && ACTIONS]} />
        <tbody>
          {versions.map((v) => (
            <tr
              key={v.version}
              className={v.version === selected ? 'row-open' : undefined}
              data-testid="version-row"
              data-version={v.version}
              data-stage={v.currentStage}
            >
              <td>
                <Link to={select(v.version)} replace className="cell-link" aria-current={v.version === selected ? 'true' : undefined} title="Show its lineage">
                  Version {v.version}
                </Link>
              </td>
              <td>
                <StageBadge stage={v.currentStage} />
              </td>
              <td>
                {v.aliases.length === 0 ? (
                  <span className="muted">—</span>
                ) : (
                  <div className="tag-list">
                    {v.aliases.map((a) => (
                      <AliasChip key={a} alias={a} />
                    ))}
                  </div>
                )}
              </td>
              <td>
                {v.runId ? (
                  <Link to={`/runs/${encodeURIComponent(v.runId)}`} className="mono" title={v.runId}>
                    {v.runId.slice(0, SHORT_RUN_ID)}
                  </Link>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td>
                <Time at={v.creationTime} />
                {v.userId && <div className="cell-secondary">by {v.userId}</div>}
              </td>
              <td>
                <VersionStatusBadge status={v.status} />
              </td>
              <td className="cell-wrap">{v.description || <span className="muted">—</span>}</td>
              {canEdit && (
                <td className="col-actions">
                  <div className="row-actions">
                    <Button size="sm" onClick={() => setTransitioning(v)} aria-label={`Change the stage of version ${v.version}`}>
                      Stage…
                    </Button>
                    <Button size="sm" onClick={() => setAliasing(v)} aria-label={`Aliases of version ${v.version}`}>
                      Aliases…
                    </Button>
                  </div>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <TransitionDialog model={model.name} version={transitioning} onClose={() => setTransitioning(null)} onRequested={onRequested} />
      <AliasDialog model={model} version={aliasing} onClose={() => setAliasing(null)} />
    </>
  );
}

function TransitionDialog({
  model,
  version,
  onClose,
  onRequested,
}: {
  model: string;
  version: ModelVersion | null;
  onClose: () => void;
  onRequested: (r: ApprovalRequest) => void;
}) {
  const client = useClient();
  const refresh = useRefreshRegistry();
  const settings = useRegistrySettings();
  const [stage, setStage] = useState<Stage | ''>('');
  const [archive, setArchive] = useState(false);
  const [comment, setComment] = useState('');
  const close = () => {
    setStage('');
    setArchive(false);
    setComment('');
    transition.reset();
    onClose();
  };
  const transition = useMutation({
    mutationFn: ({ v, to }: { v: ModelVersion; to: Stage }) =>
      client.models.transition(model, v.version, to, { archiveExistingVersions: isServingStage(to) && archive, comment: comment.trim() || undefined }),
    onSuccess: async (result) => {
      await refresh();
      if (result.approvalRequest) onRequested(result.approvalRequest);
      close();
    },
  });
  const gated = stage !== '' && isServingStage(stage) && (settings.data?.approvalStages.includes(stage) ?? false);
  return (
    <Dialog open={version !== null} onClose={close} title={`Change the stage of version ${version?.version ?? ''}`} testId="transition-dialog">
      {version && (
        <DialogForm
          request={transition}
          onSubmit={() => stage && transition.mutate({ v: version, to: stage })}
          onCancel={close}
          submitLabel={gated ? 'Request approval' : 'Change stage'}
          submitDisabled={stage === ''}
        >
          <p className="dialog-text">
            Now in <StageBadge stage={version.currentStage} />.
          </p>
          <Field label="New stage" htmlFor="tr-stage">
            <select id="tr-stage" required value={stage} onChange={(e) => setStage(e.target.value as Stage)}>
              <option value="" disabled>
                Choose a stage
              </option>
              {STAGES.filter((s) => s !== version.currentStage).map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </Field>
          <label className="checkbox">
            <input
              type="checkbox"
              checked={archive}
              disabled={stage === '' || !isServingStage(stage)}
              onChange={(e) => setArchive(e.target.checked)}
              data-testid="archive-existing"
            />
            <span>Archive the versions now in {stage !== '' && isServingStage(stage) ? stage : 'that stage'}</span>
          </label>
          {gated && (
            <div className="callout callout-info" data-testid="approval-note">
              <span>
                Moving into {stage} needs approval in this group: this opens a request, and the version moves once{' '}
                {approversText(settings.data?.approvers ?? [])} (not you) approve it.
              </span>
            </div>
          )}
          <Field label="Comment" htmlFor="tr-comment" hint={gated ? 'Shown to the approvers.' : 'Kept in the model’s timeline.'}>
            <textarea id="tr-comment" rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
          </Field>
        </DialogForm>
      )}
    </Dialog>
  );
}

/** Sets, moves and deletes the aliases of one version; an alias names one version, so setting it elsewhere moves it. */
function AliasDialog({ model, version, onClose }: { model: RegisteredModel; version: ModelVersion | null; onClose: () => void }) {
  const client = useClient();
  const refresh = useRefreshRegistry();
  const [alias, setAlias] = useState('');
  const set = useMutation({
    mutationFn: ({ name, v }: { name: string; v: string }) => client.models.setAlias(model.name, name, v),
    onSuccess: async () => {
      await refresh();
      setAlias('');
    },
  });
  const remove = useMutation({ mutationFn: (name: string) => client.models.deleteAlias(model.name, name), onSuccess: refresh });
  const close = () => {
    setAlias('');
    set.reset();
    remove.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (version) set.mutate({ name: alias.trim(), v: version.version });
  };
  // The dialog's version is a snapshot; its aliases come from the model, which refreshes after each change.
  const mine = model.aliases.filter((a) => a.version === version?.version);
  const elsewhere = model.aliases.find((a) => a.alias === alias.trim() && a.version !== version?.version);
  return (
    <Dialog open={version !== null} onClose={close} title={`Aliases of version ${version?.version ?? ''}`} testId="alias-dialog">
      {version && (
        <form className="form" onSubmit={submit}>
          <div className="alias-list" data-testid="version-aliases">
            {mine.length === 0 ? (
              <span className="muted">No alias points at this version.</span>
            ) : (
              mine.map((a) => (
                <span key={a.alias} className="alias-item">
                  <AliasChip alias={a.alias} />
                  <button
                    type="button"
                    className="icon-button"
                    aria-label={`Delete alias ${a.alias}`}
                    onClick={() => remove.mutate(a.alias)}
                    disabled={remove.isPending}
                  >
                    <CloseIcon size={12} />
                  </button>
                </span>
              ))
            )}
          </div>
          <Field
            label="Set an alias"
            htmlFor="alias-name"
            hint={
              elsewhere ? (
                <>
                  <Badge tone="amber">moves</Badge> @{elsewhere.alias} points at version {elsewhere.version} now.
                </>
              ) : (
                <>
                  Load it as{' '}
                  <code>
                    models:/{model.name}@{alias.trim() || 'champion'}
                  </code>
                  . Letters, digits, “_” and “-”.
                </>
              )
            }
          >
            <div className="inline-form-row">
              <input
                id="alias-name"
                list="alias-names"
                required
                value={alias}
                onChange={(e) => setAlias(e.target.value)}
                placeholder="e.g. champion"
                autoFocus
              />
              <datalist id="alias-names">
                {model.aliases
                  .filter((a) => a.version !== version.version)
                  .map((a) => (
                    <option key={a.alias} value={a.alias}>
                      on version {a.version}
                    </option>
                  ))}
              </datalist>
              <Button type="submit" variant="primary" pending={set.isPending}>
                {elsewhere ? 'Move here' : 'Set'}
              </Button>
            </div>
          </Field>
          <ErrorText error={set.error ?? remove.error} />
          <div className="dialog-footer">
            <Button onClick={close}>Done</Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
