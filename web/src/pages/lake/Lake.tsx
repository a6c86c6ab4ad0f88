import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useQuery, useQueryClient, type UseQueryResult } from '@tanstack/react-query';
import type { LakeTableSummary, LakeWriteResult } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { useAbilities } from '../../hooks';
import { Button, CreateButton, EmptyState, PageHeader, SearchTabs, Time, useSearchTab, type TabSpec } from '../../components/ui';
import { DatabaseIcon } from '../../components/icons';
import { ListStatus, NoGroup } from '../../components/GroupList';
import { TableCard } from '../../components/TableCard';
import { num, TableHead } from '../../components/TableHead';
import { formatCount, lakeKeys, lakeTablePath, plural } from './format';
import { UploadDialog } from './UploadDialog';
import { BatchPredictions } from './BatchPredictions';
import './lake.css';
import { usePageTitle } from '../../usePageTitle';

type TabId = 'tables' | 'predictions';
const tabs: TabSpec<TabId>[] = [
  { id: 'tables', label: 'Tables' },
  { id: 'predictions', label: 'Batch predictions' },
];

/** The group's lake: its tables (with an upload) and, on a second tab, batch predictions over them. */
export function LakePage() {
  const client = useClient();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const { group } = useSession();
  const can = useAbilities();
  const tab = useSearchTab(tabs);
  const [uploading, setUploading] = useState(false);

  const list = useQuery({ queryKey: lakeKeys.tables(group), queryFn: () => client.lake.tables(), enabled: Boolean(group) });
  const mayWrite = group !== undefined && can.canEditGroup(group);
  const rows = list.data ?? [];

  const uploaded = async (r: LakeWriteResult) => {
    await queryClient.invalidateQueries({ queryKey: ['lake', group ?? ''] });
    navigate(lakeTablePath(r.table));
  };

  usePageTitle('Lake');
  return (
    <div className="page" data-testid="section-lake">
      <PageHeader
        title="Lake"
        description={
          group ? (
            <>
              Tables of group <strong>{group}</strong> with their versioned writes: read them with safe filters, import and export CSV or Parquet, and score
              them with registered models
            </>
          ) : (
            'Tables with their versioned writes: read them with safe filters, import and export CSV or Parquet'
          )
        }
        actions={
          mayWrite &&
          tab === 'tables' && (
            <CreateButton onClick={() => setUploading(true)} testId="lake-upload">
              Upload
            </CreateButton>
          )
        }
      />
      {!group ? (
        <NoGroup icon={<DatabaseIcon size={26} />} kind="Lake tables" />
      ) : (
        <>
          <SearchTabs label="Lake" tabs={tabs} current={tab} counts={{ tables: list.data?.length }} testIdPrefix="lake-tab" />
          {tab === 'tables' ? (
            <TablesList query={list} mayWrite={mayWrite} onUpload={() => setUploading(true)} />
          ) : (
            <BatchPredictions tables={rows} mayWrite={mayWrite} />
          )}
        </>
      )}
      <UploadDialog open={uploading} onClose={() => setUploading(false)} tables={rows} onUploaded={uploaded} />
    </div>
  );
}

function TablesList({ query, mayWrite, onUpload }: { query: UseQueryResult<LakeTableSummary[]>; mayWrite: boolean; onUpload: () => void }) {
  const list = query.data ?? [];
  return (
    <section aria-label="Tables">
      <ListStatus query={query}>
        <span className="muted" data-testid="lake-count">
          {plural(list.length, 'table')}
        </span>
      </ListStatus>
      <TableCard
        query={query}
        empty={
          list.length === 0 && (
            <EmptyState
              icon={<DatabaseIcon size={26} />}
              title="No tables yet"
              action={
                mayWrite && (
                  <Button variant="primary" onClick={onUpload}>
                    Upload a CSV or Parquet file
                  </Button>
                )
              }
            >
              Upload a file here, write rows with <code>forja lake write</code> or the SDKs, or score a table with a batch prediction.
            </EmptyState>
          )
        }
      >
        <table className="table" data-testid="lake-tables">
          <TableHead columns={['Name', num('Rows'), num('Columns'), num('Latest VERSION'), 'Updated']} />
          <tbody>
            {list.map((t) => (
              <tr key={t.name} data-testid={`lake-row-${t.name}`}>
                <td className="cell-name">
                  <Link to={lakeTablePath(t.name)} className="cell-link mono">
                    {t.name}
                  </Link>
                  {t.createdBy && <div className="cell-secondary">by {t.createdBy}</div>}
                </td>
                <td className="num" data-testid="lake-row-count">
                  {formatCount(t.rowCount)}
                </td>
                <td className="num">{formatCount(t.columnCount)}</td>
                <td className="num">{t.latestVersion === null ? <span className="muted">—</span> : t.latestVersion}</td>
                <td>
                  <Time at={t.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableCard>
    </section>
  );
}
