import { useEffect, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Group, Whoami } from '@forja/contracts';
import { useClient, useSession } from './session';

export const keys = {
  whoami: ['whoami'] as const,
  groups: ['groups'] as const,
  group: (name: string) => ['groups', name] as const,
  members: (name: string) => ['groups', name, 'members'] as const,
  /** Paged list (infinite query) on the Users page. */
  users: ['users'] as const,
  /** One plain page for username suggestions; under ['users'] so user changes refresh it too. */
  userPicker: ['users', 'picker'] as const,
  tokens: (group: string | null) => ['tokens', group ?? '@personal'] as const,
  audit: (filter: object) => ['audit', filter] as const,
  /** Experiment lists are per group: the same search means other rows in another group. */
  experiments: (group: string | undefined, search: object) => ['experiments', group ?? '', search] as const,
  experiment: (id: string) => ['experiment', id] as const,
  /** Metric, param and tag keys seen in a sample of an experiment's runs, for the column chooser. */
  runKeys: (experimentId: string) => ['runs', experimentId, 'keys'] as const,
  runs: (experimentId: string, search: object) => ['runs', experimentId, 'search', search] as const,
  run: (runId: string) => ['run', runId] as const,
  metricHistory: (runId: string, key: string) => ['run', runId, 'history', key] as const,
  artifacts: (runId: string, dir: string) => ['run', runId, 'artifacts', dir] as const,
  artifact: (runId: string, path: string) => ['run', runId, 'artifact', path] as const,
  /** Model names are per group, so every registry key starts with the group; ['models'] refreshes them all. */
  models: (group: string | undefined, search: object) => ['models', group ?? '', 'search', search] as const,
  model: (group: string | undefined, name: string) => ['models', group ?? '', 'model', name] as const,
  modelVersions: (group: string | undefined, name: string) => ['models', group ?? '', 'model', name, 'versions'] as const,
  modelTimeline: (group: string | undefined, name: string) => ['models', group ?? '', 'model', name, 'timeline'] as const,
  /** Under ['models'] too: a decision moves a version, and a transition may open a request. */
  approvals: (group: string | undefined, status: string) => ['models', group ?? '', 'approvals', status] as const,
  registrySettings: (group: string | undefined) => ['models', group ?? '', 'settings'] as const,
};

export function useWhoami() {
  const client = useClient();
  return useQuery({ queryKey: keys.whoami, queryFn: () => client.whoami(), staleTime: 60_000 });
}

export function useGroups() {
  const client = useClient();
  return useQuery({ queryKey: keys.groups, queryFn: () => client.groups.list() });
}

/** What the signed-in user may do, derived once from whoami and the group list. */
export interface Abilities {
  isAdmin: boolean;
  /** Groups whose tokens, members and audit log this user manages. */
  adminGroups: string[];
  canAdministerGroup(name: string): boolean;
  /** Creates and changes runs, models and data in the group (editor or admin there). */
  canEditGroup(name: string): boolean;
  canReadAudit: boolean;
}

export function abilitiesOf(me: Whoami | undefined, groups: Group[] | undefined): Abilities {
  const isAdmin = me?.user?.isAdmin ?? false;
  const adminGroups = isAdmin ? (groups ?? []).map((g) => g.name) : (me?.memberships ?? []).filter((m) => m.role === 'admin').map((m) => m.group);
  return {
    isAdmin,
    adminGroups,
    canAdministerGroup: (name) => isAdmin || adminGroups.includes(name),
    canEditGroup: (name) => isAdmin || (me?.memberships ?? []).some((m) => m.group === name && m.role !== 'viewer'),
    canReadAudit: isAdmin || adminGroups.length > 0,
  };
}

export function useAbilities(): Abilities {
  const me = useWhoami();
  const groups = useGroups();
  return abilitiesOf(me.data, groups.data);
}

/** Which stages of the current group's registry need approval, and who approves. */
export function useRegistrySettings() {
  const client = useClient();
  const { group } = useSession();
  return useQuery({ queryKey: keys.registrySettings(group), queryFn: () => client.models.settings(), enabled: Boolean(group) });
}

/** After any registry change: a model's versions, stages, aliases, requests and timeline all move together. */
export function useRefreshRegistry(): () => Promise<void> {
  const queryClient = useQueryClient();
  return () => queryClient.invalidateQueries({ queryKey: ['models'] });
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
