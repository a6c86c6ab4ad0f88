import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import type { Experiment, ViewType } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { keys, useDebounced } from '../../hooks';
import { Badge, Button, ConfirmDialog, CreateButton, EmptyState, ErrorText, PageHeader, TagList, Time } from '../../components/ui';
import { FlaskIcon } from '../../components/icons';
import { CreateDialog } from '../../components/CreateDialog';
import { NoGroup } from '../../components/GroupList';
import { ListCount } from '../../components/ListCount';
import { LoadMore } from '../../components/LoadMore';
import { TableCard } from '../../components/TableCard';
import { ACTIONS, TableHead } from '../../components/TableHead';
import { useConfirmedMutation } from '../../components/useConfirmedMutation';
import { isSystemTag, NOTE_TAG, tagValue } from './format';
import { quoteLiteral } from './filters';
import { usePageTitle } from '../../usePageTitle';

const PAGE = 100;
/** The server's Default experiment, which runs logged without an experiment land in; it cannot be deleted. */
const DEFAULT_EXPERIMENT_ID = '0';
const SHOWN_TAGS = 4;

export function ExperimentsPage() {
  const client = useClient();
  const { group } = useSession();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [search, setSearch] = useState('');
  const [showDeleted, setShowDeleted] = useState(false);
  const [creating, setCreating] = useState(false);
  const name = useDebounced(search.trim(), 250);

  const request = {
    filter: name ? `name ILIKE ${quoteLiteral(`%${name}%`)}` : undefined,
    viewType: (showDeleted ? 'ALL' : 'ACTIVE_ONLY') as ViewType,
  };
  const experiments = useInfiniteQuery({
    queryKey: keys.experiments(group, request),
    queryFn: ({ pageParam }) => client.experiments.search({ ...request, maxResults: PAGE, pageToken: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken,
    enabled: Boolean(group),
  });

  const refresh = () => queryClient.invalidateQueries({ queryKey: ['experiments'] });
  const remove = useConfirmedMutation((e: Experiment) => client.experiments.delete(e.experimentId), refresh);
  const restore = useMutation({ mutationFn: (id: string) => client.experiments.restore(id), onSuccess: refresh });

  const rows = experiments.data?.pages.flatMap((p) => p.experiments) ?? [];

  usePageTitle('Experiments');
  return (
    <div className="page" data-testid="section-experiments">
      <PageHeader
        title="Experiments"
        description={
          group ? (
            <>
              Runs with their parameters, metrics and artifacts, in group <strong>{group}</strong>
            </>
          ) : undefined
        }
        actions={
          group && (
            <CreateButton onClick={() => setCreating(true)} testId="new-experiment">
              New experiment
            </CreateButton>
          )
        }
      />
      {!group ? (
        <NoGroup icon={<FlaskIcon size={26} />} kind="Experiments" />
      ) : (
        <>
          <div className="filters" role="search">
            <input
              type="search"
              aria-label="Search experiments by name"
              placeholder="Search by name"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
              data-testid="experiments-search"
            />
            <label className="checkbox checkbox-inline">
              <input type="checkbox" checked={showDeleted} onChange={(e) => setShowDeleted(e.target.checked)} data-testid="show-deleted" />
              <span>Show deleted</span>
            </label>
            <div className="toolbar-spacer" />
            {experiments.isSuccess && <ListCount count={rows.length} things={['experiments', 'experiment']} more={experiments.hasNextPage} />}
          </div>
          <ErrorText error={restore.error} />
          <TableCard
            query={experiments}
            empty={
              rows.length === 0 && (
                <EmptyState
                  icon={<FlaskIcon size={26} />}
                  title={name ? `No experiment matches “${name}”` : 'No experiments yet'}
                  action={
                    !name && (
                      <Button variant="primary" onClick={() => setCreating(true)}>
                        Create an experiment
                      </Button>
                    )
                  }
                >
                  {name
                    ? 'Try another part of the name.'
                    : 'Create one here, or log runs from the forja SDK or the mlflow client; their experiments appear here.'}
                </EmptyState>
              )
            }
          >
            <table className="table" data-testid="experiments-table">
              <TableHead columns={['Name', 'ID', 'Created', 'Last updated', 'Tags', ACTIONS]} />
              <tbody>
                {rows.map((e) => (
                  <ExperimentRow
                    key={e.experimentId}
                    experiment={e}
                    onDelete={() => remove.ask(e)}
                    onRestore={() => restore.mutate(e.experimentId)}
                    restoring={restore.isPending && restore.variables === e.experimentId}
                  />
                ))}
              </tbody>
            </table>
          </TableCard>
          <LoadMore query={experiments} />
        </>
      )}
      <CreateDialog
        open={creating}
        onClose={() => setCreating(false)}
        title="New experiment"
        testId="create-experiment-dialog"
        idPrefix="ne"
        nameHint="Unique in the group. The SDKs find it by this name."
        namePlaceholder="e.g. churn-gbm"
        nameMaxLength={500}
        submitLabel="Create experiment"
        create={(name, description) => client.experiments.create({ name, tags: description ? [{ key: NOTE_TAG, value: description }] : [] })}
        onCreated={(e) => {
          void refresh();
          navigate(`/experiments/${encodeURIComponent(e.experimentId)}`);
        }}
      />
      <ConfirmDialog {...remove.dialog} title="Delete experiment" confirmLabel="Delete">
        Delete <strong>{remove.target?.name}</strong> and its runs? You can restore it later from “Show deleted”; its artifacts are kept until it is deleted
        permanently.
      </ConfirmDialog>
    </div>
  );
}

function ExperimentRow({
  experiment: e,
  onDelete,
  onRestore,
  restoring,
}: {
  experiment: Experiment;
  onDelete: () => void;
  onRestore: () => void;
  restoring: boolean;
}) {
  const deleted = e.lifecycleStage === 'deleted';
  const note = tagValue(e.tags, NOTE_TAG);
  const tags = e.tags.filter((t) => !isSystemTag(t.key));
  return (
    <tr data-testid={`experiment-row-${e.name}`} className={deleted ? 'row-muted' : undefined}>
      <td className="cell-name">
        <Link to={`/experiments/${encodeURIComponent(e.experimentId)}`} className="cell-link">
          {e.name}
        </Link>
        {deleted && (
          <>
            {' '}
            <Badge tone="red">deleted</Badge>
          </>
        )}
        {note && (
          <div className="cell-secondary cell-ellipsis" title={note}>
            {note}
          </div>
        )}
      </td>
      <td className="mono muted">{e.experimentId}</td>
      <td>
        <Time at={e.creationTime} />
      </td>
      <td>
        <Time at={e.lastUpdateTime} />
      </td>
      <td>
        <TagList tags={tags} max={SHOWN_TAGS} />
      </td>
      <td className="col-actions">
        {deleted ? (
          <Button size="sm" onClick={onRestore} pending={restoring} aria-label={`Restore ${e.name}`}>
            Restore
          </Button>
        ) : (
          e.experimentId !== DEFAULT_EXPERIMENT_ID && (
            <Button size="sm" variant="ghost" className="text-danger" onClick={onDelete} aria-label={`Delete ${e.name}`}>
              Delete
            </Button>
          )
        )}
      </td>
    </tr>
  );
}
