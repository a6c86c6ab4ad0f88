// Every server call of the monitoring pages, each one TS client method, with its query key: the
// pages share the cache (a run started on the monitor's page shows in the deployment's tab).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Alert, MonitorCreate, MonitorRun, MonitorRunRequest } from '@forja/contracts';
import { useClient, useSession } from '../../session';
import { isRunActive, monitoringKeys } from './format';
import { USAGE_WINDOWS, type UsageWindow } from './UsageCharts';

const POLL_MS = 2000;

export function useMonitors() {
  const client = useClient();
  const { group } = useSession();
  return useQuery({ queryKey: monitoringKeys.monitors(group), queryFn: () => client.monitors.list() });
}

export function useMonitor(id: string) {
  const client = useClient();
  const { group } = useSession();
  return useQuery({ queryKey: monitoringKeys.monitor(group, id), queryFn: () => client.monitors.get(id) });
}

/** The monitor's runs, newest first; polled while one is queued or running. */
export function useRuns(id: string) {
  const client = useClient();
  const { group } = useSession();
  const settled = useOnSettled();
  const key = monitoringKeys.runs(group, id);
  return useQuery({
    queryKey: key,
    queryFn: () =>
      settled(
        key,
        () => client.monitors.runs(id),
        (page) => page.items.filter((r) => isRunActive(r.status)).length,
      ),
    refetchInterval: (q) => (q.state.data?.items.some((r) => isRunActive(r.status)) ? POLL_MS : false),
  });
}

export function useRun(id: string, runId: string) {
  const client = useClient();
  const { group } = useSession();
  const settled = useOnSettled();
  const key = monitoringKeys.run(group, id, runId);
  return useQuery({
    queryKey: key,
    queryFn: () =>
      settled(
        key,
        () => client.monitors.getRun(id, runId),
        (run) => Number(isRunActive(run.status)),
      ),
    enabled: runId !== '',
    refetchInterval: (q) => (q.state.data && isRunActive(q.state.data.status) ? POLL_MS : false),
  });
}

/**
 * Fetches with `fetch`, and when fewer runs are active than in the cached answer (a run has
 * finished), refreshes every monitoring view: its series, the monitor's last run and the alerts
 * the run may have fired all moved.
 */
function useOnSettled() {
  const queryClient = useQueryClient();
  const refresh = useRefreshMonitoring();
  return async <T>(key: readonly unknown[], fetch: () => Promise<T>, active: (data: T) => number): Promise<T> => {
    const before = queryClient.getQueryData<T>(key);
    const after = await fetch();
    if (before !== undefined && active(after) < active(before)) setTimeout(() => void refresh(), 0);
    return after;
  };
}

/** Metric series of the monitor's runs, by name or `prefix.*`. */
export function useMetricSeries(id: string, names: readonly string[]) {
  const client = useClient();
  const { group } = useSession();
  return useQuery({ queryKey: monitoringKeys.series(group, id, names), queryFn: () => client.monitors.metrics(id, { names: [...names] }) });
}

export function useRules(id: string) {
  const client = useClient();
  const { group } = useSession();
  return useQuery({ queryKey: monitoringKeys.rules(group, id), queryFn: () => client.alerts.rules(id) });
}

export function useAlerts(filter: { status?: Alert['status']; monitor?: string }) {
  const client = useClient();
  const { group } = useSession();
  return useQuery({ queryKey: monitoringKeys.alerts(group, filter), queryFn: () => client.alerts.list(filter) });
}

/** The deployment's calls counted by the server over the window ending now. */
export function useUsage(deploymentId: string, window: UsageWindow) {
  const client = useClient();
  const { group } = useSession();
  const ms = USAGE_WINDOWS.find((w) => w.id === window)!.ms;
  return useQuery({
    queryKey: monitoringKeys.usage(group, deploymentId, { window }),
    queryFn: () => {
      const to = Date.now();
      return client.deployments.usage(deploymentId, { from: to - ms, to });
    },
    refetchInterval: 10_000,
  });
}

/** Refreshes every monitoring view of the group (a run, an alert action or a new monitor changes several). */
function useRefreshMonitoring() {
  const queryClient = useQueryClient();
  const { group } = useSession();
  return () => queryClient.invalidateQueries({ queryKey: ['monitoring', group ?? ''] });
}

export function useRunNow(id: string) {
  const client = useClient();
  const refresh = useRefreshMonitoring();
  return useMutation({ mutationFn: (body: MonitorRunRequest = {}): Promise<MonitorRun> => client.monitors.run(id, body), onSuccess: refresh });
}

export function useCreateMonitor() {
  const client = useClient();
  const refresh = useRefreshMonitoring();
  return useMutation({ mutationFn: (body: MonitorCreate) => client.monitors.create(body), onSuccess: refresh });
}

export function useAlertAction() {
  const client = useClient();
  const refresh = useRefreshMonitoring();
  return useMutation({
    mutationFn: ({ id, action }: { id: string; action: 'acknowledge' | 'resolve' }) =>
      action === 'acknowledge' ? client.alerts.acknowledge(id) : client.alerts.resolve(id),
    onSuccess: refresh,
  });
}

/** Downloads a run's static HTML report through the client (the request needs its token), as a file. */
export function useDownloadReport() {
  const client = useClient();
  return useMutation({
    mutationFn: async ({ id, runId, name }: { id: string; runId: string; name: string }) => {
      const res = await client.monitors.report(id, runId);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `${name}-${runId}.html`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    },
  });
}
