import { useState, type FormEvent } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { LakeTableNameSchema, type LakeTable } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { BackLink, Badge, Button, ConfirmDialog, Dialog, ErrorText, Field, LoadFailed, Spinner, Time, relativeTime } from '../../components/ui';
import { formatBytes } from '../tracking/format';
import { LAKE, formatCount, lakeKeys, lakeTablePath, plural } from './format';
import { Preview } from './Preview';
import './lake.css';
import { usePageTitle } from '../../usePageTitle';

/** One lake table: its size, schema and versions, a preview grid with filters and exports, rename and drop. */
export function LakeTablePage() {
  const { name = '' } = useParams();
  // A fresh page per table: the preview's filter and paging belong to one.
  usePageTitle(name, 'Lake');
  return <TableView key={name.toLowerCase()} name={name} />;
}

function TableView({ name }: { name: string }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { group } = useSession();
  const can = useAbilities();
  const [dialog, setDialog] = useState<'rename' | 'drop' | null>(null);

  const table = useQuery({ queryKey: lakeKeys.table(group, name), queryFn: () => client.lake.describe(name) });
  const drop = useMutation({
    mutationFn: () => client.lake.drop(name),
    onSuccess: async () => {
      queryClient.removeQueries({ queryKey: lakeKeys.table(group, name) });
      await queryClient.invalidateQueries({ queryKey: lakeKeys.tables(group) });
      navigate(LAKE.to);
    },
  });

  if (table.isPending) return <Spinner />;
  if (table.isError) return <LoadFailed title="This table cannot be shown" query={table} back={LAKE} />;

  const t = table.data;
  const canEdit = group !== undefined && can.canEditGroup(group);
  return (
    <div className="page page-wide" data-testid="lake-table-page">
      <BackLink to={LAKE.to}>{LAKE.label}</BackLink>
      <header className="detail-header">
        <div>
          <h1 className="detail-title">
            <span className="mono">{t.name}</span>
            <Badge tone={t.engine === 'duckdb' ? 'amber' : 'blue'} title="The engine that stores this table">
              {t.engine === 'duckdb' ? 'DuckDB' : 'PostgreSQL'}
            </Badge>
          </h1>
          <div className="detail-meta muted">
            <span data-testid="lake-table-rows">{plural(t.rowCount, 'row')}</span>
            <span>{plural(t.columnCount, 'column')}</span>
            <span
              title={
                t.engine === 'duckdb'
                  ? 'What the table takes in DuckDB: an estimate from its checkpointed blocks, so recent writes may not count yet'
                  : 'What the table takes in PostgreSQL'
              }
              data-testid="lake-table-size"
            >
              {t.sizeBytes > 0 || t.rowCount === 0 ? formatBytes(t.sizeBytes) : 'size not estimated yet'}
            </span>
            <span title={new Date(t.createdAt).toISOString()}>created {relativeTime(t.createdAt)}</span>
            {t.createdBy && <span>by {t.createdBy}</span>}
            <span title={new Date(t.updatedAt).toISOString()}>updated {relativeTime(t.updatedAt)}</span>
          </div>
        </div>
        {canEdit && (
          <div className="page-actions">
            <Button onClick={() => setDialog('rename')} data-testid="lake-rename">
              Rename
            </Button>
            <Button variant="danger" onClick={() => setDialog('drop')} data-testid="lake-drop">
              Drop
            </Button>
          </div>
        )}
      </header>
      <div className="detail-grid lake-overview">
        <SchemaCard table={t} />
        <VersionsCard table={t} />
      </div>
      <Preview table={t} />
      <RenameDialog
        open={dialog === 'rename'}
        table={t}
        onClose={() => setDialog(null)}
        onRenamed={async (renamed) => {
          queryClient.removeQueries({ queryKey: lakeKeys.table(group, name) });
          queryClient.setQueryData(lakeKeys.table(group, renamed.name), renamed);
          await queryClient.invalidateQueries({ queryKey: lakeKeys.tables(group) });
          navigate(lakeTablePath(renamed.name), { replace: true });
        }}
      />
      <ConfirmDialog
        open={dialog === 'drop'}
        title="Drop table"
        confirmLabel="Drop table"
        pending={drop.isPending}
        error={drop.error}
        onConfirm={() => drop.mutate()}
        onClose={() => {
          drop.reset();
          setDialog(null);
        }}
      >
        Drop <strong className="mono">{t.name}</strong> and its {plural(t.rowCount, 'row')}
        {t.latestVersion !== null ? ` (every VERSION up to ${t.latestVersion})` : ''}? This cannot be undone; the drop is recorded in the audit log.
      </ConfirmDialog>
    </div>
  );
}

function SchemaCard({ table: t }: { table: LakeTable }) {
  return (
    <div className="card lake-card" data-testid="lake-schema">
      <div className="card-head">
        <h3>Schema</h3>
        <span className="muted">{plural(t.columns.length, 'column')}</span>
      </div>
      <div className="card-scroll lake-card-scroll">
        <table className="table table-compact">
          <thead>
            <tr>
              <th>Column</th>
              <th>Type</th>
            </tr>
          </thead>
          <tbody>
            {t.columns.map((c) => (
              <tr key={c.name} data-testid="lake-column">
                <td className="mono">{c.name}</td>
                <td>
                  <span className="lake-type mono">{c.type}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function VersionsCard({ table: t }: { table: LakeTable }) {
  return (
    <div className="card lake-card" data-testid="lake-versions">
      <div className="card-head">
        <h3>Versions</h3>
        <span className="muted">{t.latestVersion === null ? 'not versioned' : `latest ${t.latestVersion}`}</span>
      </div>
      {t.versions.length === 0 ? (
        <div className="card-pad muted small">
          No versioned writes: write with <span className="mono">versioned=true</span> to give each write a <span className="mono">VERSION</span> and a{' '}
          <span className="mono">CREATED_AT</span>.
        </div>
      ) : (
        <div className="card-scroll lake-card-scroll">
          <table className="table table-compact">
            <thead>
              <tr>
                <th className="num">VERSION</th>
                <th className="num">Rows</th>
                <th>Created</th>
                <th>Model</th>
              </tr>
            </thead>
            <tbody>
              {t.versions.map((v) => (
                <tr key={v.version} data-testid="lake-version-row">
                  <td className="num mono">{v.version}</td>
                  <td className="num">{formatCount(v.rows)}</td>
                  <td>
                    <Time at={v.createdAt} />
                  </td>
                  <td>
                    {v.modelName ? (
                      <span className="mono small">
                        {v.modelName}
                        {v.modelVersion ? <span className="muted"> v{v.modelVersion}</span> : null}
                      </span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function RenameDialog({
  open,
  table,
  onClose,
  onRenamed,
}: {
  open: boolean;
  table: LakeTable;
  onClose: () => void;
  onRenamed: (t: LakeTable) => void | Promise<void>;
}) {
  const client = useClient();
  const [name, setName] = useState(table.name);
  const check = LakeTableNameSchema.safeParse(name.trim());
  const rename = useMutation({
    mutationFn: () => client.lake.rename(table.name, name.trim()),
    onSuccess: async (t) => {
      await onRenamed(t);
      close();
    },
  });
  const close = () => {
    setName(table.name);
    rename.reset();
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (check.success) rename.mutate();
  };
  return (
    <Dialog open={open} onClose={close} title="Rename table" testId="lake-rename-dialog">
      <form className="form" onSubmit={submit}>
        <Field
          label="New name"
          htmlFor="lr-name"
          hint={
            !check.success && name.trim() ? (
              <span className="text-danger">{check.error.issues[0]?.message}</span>
            ) : (
              'Code that reads the old name stops finding it.'
            )
          }
        >
          <input
            id="lr-name"
            className="mono"
            required
            autoFocus
            maxLength={63}
            value={name}
            onChange={(e) => setName(e.target.value)}
            data-testid="lake-rename-name"
          />
        </Field>
        <ErrorText error={rename.error} />
        <div className="dialog-footer">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" pending={rename.isPending} disabled={!check.success || name.trim() === table.name}>
            Rename
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
