import { Link, useSearchParams } from 'react-router';
import { useInfiniteQuery } from '@tanstack/react-query';
import { JobStatusSchema, type Job, type JobStatus } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { EmptyState, Time } from '../../components/ui';
import { ClockIcon } from '../../components/icons';
import { NoGroup } from '../../components/GroupList';
import { ListCount } from '../../components/ListCount';
import { LoadMore } from '../../components/LoadMore';
import { TableCard } from '../../components/TableCard';
import { num, TableHead } from '../../components/TableHead';
import { formatDuration } from '../tracking/format';
import './jobs.css';
import { firstLine, isActive, jobDuration, jobKeys, jobPath, JobStatusBadge } from './format';
import { JobOwnerLink } from './JobOwner';
import { usePageTitle } from '../../usePageTitle';

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

  usePageTitle('Jobs');
  if (!group) return <NoGroup icon={<ClockIcon size={26} />} kind="Jobs" />;

  return (
    <section aria-label="Jobs">
      <div className="toolbar">
        <form className="filters" role="search" aria-label="Filter jobs" onSubmit={(e) => e.preventDefault()}>
          <select
            aria-label="Filter by status"
            value={status ?? ''}
            onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {}, { replace: true })}
            data-testid="jobs-status"
          >
            <option value="">All statuses</option>
            {JobStatusSchema.options.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          {jobs.isSuccess && <ListCount count={rows.length} things={['jobs', 'job']} more={jobs.hasNextPage} testId="jobs-count" />}
          {jobs.isFetching && !jobs.isPending && <span className="spinner spinner-inline spinner-muted" aria-hidden="true" />}
        </form>
      </div>
      <TableCard
        query={jobs}
        empty={
          rows.length === 0 && (
            <EmptyState icon={<ClockIcon size={26} />} title={status ? `No ${status} jobs` : 'No jobs yet'}>
              Deployment builds and executions, project, pipeline, training and monitor runs, lake scoring and webhook deliveries of this group show up here
              while they run and after.
            </EmptyState>
          )
        }
      >
        <table className="table" data-testid="jobs-table">
          <TableHead columns={['Job', 'Kind', 'Belongs to', 'Status', num('Attempt'), 'Created', num('Duration'), 'Error']} />
          <tbody>
            {rows.map((j) => (
              <JobRow key={j.id} job={j} />
            ))}
          </tbody>
        </table>
      </TableCard>
      <LoadMore query={jobs} testId="jobs-load-more" />
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
        <JobOwnerLink owner={j.owner} />
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
