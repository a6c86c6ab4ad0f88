import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { useMutation, useQueryClient, type QueryKey } from '@tanstack/react-query';
import { jobPath } from '../jobs';
import { JobLogPanel } from './JobLog';
import { WarningIcon } from './icons';
import { Button, ErrorText } from './ui';
import './JobDetails.css';

/** More data-* attributes for an element a component renders, e.g. data-step="train". */
export type DataAttributes = { [name: `data-${string}`]: string | undefined };

/** A job's details: what is known of it (`children`) beside its live log, or beside `noLog` while it has no job. */
export function JobDetails({
  testId,
  className,
  jobId,
  logTitle,
  logTestId,
  noLog,
  children,
  ...data
}: {
  testId: string;
  /** A page's own layout of the two columns. */
  className?: string;
  jobId: string | null;
  logTitle: string;
  logTestId: string;
  noLog?: ReactNode;
  children: ReactNode;
} & DataAttributes) {
  return (
    <div {...data} className={className ? `job-details ${className}` : 'job-details'} data-testid={testId}>
      <div className="job-details-side">{children}</div>
      {jobId ? <JobLogPanel key={jobId} jobId={jobId} title={logTitle} testId={logTestId} /> : noLog}
    </div>
  );
}

export function JobLink({ jobId }: { jobId: string }) {
  return (
    <Link to={jobPath(jobId)} className="mono">
      {jobId}
    </Link>
  );
}

/** A job's error or a failed build's message, in full; nothing while there is none. */
export function JobError({ error, testId }: { error: string | null; testId: string }) {
  if (!error) return null;
  return (
    <pre className="job-error" data-testid={testId}>
      {error}
    </pre>
  );
}

/**
 * Cancels a queued or running job. The answer (the item as it is now) replaces the item in the
 * cached list at once, so the row shows it before the list is read again.
 */
export function JobCancelButton<T>({
  cancel,
  list,
  idOf,
  label,
  testId,
}: {
  cancel: () => Promise<T>;
  list: QueryKey;
  idOf: (item: T) => string;
  label: string;
  testId: string;
}) {
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: cancel,
    onSuccess: async (updated) => {
      queryClient.setQueryData<T[]>(list, (old) => old?.map((x) => (idOf(x) === idOf(updated) ? updated : x)));
      await queryClient.invalidateQueries({ queryKey: list });
    },
  });
  return (
    <>
      <div>
        <Button variant="danger" size="sm" onClick={() => mutation.mutate()} pending={mutation.isPending} data-testid={testId}>
          {label}
        </Button>
      </div>
      <ErrorText error={mutation.error} />
    </>
  );
}

/** Why a job failed: a line that says it, and the whole message (a traceback, the last lines it wrote). `className` places it on a page. */
export function JobFailure({
  title,
  message,
  testId,
  messageTestId,
  className,
}: {
  title: string;
  message: string;
  testId: string;
  messageTestId?: string;
  className?: string;
}) {
  return (
    <div className={className ? `callout callout-danger ${className}` : 'callout callout-danger'} role="alert" data-testid={testId}>
      <WarningIcon size={15} />
      <div className="grow">
        <strong>{title}</strong>
        <pre className="failure-text" data-testid={messageTestId}>
          {message}
        </pre>
      </div>
    </div>
  );
}

/** A job still at work, and what it is doing. `className` places it on a page. */
export function JobBusy({ testId, className, children }: { testId?: string; className?: string; children: ReactNode }) {
  return (
    <div className={className ? `callout callout-info ${className}` : 'callout callout-info'} role="status" data-testid={testId}>
      <span className="spinner spinner-inline spinner-muted" aria-hidden="true" />
      <span>{children}</span>
    </div>
  );
}
