import { useState } from 'react';
import type { RunSearch } from '@forja/contracts';
import { useClient } from '../../session';
import { Button, ErrorText } from '../../components/ui';
import { DownloadIcon } from '../../components/icons';
import { fetchAllRuns } from './allRuns';
import { toCsv } from './csv';
import { columnId, type DataColumn } from './filters';
import { runDuration } from './format';
import { cellText, toRow } from './runRows';

/** The table's view as a CSV file: every run the filter matches, in its order, with the shown columns. */
export function ExportCsv({
  search,
  columns,
  fileName,
}: {
  search: Omit<RunSearch, 'maxResults' | 'pageToken' | 'includeTotal' | 'columns'>;
  columns: DataColumn[];
  fileName: string;
}) {
  const client = useClient();
  const [progress, setProgress] = useState<{ loaded: number; total: number }>();
  const [error, setError] = useState<unknown>();

  const run = async () => {
    setError(undefined);
    setProgress({ loaded: 0, total: 0 });
    try {
      const runs = await fetchAllRuns(client, { ...search, columns: columns.map(columnId) }, (loaded, total) => setProgress({ loaded, total }));
      const header = ['run_id', 'run_name', 'status', 'start_time', 'duration_s', 'user', ...columns.map(columnId)];
      const all = new Set(columns.map(columnId));
      const lines = runs.map((run) => {
        const row = toRow(run, all);
        const info = run.info;
        const duration = runDuration(info);
        return [
          info.runId,
          info.runName,
          info.status,
          info.startTime === null ? '' : new Date(info.startTime).toISOString(),
          duration === null ? '' : String(duration / 1000),
          info.userId,
          ...columns.map((c) => cellText(row, c)),
        ];
      });
      const url = URL.createObjectURL(new Blob([toCsv([header, ...lines])], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = fileName;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err);
    } finally {
      setProgress(undefined);
    }
  };

  return (
    <>
      <Button
        onClick={() => void run()}
        pending={progress !== undefined}
        data-testid="export-csv"
        title="Every run this filter matches, with the shown columns"
      >
        <DownloadIcon size={14} />
        {progress ? `Exporting ${progress.loaded.toLocaleString()}${progress.total ? ` of ${progress.total.toLocaleString()}` : ''}…` : 'CSV'}
      </Button>
      {error !== undefined && <ErrorText error={error} />}
    </>
  );
}
