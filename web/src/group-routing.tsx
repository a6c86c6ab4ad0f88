import { Suspense, useEffect, type ReactNode } from 'react';
import { BrowserRouter, Outlet, useLocation } from 'react-router';
import { useGroups } from './hooks';
import { groupBase, splitGroupPath } from './links';
import { useSession } from './session';
import { Button, ErrorText, Spinner } from './components/ui';

/**
 * The router, under the `/g/<group>` prefix of the group the UI acts in (or the one a link names,
 * while it is checked), so every address the user sees, copies or bookmarks opens the same page in
 * the same group. Links inside the app stay group-free (`/experiments/5`): the basename adds it.
 */
export function GroupRouter({ children }: { children: ReactNode }) {
  const { group, linkGroup } = useSession();
  const wanted = linkGroup ?? group;
  const base = wanted === undefined ? '' : groupBase(wanted);
  const { group: addressed, path } = splitGroupPath(window.location.pathname);
  if (addressed !== wanted) {
    // Done while rendering, not in an effect: the router below reads the address when it mounts.
    // Idempotent, so a render React throws away leaves the address as it should be anyway.
    const { search, hash } = window.location;
    window.history.replaceState(window.history.state, '', base + path + search + hash);
  }
  // A new group remounts the router (its basename is read once); the query cache lives above it.
  return (
    <BrowserRouter key={base} basename={base || undefined}>
      {children}
    </BrowserRouter>
  );
}

/**
 * Around every signed-in page: settles a group named by the address (switches to it when the user
 * may read it) before the page loads anything, and says so when the user may not. Pages load on
 * first use: the shell stays on screen while a page's chunk arrives.
 */
export function GroupGate() {
  const { linkGroup, resolveLink, refusedLink, group } = useSession();
  const groups = useGroups();
  // The history entry: the notice stays with the page the link opened, also after Back, not with its path.
  const { key } = useLocation();

  useEffect(() => {
    if (linkGroup === undefined || !groups.data) return;
    resolveLink(
      linkGroup,
      groups.data.some((g) => g.name === linkGroup),
      key,
    );
  }, [linkGroup, groups.data, resolveLink, key]);

  if (linkGroup !== undefined) {
    if (!groups.isError) return <Spinner label={`Opening group ${linkGroup}…`} />;
    return (
      <div className="page">
        <ErrorText error={groups.error} />
        <Button onClick={() => void groups.refetch()}>Try again</Button>
      </div>
    );
  }
  return (
    <>
      {refusedLink?.entry === key && (
        <div className="group-refused">
          <div className="callout callout-warning" role="status" data-testid="group-refused">
            <span>
              This link opens group <strong>{refusedLink.group}</strong>, which you cannot read: it does not exist or you are not a member. Ask one of its
              admins to add you.{group ? ` You are in group ${group}.` : ''}
            </span>
          </div>
        </div>
      )}
      <Suspense fallback={<Spinner />}>
        <Outlet />
      </Suspense>
    </>
  );
}
