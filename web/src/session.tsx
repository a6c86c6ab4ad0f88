import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { ForjaApiError, ForjaClient } from '@forja/client';
import { UNAUTHENTICATED_EVENT } from './auth-events';

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
  group: string | undefined;
  setGroup(group: string | undefined): void;
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

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const [token, setToken] = useState(() => readStored(TOKEN_KEY));
  const [group, setGroupState] = useState(() => readStored(GROUP_KEY));

  // One client per (token, group): cheap to build, and queries never see a half-switched client.
  const client = useMemo(() => newClient({ token, group }), [token, group]);

  const setGroup = useCallback((g: string | undefined) => {
    writeStored(GROUP_KEY, g);
    setGroupState(g);
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

  const value = useMemo(() => ({ client, token, group, setGroup, signIn, signOut, expire }), [client, token, group, setGroup, signIn, signOut, expire]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export const useClient = () => useSession().client;

export function errorMessage(err: unknown): string {
  if (err instanceof ForjaApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export const isUnauthenticated = (err: unknown) => err instanceof ForjaApiError && err.status === 401;
export const isForbidden = (err: unknown) => err instanceof ForjaApiError && err.status === 403;
