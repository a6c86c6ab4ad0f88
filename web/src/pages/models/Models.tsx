import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useInfiniteQuery } from '@tanstack/react-query';
import type { RegisteredModel } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { keys, useAbilities, useRefreshRegistry } from '../../hooks';
import { Button, CreateButton, EmptyState, TagList, Time } from '../../components/ui';
import { CubeIcon } from '../../components/icons';
import { CreateDialog } from '../../components/CreateDialog';
import { FilterBar, filterErrorOf } from '../../components/FilterBar';
import { ListCount } from '../../components/ListCount';
import { LoadMore } from '../../components/LoadMore';
import { TableCard } from '../../components/TableCard';
import { TableHead } from '../../components/TableHead';
import { AliasChip, modelPath, STAGES_BY_RELEASE, StageBadge } from './format';
import { usePageTitle } from '../../usePageTitle';

const PAGE = 50;
const SHOWN_TAGS = 3;

export function ModelsPage() {
  const client = useClient();
  const refresh = useRefreshRegistry();
  const navigate = useNavigate();
  const { group } = useSession();
  const can = useAbilities();
  const [params, setParams] = useSearchParams();
  const filter = params.get('filter') ?? '';
  const [creating, setCreating] = useState(false);

  const models = useInfiniteQuery({
    queryKey: keys.models(group, { filter }),
    queryFn: ({ pageParam }) => client.models.search({ filter: filter || undefined, maxResults: PAGE, pageToken: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken,
  });
  const filterError = filterErrorOf(models.error);
  const rows = models.data?.pages.flatMap((p) => p.registeredModels) ?? [];
  const mayCreate = group !== undefined && can.canEditGroup(group);

  usePageTitle('Models');
  return (
    <section aria-label="Registered models">
      <FilterBar
        filter={filter}
        onApply={(f) => setParams(f ? { filter: f } : {}, { replace: true })}
        label="Filter models"
        placeholder="name LIKE 'churn%' AND tags.team = 'risk'"
        testId="models-filter"
        error={filterError}
        hint={
          <>
            Filter on <code>name</code> and <code>tags.&lt;key&gt;</code> with <code>= != LIKE ILIKE IN</code>, combined with <code>AND OR NOT ( )</code>;{' '}
            <code>%</code> matches any text in <code>LIKE</code>.
          </>
        }
      />
      <div className="toolbar">
        <div className="toolbar-title">
          {models.isSuccess && <ListCount count={rows.length} things={['models', 'model']} more={models.hasNextPage} testId="models-count" />}
        </div>
        {mayCreate && (
          <CreateButton onClick={() => setCreating(true)} testId="new-model">
            Register model
          </CreateButton>
        )}
      </div>
      {/* A filter's mistake is shown at the filter box, so here it only empties the list. */}
      <TableCard
        query={{ ...models, isError: models.isError && !filterError }}
        empty={
          rows.length === 0 && (
            <EmptyState
              icon={<CubeIcon size={26} />}
              title={filterError ? 'The filter has a mistake' : filter ? 'No model matches this filter' : 'No models yet'}
              action={
                !filter &&
                mayCreate && (
                  <Button variant="primary" onClick={() => setCreating(true)}>
                    Register a model
                  </Button>
                )
              }
            >
              {filterError
                ? 'Fix the filter to see models.'
                : filter
                  ? 'Loosen the filter or clear it.'
                  : 'Register a model name here, then add versions to it from runs with the SDKs or the mlflow client.'}
            </EmptyState>
          )
        }
      >
        <table className="table" data-testid="models-table">
          <TableHead columns={['Name', 'Latest versions', 'Aliases', 'Tags', 'Updated']} />
          <tbody>
            {rows.map((m) => (
              <ModelRow key={m.name} model={m} />
            ))}
          </tbody>
        </table>
      </TableCard>
      <LoadMore query={models} testId="models-load-more" />
      <CreateDialog
        open={creating}
        onClose={() => setCreating(false)}
        title="Register model"
        testId="create-model-dialog"
        idPrefix="nm"
        nameHint={
          <>
            Unique in the group; versions are then loaded as <code>models:/&lt;name&gt;/&lt;version&gt;</code>. No “/”, “@” or “\”.
          </>
        }
        namePlaceholder="e.g. churn-classifier"
        nameMaxLength={256}
        submitLabel="Register model"
        create={(name, description) => client.models.create({ name, description })}
        onCreated={(m) => {
          void refresh();
          navigate(modelPath(m.name));
        }}
      />
    </section>
  );
}

function ModelRow({ model: m }: { model: RegisteredModel }) {
  const latest = STAGES_BY_RELEASE.flatMap((stage) => m.latestVersions.filter((v) => v.currentStage === stage));
  return (
    <tr data-testid={`model-row-${m.name}`}>
      <td className="cell-name">
        <Link to={modelPath(m.name)} className="cell-link">
          {m.name}
        </Link>
        {m.description && (
          <div className="cell-secondary cell-ellipsis" title={m.description}>
            {m.description}
          </div>
        )}
      </td>
      <td>
        {latest.length === 0 ? (
          <span className="muted">No versions</span>
        ) : (
          <div className="tag-list">
            {latest.map((v) => (
              <Link
                key={v.version}
                to={`${modelPath(m.name)}?version=${v.version}`}
                className="stage-version"
                title={`Version ${v.version}, the newest in ${v.currentStage}`}
              >
                <StageBadge stage={v.currentStage} />
                <span className="mono">v{v.version}</span>
              </Link>
            ))}
          </div>
        )}
      </td>
      <td>
        {m.aliases.length === 0 ? (
          <span className="muted">—</span>
        ) : (
          <div className="tag-list">
            {m.aliases.map((a) => (
              <span key={a.alias} className="stage-version">
                <AliasChip alias={a.alias} />
                <span className="mono muted">v{a.version}</span>
              </span>
            ))}
          </div>
        )}
      </td>
      <td>
        <TagList tags={m.tags} max={SHOWN_TAGS} />
      </td>
      <td>
        <Time at={m.lastUpdatedTime} />
      </td>
    </tr>
  );
}
