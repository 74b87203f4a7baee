import { AppShell, Burger, Button, Group, NavLink, ScrollArea, SegmentedControl, Stack, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { type ComponentType, lazy, type ReactNode, Suspense } from 'react';
import { BrowserRouter, Navigate, NavLink as RouterNavLink, Route, Routes, useLocation } from 'react-router';
import { useAuth } from './auth/session';
import { ErrorBoundary } from './components/ErrorBoundary';
import { Loading } from './components/ui';
import { type Lang, useI18n } from './i18n';
import type { MessageKey } from './i18n/en';
import { NotFound, Refused } from './pages/Refused';
import { SignInPage } from './pages/SignIn';

// Pages load on first visit: a user key never downloads the admin pages, and the charts come with the pages that draw them.
const page = <P extends object>(load: () => Promise<ComponentType<P>>) => lazy(async () => ({ default: await load() }));
const BotsPage = page(() => import('./pages/admin/Bots').then((m) => m.BotsPage));
const DashboardPage = page(() => import('./pages/admin/Dashboard').then((m) => m.DashboardPage));
const GroupsPage = page(() => import('./pages/admin/Groups').then((m) => m.GroupsPage));
const KeysPage = page(() => import('./pages/admin/Keys').then((m) => m.KeysPage));
const ModelsPage = page(() => import('./pages/admin/Models').then((m) => m.ModelsPage));
const PaymentsPage = page(() => import('./pages/admin/Payments').then((m) => m.PaymentsPage));
const PlaygroundPage = page(() => import('./pages/Playground').then((m) => m.PlaygroundPage));
const SessionsPage = page(() => import('./pages/Records').then((m) => m.SessionsPage));
const ThreadsPage = page(() => import('./pages/Records').then((m) => m.ThreadsPage));
const ThreadDetailPage = page(() => import('./pages/Records').then((m) => m.ThreadDetailPage));
const MyKeyPage = page(() => import('./pages/user/Mine').then((m) => m.MyKeyPage));
const MyUsagePage = page(() => import('./pages/user/Mine').then((m) => m.MyUsagePage));

interface NavItem {
  to: string;
  label: MessageKey;
}

const ADMIN_NAV: NavItem[] = [
  { to: '/dashboard', label: 'nav.dashboard' },
  { to: '/keys', label: 'nav.keys' },
  { to: '/models', label: 'nav.models' },
  { to: '/groups', label: 'nav.groups' },
  { to: '/payments', label: 'nav.payments' },
  { to: '/sessions', label: 'nav.sessions' },
  { to: '/threads', label: 'nav.threads' },
  { to: '/bots', label: 'nav.bots' },
];

const USER_NAV: NavItem[] = [
  { to: '/me', label: 'nav.myKey' },
  { to: '/my/usage', label: 'nav.myUsage' },
  { to: '/my/sessions', label: 'nav.mySessions' },
  { to: '/my/threads', label: 'nav.myThreads' },
  { to: '/playground', label: 'nav.playground' },
];

export function App() {
  return (
    <BrowserRouter basename="/console">
      <Shell />
    </BrowserRouter>
  );
}

function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <SegmentedControl
      size="xs"
      aria-label={t('app.language')}
      value={lang}
      onChange={(v) => setLang(v as Lang)}
      data={[
        { value: 'en', label: 'English' },
        { value: 'zh', label: '中文' },
      ]}
    />
  );
}

function Shell() {
  const { me, restoring, isAdmin, signOut } = useAuth();
  const { t } = useI18n();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();

  if (restoring) return <Loading />;
  if (!me) {
    return (
      <Stack p="md" maw={480} mx="auto" mt="xl">
        <Group justify="space-between">
          <Title order={2} size="h3">
            {t('app.title')}
          </Title>
          <LanguageSwitch />
        </Group>
        <SignInPage />
      </Stack>
    );
  }

  const navSection = (title: MessageKey, items: NavItem[]) => (
    <Stack gap={2} component="nav" aria-label={t(title)}>
      <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" mt="sm">
        {t(title)}
      </Text>
      {items.map((item) => (
        <NavLink
          key={item.to}
          component={RouterNavLink}
          to={item.to}
          label={t(item.label)}
          active={location.pathname === item.to || location.pathname.startsWith(`${item.to}/`)}
          onClick={close}
        />
      ))}
    </Stack>
  );

  const adminOnly = (page: ReactNode) => (isAdmin ? page : <Refused />);

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <a className="skip-link" href="#main">
          {t('app.skip')}
        </a>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap" gap="xs">
          <Group gap="sm" wrap="nowrap" style={{ minWidth: 0, flex: 1 }}>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t('app.menu')} />
            <Text fw={700} truncate>
              {t('app.title')}
            </Text>
          </Group>
          <Group gap="xs" wrap="nowrap" style={{ flexShrink: 0 }}>
            <Text size="sm" c="dimmed" visibleFrom="md" data-testid="signed-in-as">
              {t('app.signedInAs', { name: me.name, role: me.role })}
            </Text>
            <LanguageSwitch />
            <Button size="xs" variant="default" onClick={signOut}>
              {t('signin.signout')}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        <ScrollArea>
          {isAdmin && navSection('nav.admin', ADMIN_NAV)}
          {navSection('nav.mine', USER_NAV)}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={location.pathname}>
          <Suspense fallback={<Loading />}>
            <Routes>
              <Route path="/" element={<Navigate to={isAdmin ? '/dashboard' : '/me'} replace />} />
              <Route path="/dashboard" element={adminOnly(<DashboardPage />)} />
              <Route path="/keys" element={adminOnly(<KeysPage />)} />
              <Route path="/models" element={adminOnly(<ModelsPage />)} />
              <Route path="/groups" element={adminOnly(<GroupsPage />)} />
              <Route path="/payments" element={adminOnly(<PaymentsPage />)} />
              <Route path="/sessions" element={adminOnly(<SessionsPage scope="admin" />)} />
              <Route path="/threads" element={adminOnly(<ThreadsPage scope="admin" />)} />
              <Route path="/threads/:id" element={adminOnly(<ThreadDetailPage scope="admin" />)} />
              <Route path="/bots" element={adminOnly(<BotsPage />)} />
              <Route path="/me" element={<MyKeyPage />} />
              <Route path="/my/usage" element={<MyUsagePage />} />
              <Route path="/my/sessions" element={<SessionsPage scope="user" />} />
              <Route path="/my/threads" element={<ThreadsPage scope="user" />} />
              <Route path="/my/threads/:id" element={<ThreadDetailPage scope="user" />} />
              <Route path="/playground" element={<PlaygroundPage />} />
              <Route path="*" element={<NotFound />} />
            </Routes>
          </Suspense>
        </ErrorBoundary>
      </AppShell.Main>
    </AppShell>
  );
}
