/**
 * Which API a path is under, if any: no unknown path there may fall to the UI's index.html. MLflow's
 * are /api/<major>.0/… and /ajax-api/…, also under /g/<group>/ (a tracking URI may name a group);
 * DHuolib's wire layer is /dhuo/… (also under /g/<group>/), MLOps Codex's is /codex/… (its paths name the group).
 */
export function apiPrefixOf(pathname: string): 'mlflow' | 'native' | 'dhuo' | 'codex' | undefined {
  const rest = pathname.replace(/^\/g\/[^/]+(?=\/)/, '');
  if (/^\/(api\/\d+\.\d+|ajax-api)(\/|$)/.test(rest)) return 'mlflow';
  if (/^\/dhuo(\/|$)/.test(rest)) return 'dhuo';
  if (/^\/codex(\/|$)/.test(pathname)) return 'codex';
  if (rest === '/api' || rest.startsWith('/api/')) return 'native';
  return undefined;
}
