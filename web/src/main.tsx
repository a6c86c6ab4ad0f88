import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { ForjaApiError } from '@forja/client';
import { SessionProvider } from './session';
import { GroupRouter } from './group-routing';
import { translateMlflowAddress } from './links';
import { App } from './App';
import { UNAUTHENTICATED_EVENT } from './auth-events';
import './styles.css';

const signalIfUnauthenticated = (err: unknown, anonymous = false) => {
  if (!anonymous && err instanceof ForjaApiError && err.status === 401) window.dispatchEvent(new Event(UNAUTHENTICATED_EVENT));
};

const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError: (err) => signalIfUnauthenticated(err) }),
  mutationCache: new MutationCache({ onError: (err, _v, _c, mutation) => signalIfUnauthenticated(err, mutation.meta?.anonymous === true) }),
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      refetchOnWindowFocus: false,
      // The SDK already retries connection errors and 502-504; a 4xx will not get better by asking again.
      retry: (count, err) => !(err instanceof ForjaApiError && err.status < 500) && count < 1,
    },
  },
});

// Before anything reads the address: the links MLflow's client prints are hash routes.
translateMlflowAddress(window.location, window.history);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <GroupRouter>
          <App />
        </GroupRouter>
      </SessionProvider>
    </QueryClientProvider>
  </StrictMode>,
);
