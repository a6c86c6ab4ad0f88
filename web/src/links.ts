/**
 * Addresses of the UI: the `/g/<group>` prefix that names the group a page belongs to, and the
 * hash routes MLflow's client prints (`<tracking_uri>/#/experiments/<id>/runs/<run>`), translated
 * to Forja's own pages.
 */

const GROUP_PREFIX = /^\/g\/([^/]+)(?=\/|$)/;

/** The path that opens the UI in `group`; every page's address starts with it. */
export const groupBase = (group: string) => `/g/${encodeURIComponent(group)}`;

/** Splits `/g/<group>/rest` into the group and the page's path (`/` when there is none). */
export function splitGroupPath(pathname: string): { group: string | undefined; path: string } {
  const m = GROUP_PREFIX.exec(pathname);
  if (!m) return { group: undefined, path: pathname || '/' };
  let group: string;
  try {
    group = decodeURIComponent(m[1]!);
  } catch {
    // A malformed escape is no group name; the page shows "not found" for the whole path instead.
    return { group: undefined, path: pathname };
  }
  return { group, path: pathname.slice(m[0].length) || '/' };
}

/** Pages of a section that live outside its path: a run's section is the experiments'. */
const SECTION_OF: Record<string, string> = { runs: '/experiments', compare: '/experiments' };

/**
 * Where a user lands after choosing another group on a page: an object's page (an experiment, a
 * model) belongs to the group it was in, so the section's list opens instead; admin pages are
 * not a group's and stay.
 */
export function sectionOf(path: string): string {
  if (path === '/admin' || path.startsWith('/admin/')) return path;
  const first = path.split('/')[1];
  if (!first) return '/';
  return SECTION_OF[first] ?? `/${first}`;
}

/** MLflow's list parameters are JSON arrays (`runs=["a","b"]`); a bare value counts as one. */
function listParam(params: URLSearchParams, name: string): string[] {
  const raw = params.get(name);
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    if (Array.isArray(parsed)) return parsed.filter((v): v is string => typeof v === 'string' && v !== '');
  } catch {
    /* not JSON: a single id */
  }
  return [raw];
}

const runsPage = (runs: string[]) => (runs.length === 1 ? `/runs/${encodeURIComponent(runs[0]!)}` : `/compare?runs=${runs.map(encodeURIComponent).join(',')}`);

/**
 * Forja's page for a route of MLflow's web UI (the part after `#`), or undefined when the hash is
 * not one. Path segments stay as MLflow escaped them; the router decodes them.
 * MLflow appends `?workspace=<name>` for a non-default workspace, the nearest thing it has to a group.
 */
export function pageOfMlflowRoute(hash: string): { path: string; group: string | undefined } | undefined {
  if (!hash.startsWith('#/')) return undefined;
  const [route = '', query = ''] = hash.slice(1).split('?', 2);
  const params = new URLSearchParams(query);
  const group = params.get('workspace') || undefined;
  const seg = route.split('/').filter(Boolean);
  const page = (path: string) => ({ path, group });
  if (seg[0] === 'experiments' && seg[1]) {
    // runs/<id>, evaluation-runs/<id> and their sub-tabs (artifacts, model metrics…) are the run's page.
    if ((seg[2] === 'runs' || seg[2] === 'evaluation-runs') && seg[3]) return page(`/runs/${seg[3]}`);
    return page(`/experiments/${seg[1]}`);
  }
  if (seg[0] === 'models' && seg[1]) return page(seg[2] === 'versions' && seg[3] ? `/models/${seg[1]}?version=${seg[3]}` : `/models/${seg[1]}`);
  if (seg[0] === 'compare-runs' || seg[0] === 'metric') {
    const runs = listParam(params, 'runs');
    if (runs.length) return page(runsPage(runs));
  }
  if (seg[0] === 'compare-model-versions') {
    const name = params.get('name');
    if (name) return page(`/models/${encodeURIComponent(name)}`);
  }
  if (seg[0] === 'models' || seg[0] === 'experiments' || seg.length === 0) return page(seg[0] === 'models' ? '/models' : '/experiments');
  // An MLflow page Forja has no counterpart for: the path as is, so "Page not found" says so.
  return page(`/${seg.join('/')}`);
}

/**
 * Rewrites the address a browser opened, before the app reads it: MLflow's hash route becomes
 * Forja's page (in the group its path or `?workspace=` names), so `<tracking_uri>/#/experiments/1`
 * and `<tracking_uri>/g/team/#/experiments/1/runs/abc` open the right page.
 */
export function translateMlflowAddress(location: Location, history: History): void {
  const target = pageOfMlflowRoute(location.hash);
  if (!target) return;
  const { group: pathGroup } = splitGroupPath(location.pathname);
  const group = pathGroup ?? target.group;
  history.replaceState(history.state, '', (group ? groupBase(group) : '') + target.path);
}
