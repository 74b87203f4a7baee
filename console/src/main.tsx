import '@mantine/core/styles.css';
import '@mantine/charts/styles.css';
import './styles.css';
import { createTheme, MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { loadConfig } from './api/client';
import { AuthProvider } from './auth/session';
import { I18nProvider } from './i18n';

const theme = createTheme({ primaryColor: 'indigo', defaultRadius: 'sm' });

const queryClient = new QueryClient({
  defaultOptions: {
    // An API error is shown with its message at once; retrying a 403 or 404 only delays that.
    queries: { retry: false, refetchOnWindowFocus: false, staleTime: 5_000 },
  },
});

void loadConfig(fetch, `${import.meta.env.BASE_URL}config.json`).then((config) =>
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <MantineProvider theme={theme} defaultColorScheme="light">
        <QueryClientProvider client={queryClient}>
          <I18nProvider>
            <AuthProvider config={config}>
              <App />
            </AuthProvider>
          </I18nProvider>
        </QueryClientProvider>
      </MantineProvider>
    </StrictMode>,
  ),
);
