import { useLayoutEffect, useRef, type ReactNode, type UIEvent } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { JobLogLine, JobLogs } from '@forja/contracts';
import { useClient } from '../session';
import { jobKeys } from '../jobs';
import { QueryError } from './ui';
import './JobLog.css';

const LOG_POLL_MS = 1000;
const LOG_PAGE = 1000;
/** Pages read in one poll when a job has written a lot since the last one. */
const LOG_PAGES_PER_POLL = 10;

/**
 * Keeps a scrolling log view at its end as `size` grows, unless the reader has scrolled up to
 * read something; scrolling back to the end follows again.
 */
export function useFollowEnd<T extends HTMLElement>(size: unknown) {
  const ref = useRef<T>(null);
  const following = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [size]);
  const onScroll = (e: UIEvent<T>) => {
    const el = e.currentTarget;
    following.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 24;
  };
  return { ref, onScroll };
}

/**
 * A job's log, tailed: each poll asks for the lines after the last one read and appends them to
 * the cached log, until the server says the job is finished and every line has been read.
 */
export function JobLogPanel({ jobId, title = 'Log', testId = 'job-logs', actions }: { jobId: string; title?: string; testId?: string; actions?: ReactNode }) {
  const client = useClient();
  const queryClient = useQueryClient();
  const key = [...jobKeys.job(jobId), 'logs'] as const;
  const logs = useQuery({
    queryKey: key,
    queryFn: async (): Promise<JobLogs> => {
      const before = queryClient.getQueryData<JobLogs>(key);
      let lines: JobLogLine[] = before?.lines ?? [];
      let next = before?.next ?? 0;
      for (let page = 0; page < LOG_PAGES_PER_POLL; page++) {
        const got = await client.jobs.logs(jobId, { after: next, limit: LOG_PAGE });
        lines = got.lines.length > 0 ? [...lines, ...got.lines] : lines;
        next = got.next;
        if (got.complete || got.lines.length < LOG_PAGE) return { lines, next, complete: got.complete };
      }
      return { lines, next, complete: false };
    },
    staleTime: Infinity,
    refetchInterval: (q) => (q.state.data?.complete ? false : LOG_POLL_MS),
  });

  const count = logs.data?.lines.length ?? 0;
  const follow = useFollowEnd<HTMLDivElement>(count);
  const lines = logs.data?.lines ?? [];
  const attempts = new Set(lines.map((l) => l.attempt));
  return (
    <div className="card log-card" data-testid={testId}>
      <div className="card-head">
        <h3>{title}</h3>
        <span className="muted">
          {count} line{count === 1 ? '' : 's'}
        </span>
        <span className="log-state muted small" data-testid="log-state">
          {logs.data?.complete ? (
            'complete'
          ) : (
            <>
              <span className="spinner spinner-inline spinner-muted" aria-hidden="true" /> following
            </>
          )}
        </span>
        {actions}
      </div>
      {logs.isError && (
        <div className="card-pad">
          <QueryError query={logs} />
        </div>
      )}
      <div className="log-view" ref={follow.ref} role="log" aria-label={title === 'Log' ? 'Job log' : title} tabIndex={0} onScroll={follow.onScroll}>
        {logs.isPending ? (
          <div className="log-empty">Loading…</div>
        ) : lines.length === 0 ? (
          <div className="log-empty">{logs.data?.complete ? 'This job wrote nothing.' : 'Waiting for output…'}</div>
        ) : (
          lines.map((l, i) => (
            <LogRow key={l.seq} line={l} attemptHeader={attempts.size > 1 && (i === 0 || lines[i - 1]!.attempt !== l.attempt) ? l.attempt : null} />
          ))
        )}
      </div>
    </div>
  );
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3, hourCycle: 'h23' });

function LogRow({ line: l, attemptHeader }: { line: JobLogLine; attemptHeader: number | null }) {
  return (
    <>
      {attemptHeader !== null && <div className="log-attempt">Attempt {attemptHeader}</div>}
      <div className={`log-line log-${l.stream}`} data-testid="log-line" data-stream={l.stream}>
        <span className="log-ts" title={new Date(l.ts).toISOString()}>
          {clock.format(new Date(l.ts))}
        </span>
        <span className="log-text">
          {l.stream === 'system' && <span className="log-tag">system</span>}
          {l.stream === 'stderr' && <span className="sr-only">stderr: </span>}
          {l.line}
        </span>
      </div>
    </>
  );
}
