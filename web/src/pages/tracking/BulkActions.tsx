import { useId, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { RUN_BULK_MAX, type RunBulk } from '@forja/contracts';
import { useClient } from '../../session';
import { Button, ConfirmDialog, Dialog, ErrorText, Field } from '../../components/ui';

type Action = 'delete' | 'restore' | 'setTag';

/** Delete, restore or tag the selected runs, after a confirmation; one request per thousand runs. */
export function BulkActions({
  experimentId,
  selected,
  deletedView,
  onDone,
}: {
  experimentId: string;
  selected: Set<string>;
  deletedView: boolean;
  onDone: () => void;
}) {
  const client = useClient();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<Action>();
  const [tag, setTag] = useState({ key: '', value: '' });
  const id = useId();
  const n = selected.size;
  const runs = `${n.toLocaleString()} run${n === 1 ? '' : 's'}`;

  const act = useMutation({
    mutationFn: async (action: Action) => {
      const ids = [...selected];
      for (let i = 0; i < ids.length; i += RUN_BULK_MAX) {
        const runIds = ids.slice(i, i + RUN_BULK_MAX);
        const body: RunBulk = action === 'setTag' ? { action, runIds, key: tag.key.trim(), value: tag.value } : { action, runIds };
        await client.runs.bulk(body);
      }
    },
    onSuccess: () => {
      setOpen(undefined);
      onDone();
    },
    // Partly done counts too: what changed must show.
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['runs', experimentId] }),
  });
  const start = (action: Action) => {
    act.reset();
    setOpen(action);
  };
  const close = () => setOpen(undefined);

  return (
    <>
      {deletedView ? (
        <Button size="sm" onClick={() => start('restore')} data-testid="bulk-restore">
          Restore {n}
        </Button>
      ) : (
        <>
          <Button size="sm" onClick={() => start('setTag')} data-testid="bulk-tag">
            Tag {n}
          </Button>
          <Button size="sm" variant="danger" onClick={() => start('delete')} data-testid="bulk-delete">
            Delete {n}
          </Button>
        </>
      )}
      <ConfirmDialog
        open={open === 'delete' || open === 'restore'}
        title={open === 'restore' ? `Restore ${runs}?` : `Delete ${runs}?`}
        confirmLabel={open === 'restore' ? `Restore ${runs}` : `Delete ${runs}`}
        onConfirm={() => act.mutate(open!)}
        onClose={close}
        pending={act.isPending}
        error={act.error}
      >
        {open === 'restore'
          ? 'They return to the runs of this experiment.'
          : 'They leave the table, the charts and searches. Deleted runs can be restored from “Deleted runs” until the garbage collector removes them.'}
      </ConfirmDialog>
      <Dialog
        open={open === 'setTag'}
        onClose={close}
        title={`Tag ${runs}`}
        testId="bulk-tag-dialog"
        footer={
          <>
            <Button onClick={close}>Cancel</Button>
            <Button variant="primary" disabled={!tag.key.trim()} pending={act.isPending} onClick={() => act.mutate('setTag')} data-testid="bulk-tag-confirm">
              Set tag
            </Button>
          </>
        }
      >
        <div className="form-row">
          <Field label="Key" htmlFor={`${id}-key`}>
            <input
              id={`${id}-key`}
              value={tag.key}
              onChange={(e) => setTag((t) => ({ ...t, key: e.target.value }))}
              placeholder="review"
              data-testid="bulk-tag-key"
            />
          </Field>
          <Field label="Value" htmlFor={`${id}-value`}>
            <input
              id={`${id}-value`}
              value={tag.value}
              onChange={(e) => setTag((t) => ({ ...t, value: e.target.value }))}
              placeholder="keep"
              data-testid="bulk-tag-value"
            />
          </Field>
        </div>
        <p className="muted small">A run that already has this tag gets the new value.</p>
        <ErrorText error={act.error} />
      </Dialog>
    </>
  );
}
