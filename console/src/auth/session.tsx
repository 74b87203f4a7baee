import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useMemo, useRef, useState, useEffect } from 'react';
import { ApiError, type ApiClient, type ApiConfig, createApiClient } from '../api/client';
import type { ApiKey } from '../api/types';

/**
 * The signed-in key: in memory, mirrored to sessionStorage so that a reload of the tab keeps it, and never in
 * localStorage (it must not outlive the tab). Its role comes from GET /user/api-key/mine, which any key may call.
 */
const STORAGE_KEY = 'bedrock-gateway-console.key';

function readStoredKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

function storeKey(key: string | null): void {
  try {
    if (key) sessionStorage.setItem(STORAGE_KEY, key);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* a tab without storage just forgets the key on reload */
  }
}

interface Auth {
  client: ApiClient;
  /** The caller's key as /user/api-key/mine shows it; null when signed out. */
  me: ApiKey | null;
  isAdmin: boolean;
  /** True while a key kept in sessionStorage is being checked at start. */
  restoring: boolean;
  signIn: (key: string) => Promise<void>;
  signOut: () => void;
  /** Why the tab was signed out without asking (the key stopped working), until the next sign-in. */
  signedOutReason: string | null;
  /** Why the kept key could not be checked at start (not a 401: the key is kept); null otherwise. */
  restoreError: unknown;
  /** Checks the kept key again after a restoreError. */
  retryRestore: () => void;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ config, children }: { config: ApiConfig; children: ReactNode }) {
  const queryClient = useQueryClient();
  const keyRef = useRef<string | null>(readStoredKey());
  const client = useMemo(() => createApiClient({ ...config, getKey: () => keyRef.current }), [config]);
  const [me, setMe] = useState<ApiKey | null>(null);
  const [restoring, setRestoring] = useState(keyRef.current !== null);
  const [signedOutReason, setSignedOutReason] = useState<string | null>(null);

  // The kept key is checked once at start (and again on retryRestore). A 401 means it stopped working while the tab
  // was away: it is dropped and the sign-in page says why. Any other failure (the gateway unreachable, a 503) says
  // nothing about the key: it is kept, and the sign-in page offers to try again.
  const [restoreError, setRestoreError] = useState<unknown>(null);
  const [restoreAttempt, setRestoreAttempt] = useState(0);
  useEffect(() => {
    if (!keyRef.current) return;
    let cancelled = false;
    client
      .get<ApiKey>('/user/api-key/mine')
      .then((mine) => {
        if (cancelled) return;
        setRestoreError(null);
        setMe(mine);
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        if (error instanceof ApiError && error.status === 401) {
          keyRef.current = null;
          storeKey(null);
          setRestoreError(null);
          setSignedOutReason(error.message);
        } else {
          setRestoreError(error);
        }
      })
      .finally(() => !cancelled && setRestoring(false));
    return () => {
      cancelled = true;
    };
  }, [client, restoreAttempt]);

  const retryRestore = useCallback(() => {
    if (!keyRef.current) return;
    setRestoring(true);
    setRestoreAttempt((n) => n + 1);
  }, []);

  const signIn = useCallback(
    async (key: string) => {
      const previous = keyRef.current;
      keyRef.current = key.trim();
      try {
        const mine = await client.get<ApiKey>('/user/api-key/mine');
        storeKey(keyRef.current);
        queryClient.clear();
        setSignedOutReason(null);
        setRestoreError(null);
        setMe(mine);
      } catch (e) {
        keyRef.current = previous;
        throw e;
      }
    },
    [client, queryClient],
  );

  const signOut = useCallback(() => {
    keyRef.current = null;
    storeKey(null);
    queryClient.clear();
    setRestoreError(null);
    setMe(null);
  }, [queryClient]);

  // A key that stops working meanwhile (reset, deleted, disabled, expired) signs the tab out, with the reason.
  useEffect(
    () =>
      queryClient.getQueryCache().subscribe((event) => {
        if (event.type !== 'updated' || event.action.type !== 'error') return;
        const error: unknown = event.action.error;
        if (error instanceof ApiError && error.status === 401 && keyRef.current) {
          keyRef.current = null;
          storeKey(null);
          setSignedOutReason(error.message);
          setMe(null);
          queryClient.clear();
        }
      }),
    [queryClient],
  );

  const value = useMemo<Auth>(
    () => ({
      client,
      me,
      isAdmin: me?.role === 'admin',
      restoring,
      signIn,
      signOut,
      signedOutReason,
      restoreError,
      retryRestore,
    }),
    [client, me, restoring, signIn, signOut, signedOutReason, restoreError, retryRestore],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}

export function useApi(): ApiClient {
  return useAuth().client;
}
