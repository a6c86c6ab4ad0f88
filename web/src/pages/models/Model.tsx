import { useState } from 'react';
import { useParams, useSearchParams } from 'react-router';
import { useInfiniteQuery, useMutation, useQuery } from '@tanstack/react-query';
import type { ApprovalRequest, RegisteredModel } from '@forja/contracts';
import { useClient, useFollowGroup, useSession } from '../../session';
import { keys, useAbilities, useRefreshRegistry } from '../../hooks';
import {
  BackLink,
  Button,
  Dialog,
  EmptyState,
  ErrorText,
  Field,
  LoadFailed,
  SearchTabs,
  Spinner,
  TagList,
  Time,
  useSearchTab,
  type TabSpec,
  QueryError,
} from '../../components/ui';
import { CloseIcon, CubeIcon, PlusIcon } from '../../components/icons';
import { DialogForm } from '../../components/DialogForm';
import { EditableDescription } from '../../components/EditableDescription';
import { LoadMore } from '../../components/LoadMore';
import { quoteLiteral } from '../tracking/filters';
import { ApprovalsTable } from './Approvals';
import { CompareVersions } from './CompareVersions';
import { Lineage } from './Lineage';
import { VersionDeployments } from './VersionDeployments';
import { Timeline } from './Timeline';
import { VersionsTable } from './Versions';
import { MODELS, StageBadge } from './format';
import { usePageTitle } from '../../usePageTitle';

const VERSIONS_PAGE = 100;
const tabs: TabSpec<'versions' | 'compare' | 'timeline'>[] = [
  { id: 'versions', label: 'Versions' },
  { id: 'compare', label: 'Compare' },
  { id: 'timeline', label: 'Timeline' },
];

export function ModelPage() {
  const { name = '' } = useParams();
  const client = useClient();
  const { group } = useSession();
  const can = useAbilities();
  const [params] = useSearchParams();
  const tab = useSearchTab(tabs);
  const [requested, setRequested] = useState<ApprovalRequest | null>(null);

  const model = useQuery({ queryKey: keys.model(group, name), queryFn: () => client.models.get(name) });
  useFollowGroup(model.data?.group);
  const versions = useInfiniteQuery({
    queryKey: keys.modelVersions(group, name),
    queryFn: ({ pageParam }) => client.models.searchVersions({ filter: `name = ${quoteLiteral(name)}`, maxResults: VERSIONS_PAGE, pageToken: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken,
  });
  // The server lists a group's requests, not a model's; a group has few open at a time.
  const pending = useQuery({
    queryKey: keys.approvals(group, 'pending'),
    queryFn: () => client.models.approvals('pending'),
    select: (items) => items.filter((a) => a.model === name),
  });

  usePageTitle(name, 'Models');
  if (model.isPending) return <Spinner />;
  if (model.isError) return <LoadFailed title="This model cannot be shown" query={model} back={MODELS} />;

  const m = model.data;
  const canEdit = group !== undefined && can.canEditGroup(group);
  const list = versions.data?.pages.flatMap((p) => p.modelVersions) ?? [];
  const selected = list.find((v) => v.version === params.get('version')) ?? list[0];

  return (
    <div className="page page-wide" data-testid="model-page">
      <BackLink to={MODELS.to}>{MODELS.label}</BackLink>
      <header className="detail-header">
        <div className="grow">
          <h1 className="detail-title">{m.name}</h1>
          <div className="detail-meta muted">
            <span>
              Registered <Time at={m.creationTime} />
              {m.userId && <> by {m.userId}</>}
            </span>
            <span>
              Updated <Time at={m.lastUpdatedTime} />
            </span>
            <span>Group {m.group}</span>
          </div>
          <Description model={m} canEdit={canEdit} />
          <ModelTags model={m} canEdit={canEdit} />
        </div>
      </header>

      {requested && (
        <div className="callout callout-info notice" role="status" data-testid="approval-requested">
          <span>
            Approval requested: version {requested.version} moves to <StageBadge stage={requested.toStage} /> once an approver approves it.
          </span>
          <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => setRequested(null)}>
            <CloseIcon size={14} />
          </button>
        </div>
      )}
      {pending.data && pending.data.length > 0 && (
        <div className="card table-card section-card">
          <div className="card-head">
            <h3>Pending approvals</h3>
            <span className="muted">{pending.data.length}</span>
          </div>
          <ApprovalsTable approvals={pending.data} showModel={false} testId="model-approvals" />
        </div>
      )}

      <SearchTabs label="Model" tabs={tabs} current={tab} counts={{ versions: list.length }} testIdPrefix="model-tab" />
      {tab === 'timeline' ? (
        <Timeline model={m.name} />
      ) : versions.isPending ? (
        <Spinner label="Loading versions…" />
      ) : versions.isError ? (
        <QueryError query={versions} />
      ) : list.length === 0 ? (
        <div className="card">
          <EmptyState icon={<CubeIcon size={26} />} title="No versions yet">
            Register a version from a run's artifacts, e.g.{' '}
            <code>
              forja.models.createVersion('{m.name}', {'{'} source: 'runs:/&lt;run id&gt;/model' {'}'})
            </code>
            , or with the mlflow client.
          </EmptyState>
        </div>
      ) : tab === 'compare' ? (
        <CompareVersions versions={list} />
      ) : (
        <>
          <div className="card table-card">
            <VersionsTable model={m} versions={list} selected={selected?.version} canEdit={canEdit} onRequested={setRequested} />
          </div>
          <LoadMore query={versions}>Load more versions</LoadMore>
          {selected && (
            <>
              <VersionDeployments key={`deploy-${selected.version}`} version={selected} canEdit={canEdit} />
              <Lineage key={selected.version} version={selected} />
            </>
          )}
        </>
      )}
    </div>
  );
}

function Description({ model, canEdit }: { model: RegisteredModel; canEdit: boolean }) {
  const client = useClient();
  const refresh = useRefreshRegistry();
  const save = async (description: string) => {
    await client.models.update(model.name, { description });
    await refresh();
  };
  return <EditableDescription text={model.description} canEdit={canEdit} save={save} testId="model-description" />;
}

function ModelTags({ model, canEdit }: { model: RegisteredModel; canEdit: boolean }) {
  const client = useClient();
  const refresh = useRefreshRegistry();
  const [adding, setAdding] = useState(false);
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const remove = useMutation({ mutationFn: (k: string) => client.models.deleteTag(model.name, k), onSuccess: refresh });
  const add = useMutation({
    mutationFn: () => client.models.setTag(model.name, key.trim(), value),
    onSuccess: async () => {
      await refresh();
      close();
    },
  });
  const close = () => {
    setKey('');
    setValue('');
    add.reset();
    setAdding(false);
  };
  if (model.tags.length === 0 && !canEdit) return null;
  return (
    <div className="detail-tags model-tags" data-testid="model-tags">
      {model.tags.length > 0 && <TagList tags={model.tags} onRemove={canEdit ? (k) => remove.mutate(k) : undefined} />}
      {canEdit && (
        <Button size="sm" variant="ghost" onClick={() => setAdding(true)} data-testid="add-tag">
          <PlusIcon size={12} /> Tag
        </Button>
      )}
      <ErrorText error={remove.error} />
      <Dialog open={adding} onClose={close} title="Add a tag" testId="tag-dialog">
        <DialogForm request={add} onSubmit={() => add.mutate()} onCancel={close} submitLabel="Add tag">
          <div className="form-row">
            <Field label="Key" htmlFor="tag-key">
              <input id="tag-key" required autoFocus maxLength={250} value={key} onChange={(e) => setKey(e.target.value)} placeholder="e.g. team" />
            </Field>
            <Field label="Value" htmlFor="tag-value">
              <input id="tag-value" value={value} onChange={(e) => setValue(e.target.value)} placeholder="e.g. risk" />
            </Field>
          </div>
          <p className="muted small">
            A tag with the same key is replaced. Search models by it with <code>tags.{key.trim() || 'team'} = '…'</code>.
          </p>
        </DialogForm>
      </Dialog>
    </div>
  );
}
