import { Link, useSearchParams } from 'react-router';
import { useInfiniteQuery } from '@tanstack/react-query';
import { JobStatusSchema, type Job, type JobStatus } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { Button, EmptyState, ErrorText, Spinner, Time } from '../../components/ui';
import { ClockIcon } from '../../components/icons';
import { formatDuration } from '../tracking/format';
import './jobs.css';
import { firstLine, isActive, jobDuration, jobKeys, jobPath, JobStatusBadge } from './format';

const PAGE = 50;
/** While anything is queued or running the list follows it; finished lists do not change. */
const LIVE_REFRESH_MS = 2000;

export function JobsPage() {
  const client = useClient();
  const { group } = useSession();
  const [params, setParams] = useSearchParams();
  const wanted = params.get('status');
  const status = JobStatusSchema.safeParse(wanted).success ? (wanted as JobStatus) : undefined;

  const jobs = useInfiniteQuery({
    queryKey: jobKeys.list(group, { status }),
    queryFn: ({ pageParam }) => client.jobs.list({ status, limit: PAGE, pageToken: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken,
    enabled: Boolean(group),
    refetchInterval: (q) => (q.state.data?.pages.some((p) => p.items.some((j) => isActive(j.status))) ? LIVE_REFRESH_MS : false),
  });
  const rows = jobs.data?.pages.flatMap((p) => p.items) ?? [];

  if (!group) {
    return (
      <div className="card">
        <EmptyState icon={<ClockIcon size={26} />} title="No group selected" action={<Link to="/admin/groups">Go to groups</Link>}>
          Jobs belong to a group. Create one, or ask a group admin to add you.
        </EmptyState>
      </div>
    );
  }

  return (
    <section aria-label="Jobs">
      <div className="toolbar">
        <form className="filters" role="search" aria-label="Filter jobs" onSubmit={(e) => e.preventDefault()}>
          <select aria-label="Filter by status" value={status ?? ''} onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {}, { replace: true })} data-testid="jobs-status">
            <option value="">All statuses</option>
            {JobStatusSchema.options.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          {jobs.isSuccess && (
            <span className="muted" data-testid="jobs-count">
              {rows.length}
              {jobs.hasNextPage ? '+' : ''} job{rows.length === 1 ? '' : 's'}
            </span>
          )}
          {jobs.isFetching && !jobs.isPending && <span className="spinner spinner-inline spinner-muted" aria-hidden="true" />}
        </form>
      </div>
      <div className="card table-card">
        {jobs.isPending ? (
          <Spinner />
        ) : jobs.isError ? (
          <div className="card-pad">
            <ErrorText error={jobs.error} />
          </div>
        ) : rows.length === 0 ? (
          <EmptyState icon={<ClockIcon size={26} />} title={status ? `No ${status} jobs` : 'No jobs yet'}>
            Webhook deliveries, environment builds and scheduled runs of this group show up here while they run and after.
          </EmptyState>
        ) : (
          <table className="table" data-testid="jobs-table">
            <thead>
              <tr>
                <th>Job</th>
                <th>Kind</th>
                <th>Status</th>
                <th className="num">Attempt</th>
                <th>Created</th>
                <th className="num">Duration</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((j) => (
                <JobRow key={j.id} job={j} />
              ))}
            </tbody>
          </table>
        )}
      </div>
      {jobs.hasNextPage && (
        <div className="load-more">
          <Button onClick={() => void jobs.fetchNextPage()} pending={jobs.isFetchingNextPage} data-testid="jobs-load-more">
            Load more
          </Button>
        </div>
      )}
    </section>
  );
}

function JobRow({ job: j }: { job: Job }) {
  const duration = jobDuration(j);
  const error = firstLine(j.error);
  return (
    <tr data-testid={`job-row-${j.id}`} data-kind={j.kind} data-status={j.status}>
      <td>
        <Link to={jobPath(j.id)} className="cell-link mono">
          {j.id}
        </Link>
      </td>
      <td>
        <span className="mono">{j.kind}</span>
        {j.queue !== 'default' && <div className="cell-secondary">queue {j.queue}</div>}
      </td>
      <td>
        <JobStatusBadge status={j.status} />
      </td>
      <td className="num">
        {j.attempt}/{j.maxAttempts}
      </td>
      <td>
        <Time at={j.createdAt} />
      </td>
      <td className="num">{duration === null ? <span className="muted">—</span> : formatDuration(duration)}</td>
      <td>
        {error ? (
          <div className="job-error-cell" title={j.error ?? undefined}>
            {error}
          </div>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
    </tr>
  );
}
