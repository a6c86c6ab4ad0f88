// Shared by the jobs pages and the job components (JobLog, JobDetails), which must not import pages.

/** Query keys of jobs. Jobs are per group, so the list key starts with it. */
export const jobKeys = {
  list: (group: string | undefined, filter: object) => ['jobs', group ?? '', 'list', filter] as const,
  job: (id: string) => ['jobs', 'job', id] as const,
  workers: ['workers'] as const,
};

export const jobPath = (id: string) => `/jobs/${encodeURIComponent(id)}`;
