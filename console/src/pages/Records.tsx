import { Anchor, Badge, Button, Code, Group, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import type { Page, Session, Thread } from '../api/types';
import { useApi } from '../auth/session';
import { Field, PageHeader, Pager, QueryState } from '../components/ui';
import { useT } from '../i18n';
import { formatDateTime, formatLatency, formatMoney, formatTokens } from '../lib/format';

/**
 * Sessions and threads, for an admin (every key: /admin/session|thread/*) or for the signed-in key alone
 * (/user/session|thread/*, where the key filter is the caller and cannot be chosen).
 */
type Scope = 'admin' | 'user';
const LIMIT = 20;

const paths = (scope: Scope) =>
  scope === 'admin'
    ? { api: '/admin', threads: '/threads', sessions: '/sessions' }
    : { api: '/user', threads: '/my/threads', sessions: '/my/sessions' };

/** A filter kept in the URL, so a filtered list can be linked to and survives a reload. */
function useUrlFilter(name: string): [string, (v: string) => void] {
  const [params, setParams] = useSearchParams();
  const value = params.get(name) ?? '';
  const set = (v: string) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (v) next.set(name, v);
        else next.delete(name);
        return next;
      },
      { replace: true },
    );
  return [value, set];
}

function StatusBadge({ status }: { status: string }) {
  return (
    <Badge variant="light" color={status === 'ok' ? 'green' : status === 'error' || status === 'failed' ? 'red' : 'gray'}>
      {status}
    </Badge>
  );
}

function SearchInput({ value, onChange, label }: { value: string; onChange: (v: string) => void; label: string }) {
  const [text, setText] = useState(value);
  const [debounced] = useDebouncedValue(text, 300);
  useEffect(() => {
    if (debounced !== value) onChange(debounced);
  }, [debounced]);
  return <TextInput label={label} value={text} onChange={(e) => setText(e.currentTarget.value)} />;
}

export function SessionsPage({ scope }: { scope: Scope }) {
  const t = useT();
  const api = useApi();
  const navigate = useNavigate();
  const p = paths(scope);
  const [q, setQ] = useUrlFilter('q');
  const [keyId, setKeyId] = useUrlFilter('key_id');
  const [offset, setOffset] = useState(0);
  const sessions = useQuery({
    queryKey: [scope, 'sessions', q, keyId, offset],
    queryFn: () =>
      api.get<Page<Session>>(`${p.api}/session/list`, { q, key_id: scope === 'admin' ? keyId : undefined, limit: LIMIT, offset }),
    placeholderData: keepPreviousData,
  });
  return (
    <>
      <PageHeader title={t(scope === 'admin' ? 'nav.sessions' : 'nav.mySessions')} />
      <Group mb="sm" align="flex-end">
        <SearchInput label={t('common.search')} value={q} onChange={(v) => (setQ(v), setOffset(0))} />
        {scope === 'admin' && (
          <TextInput
            label={t('record.keyId')}
            inputMode="numeric"
            value={keyId}
            onChange={(e) => (setKeyId(e.currentTarget.value.trim()), setOffset(0))}
            w={120}
          />
        )}
      </Group>
      <QueryState query={sessions}>
        {(page) => (
          <>
            <Table.ScrollContainer minWidth={700}>
              <Table striped highlightOnHover>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('common.id')}</Table.Th>
                    <Table.Th>{t('record.title')}</Table.Th>
                    {scope === 'admin' && <Table.Th>{t('record.key')}</Table.Th>}
                    <Table.Th>{t('record.sessionKey')}</Table.Th>
                    <Table.Th>{t('record.threads')}</Table.Th>
                    <Table.Th>{t('record.tokens')}</Table.Th>
                    <Table.Th>{t('record.fee')}</Table.Th>
                    <Table.Th>{t('common.updated')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((s) => (
                    <Table.Tr key={s.id}>
                      <Table.Td>{s.id}</Table.Td>
                      <Table.Td>
                        <Anchor component="button" type="button" size="sm" onClick={() => void navigate(`${p.threads}?session_id=${s.id}`)}>
                          {s.title || `#${s.id}`}
                        </Anchor>
                      </Table.Td>
                      {scope === 'admin' && <Table.Td>#{s.key_id}</Table.Td>}
                      <Table.Td>
                        <Text size="xs" ff="monospace">
                          {s.session_key}
                        </Text>
                      </Table.Td>
                      <Table.Td>{s.thread_count ?? '—'}</Table.Td>
                      <Table.Td>
                        {formatTokens(s.tokens_in)} / {formatTokens(s.tokens_out)}
                      </Table.Td>
                      <Table.Td>{formatMoney(s.fee)}</Table.Td>
                      <Table.Td>{formatDateTime(s.updated_at)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {page.items.length === 0 && <Text p="md">{t('common.empty')}</Text>}
            <Pager total={page.total} limit={LIMIT} offset={offset} onChange={setOffset} />
          </>
        )}
      </QueryState>
    </>
  );
}

export function ThreadsPage({ scope }: { scope: Scope }) {
  const t = useT();
  const api = useApi();
  const p = paths(scope);
  const [q, setQ] = useUrlFilter('q');
  const [keyId, setKeyId] = useUrlFilter('key_id');
  const [sessionId, setSessionId] = useUrlFilter('session_id');
  const [offset, setOffset] = useState(0);
  const threads = useQuery({
    queryKey: [scope, 'threads', q, keyId, sessionId, offset],
    queryFn: () =>
      api.get<Page<Thread>>(`${p.api}/thread/list`, {
        q,
        key_id: scope === 'admin' ? keyId : undefined,
        session_id: sessionId,
        limit: LIMIT,
        offset,
      }),
    placeholderData: keepPreviousData,
  });
  return (
    <>
      <PageHeader title={t(scope === 'admin' ? 'nav.threads' : 'nav.myThreads')} />
      <Group mb="sm" align="flex-end" wrap="wrap">
        <SearchInput label={t('record.search')} value={q} onChange={(v) => (setQ(v), setOffset(0))} />
        {scope === 'admin' && (
          <TextInput
            label={t('record.keyId')}
            inputMode="numeric"
            value={keyId}
            onChange={(e) => (setKeyId(e.currentTarget.value.trim()), setOffset(0))}
            w={120}
          />
        )}
        <TextInput
          label={t('record.sessionId')}
          inputMode="numeric"
          value={sessionId}
          onChange={(e) => (setSessionId(e.currentTarget.value.trim()), setOffset(0))}
          w={120}
        />
      </Group>
      {/^\d+$/.test(sessionId) && <SessionSummary scope={scope} id={sessionId} />}
      <QueryState query={threads}>
        {(page) => (
          <>
            <Table.ScrollContainer minWidth={900}>
              <Table striped highlightOnHover>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('common.id')}</Table.Th>
                    <Table.Th>{t('common.created')}</Table.Th>
                    {scope === 'admin' && <Table.Th>{t('record.key')}</Table.Th>}
                    <Table.Th>{t('record.model')}</Table.Th>
                    <Table.Th>{t('record.prompt')}</Table.Th>
                    <Table.Th>{t('record.tokens')}</Table.Th>
                    <Table.Th>{t('record.fee')}</Table.Th>
                    <Table.Th>{t('record.totalLatency')}</Table.Th>
                    <Table.Th>{t('record.status')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((th) => (
                    <Table.Tr key={th.id} data-testid={`thread-row-${th.id}`}>
                      <Table.Td>
                        <Anchor component={Link} to={`${p.threads}/${th.id}`} size="sm">
                          {th.id}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>{formatDateTime(th.created_at)}</Table.Td>
                      {scope === 'admin' && <Table.Td>#{th.key_id}</Table.Td>}
                      <Table.Td>{th.model}</Table.Td>
                      <Table.Td maw={320}>
                        <Text size="sm" lineClamp={2}>
                          {th.prompt}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        {formatTokens(th.tokens_in)} / {formatTokens(th.tokens_out)}
                      </Table.Td>
                      <Table.Td data-testid={`thread-fee-${th.id}`}>{formatMoney(th.fee)}</Table.Td>
                      <Table.Td>{formatLatency(th.total_latency)}</Table.Td>
                      <Table.Td>
                        <StatusBadge status={th.status} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {page.items.length === 0 && <Text p="md">{t('common.empty')}</Text>}
            <Pager total={page.total} limit={LIMIT} offset={offset} onChange={setOffset} />
          </>
        )}
      </QueryState>
    </>
  );
}

/** The session a filtered thread list belongs to: its title, Session-Id and running totals. */
function SessionSummary({ scope, id }: { scope: Scope; id: string }) {
  const t = useT();
  const api = useApi();
  const p = paths(scope);
  const session = useQuery({ queryKey: [scope, 'session', id], queryFn: () => api.get<Session>(`${p.api}/session/detail/${id}`) });
  return (
    <Paper withBorder p="sm" mb="sm" data-testid="session-summary">
      <QueryState query={session}>
        {(s) => (
          <SimpleGrid cols={{ base: 2, sm: 3, md: 6 }} component="dl" m={0}>
            <Field label={t('record.sessionTitle', { id: s.id })}>{s.title || '—'}</Field>
            <Field label={t('record.sessionKey')}>{s.session_key}</Field>
            <Field label={t('record.threads')}>{s.thread_count ?? '—'}</Field>
            <Field label={t('record.tokensIn')}>{formatTokens(s.tokens_in)}</Field>
            <Field label={t('record.tokensOut')}>{formatTokens(s.tokens_out)}</Field>
            <Field label={t('record.fee')}>{formatMoney(s.fee)}</Field>
          </SimpleGrid>
        )}
      </QueryState>
    </Paper>
  );
}

function TextBlock({ title, text }: { title: string; text: string }) {
  if (!text) return null;
  return (
    <Paper withBorder p="sm">
      <Title order={2} size="h5" mb="xs">
        {title}
      </Title>
      <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
        {text}
      </Text>
    </Paper>
  );
}

export function ThreadDetailPage({ scope }: { scope: Scope }) {
  const t = useT();
  const api = useApi();
  const navigate = useNavigate();
  const { id } = useParams();
  const p = paths(scope);
  const thread = useQuery({
    queryKey: [scope, 'thread', id],
    queryFn: () => api.get<Thread>(`${p.api}/thread/detail/${encodeURIComponent(id ?? '')}`),
  });
  return (
    <>
      <PageHeader title={t('record.threadTitle', { id: id ?? '' })}>
        <Button variant="default" size="xs" onClick={() => void navigate(-1)}>
          {t('common.back')}
        </Button>
      </PageHeader>
      <QueryState query={thread}>
        {(th) => (
          <Stack>
            <Paper withBorder p="sm">
              <SimpleGrid cols={{ base: 2, sm: 3, md: 4 }} component="dl" m={0}>
                <Field label={t('record.model')}>{th.model}</Field>
                <Field label={t('record.status')}>
                  <StatusBadge status={th.status} />
                </Field>
                <Field label={t('record.fee')}>
                  <span data-testid="thread-fee">{formatMoney(th.fee)}</span>
                </Field>
                <Field label={t('record.finish')}>{th.finish_reason ?? '—'}</Field>
                <Field label={t('record.tokensIn')}>{formatTokens(th.tokens_in)}</Field>
                <Field label={t('record.tokensOut')}>{formatTokens(th.tokens_out)}</Field>
                <Field label={t('record.cacheRead')}>{formatTokens(th.tokens_cache_read)}</Field>
                <Field label={t('record.cacheWrite')}>{formatTokens(th.tokens_cache_write)}</Field>
                <Field label={t('record.firstByte')}>{formatLatency(th.first_byte_latency)}</Field>
                <Field label={t('record.totalLatency')}>{formatLatency(th.total_latency)}</Field>
                <Field label={t('common.created')}>{formatDateTime(th.created_at)}</Field>
                {scope === 'admin' && <Field label={t('record.key')}>#{th.key_id}</Field>}
                <Field label={t('record.session')}>
                  {th.session_id ? (
                    <Anchor component={Link} to={`${p.threads}?session_id=${th.session_id}`} size="sm">
                      #{th.session_id}
                    </Anchor>
                  ) : (
                    '—'
                  )}
                </Field>
              </SimpleGrid>
            </Paper>
            {th.error && (
              <Paper withBorder p="sm" bg="red.0">
                <Title order={2} size="h5" mb="xs">
                  {t('record.error')}
                </Title>
                <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
                  {th.error}
                </Text>
              </Paper>
            )}
            <TextBlock title={t('record.prompt')} text={th.prompt} />
            <TextBlock title={t('record.reasoning')} text={th.reasoning} />
            <TextBlock title={t('record.completion')} text={th.completion} />
            {th.tool_calls !== null && th.tool_calls !== undefined && !(Array.isArray(th.tool_calls) && th.tool_calls.length === 0) && (
              <Paper withBorder p="sm">
                <Title order={2} size="h5" mb="xs">
                  {t('record.toolCalls')}
                </Title>
                <Code block>{JSON.stringify(th.tool_calls, null, 2)}</Code>
              </Paper>
            )}
          </Stack>
        )}
      </QueryState>
    </>
  );
}
