import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { ForjaApiError, ForjaClient } from '@forja/client';
import { UNAUTHENTICATED_EVENT } from './auth-events';
import { groupBase, sectionOf, splitGroupPath } from './links';

const TOKEN_KEY = 'forja.token';
const GROUP_KEY = 'forja.group';

export function readStored(key: string): string | undefined {
  try {
    return localStorage.getItem(key) ?? undefined;
  } catch {
    // Storage can be blocked (private mode, policies); the UI then works for this tab only.
    return undefined;
  }
}

export function writeStored(key: string, value: string | undefined): void {
  try {
    if (value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    /* see readStored() */
  }
}

interface Session {
  client: ForjaClient;
  token: string | undefined;
  /** The group the UI acts in; every page's address starts with its `/g/<group>` prefix. */
  group: string | undefined;
  /** The user chose another group: the address moves to it (an object's page to its section's list). */
  setGroup(group: string | undefined): void;
  /** The page shows an object of `group`, which the user can read: act in it, on the same page. */
  followGroup(group: string): void;
  /** A group the address names that is not yet checked against the user's groups (see resolveLink). */
  linkGroup: string | undefined;
  /** Settles linkGroup: acts in it when the user may read it, else notes the refusal for the history entry `entry`. */
  resolveLink(group: string, readable: boolean, entry: string): void;
  /** The last group a link named that the user may not read, and the history entry (router location key) it opened. */
  refusedLink: { group: string; entry: string } | undefined;
  /** Stores the session token of a successful login. */
  signIn(token: string): void;
  /** Revokes the session on the server (best effort) and forgets it here. */
  signOut(): Promise<void>;
  /** Forgets a token the server no longer accepts, without calling the server. */
  expire(): void;
}

export function newClient(options: { token?: string; group?: string } = {}): ForjaClient {
  return new ForjaClient({ baseUrl: window.location.origin, ...options });
}

const SessionContext = createContext<Session | null>(null);

/** The group the browser's address names, when it is not `current` (so it still needs checking). */
function addressedGroup(current: string | undefined): string | undefined {
  const { group } = splitGroupPath(window.location.pathname);
  return group !== undefined && group !== current ? group : undefined;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState(() => readStored(TOKEN_KEY));
  const [group, setGroupState] = useState(() => readStored(GROUP_KEY));
  const [linkGroup, setLinkGroup] = useState(() => addressedGroup(readStored(GROUP_KEY)));
  const [refusedLink, setRefusedLink] = useState<{ group: string; entry: string }>();

  // One client per (token, group): cheap to build, and queries never see a half-switched client.
  const client = useMemo(() => newClient({ token, group }), [token, group]);

  const setGroup = useCallback(
    (g: string | undefined) => {
      // A page of one group's object means nothing in another: the switch opens the section's list.
      // Before any group (first visit) the page stays: it is the page the user opened.
      if (g && group !== undefined && g !== group) window.history.pushState(null, '', groupBase(g) + sectionOf(splitGroupPath(window.location.pathname).path));
      writeStored(GROUP_KEY, g);
      setGroupState(g);
    },
    [group],
  );

  const followGroup = useCallback((g: string) => {
    writeStored(GROUP_KEY, g);
    setGroupState(g);
  }, []);

  const resolveLink = useCallback(
    (g: string, readable: boolean, entry: string) => {
      setLinkGroup((pending) => (pending === g ? undefined : pending));
      if (readable) followGroup(g);
      else setRefusedLink({ group: g, entry });
    },
    [followGroup],
  );

  // Back and forward may return to a page of another group: that address is a link to check too.
  const current = useRef(group);
  current.current = group;
  useEffect(() => {
    const onPop = () => setLinkGroup(addressedGroup(current.current));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  const signIn = useCallback(
    (t: string) => {
      queryClient.clear();
      writeStored(TOKEN_KEY, t);
      setToken(t);
    },
    [queryClient],
  );

  const expire = useCallback(() => {
    writeStored(TOKEN_KEY, undefined);
    setToken(undefined);
    queryClient.clear();
  }, [queryClient]);

  useEffect(() => {
    window.addEventListener(UNAUTHENTICATED_EVENT, expire);
    return () => window.removeEventListener(UNAUTHENTICATED_EVENT, expire);
  }, [expire]);

  const signOut = useCallback(async () => {
    try {
      await client.logout();
    } catch {
      // The token may already be revoked or expired; signing out locally is what matters.
    }
    expire();
  }, [client, expire]);

  const value = useMemo(
    () => ({ client, token, group, setGroup, followGroup, linkGroup, resolveLink, refusedLink, signIn, signOut, expire }),
    [client, token, group, setGroup, followGroup, linkGroup, resolveLink, refusedLink, signIn, signOut, expire],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export const useClient = () => useSession().client;

/**
 * On a page of one object (an experiment, a run, a model, a deployment): when it belongs to
 * another group than the current one, the UI switches to that group — the server only answered
 * because the user may read it — so the address, the group switcher and the next links agree.
 */
export function useFollowGroup(objectGroup: string | undefined): void {
  const { group, followGroup } = useSession();
  useEffect(() => {
    if (objectGroup && objectGroup !== group) followGroup(objectGroup);
  }, [objectGroup, group, followGroup]);
}

export function errorMessage(err: unknown): string {
  if (err instanceof ForjaApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export const isUnauthenticated = (err: unknown) => err instanceof ForjaApiError && err.status === 401;
export const isForbidden = (err: unknown) => err instanceof ForjaApiError && err.status === 403;
