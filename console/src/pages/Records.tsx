import { Anchor, Badge, Button, Code, Group, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import type { Session, Thread } from '../api/types';
import { useApi } from '../auth/session';
import { PagedTable, usePage } from '../components/lists';
import { Field, PageHeader, QueryState } from '../components/ui';
import { useT } from '../i18n';
import { formatDateTime, formatLatency, formatMoney, formatTokens } from '../lib/format';

/**
 * Sessions and threads, for an admin (every key: /admin/session|thread/*) or for the signed-in key alone
 * (/user/session|thread/*, where the key filter is the caller and cannot be chosen).
 */
type Scope = 'admin' | 'user';

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

/** A numeric id to filter by (key, session), trimmed as typed. */
function IdFilter({ label, value, onChange }: { label: string; value: string; onChange: (v: string) => void }) {
  return <TextInput label={label} inputMode="numeric" value={value} onChange={(e) => onChange(e.currentTarget.value.trim())} w={120} />;
}

export function SessionsPage({ scope }: { scope: Scope }) {
  const t = useT();
  const navigate = useNavigate();
  const p = paths(scope);
  const [q, setQ] = useUrlFilter('q');
  const [keyId, setKeyId] = useUrlFilter('key_id');
  const [offset, setOffset] = useState(0);
  const sessions = usePage<Session>(
    [scope, 'sessions', q, keyId],
    `${p.api}/session/list`,
    { q, key_id: scope === 'admin' ? keyId : undefined },
    offset,
  );
  return (
    <>
      <PageHeader title={t(scope === 'admin' ? 'nav.sessions' : 'nav.mySessions')} />
      <Group mb="sm" align="flex-end">
        <SearchInput label={t('common.search')} value={q} onChange={(v) => (setQ(v), setOffset(0))} />
        {scope === 'admin' && <IdFilter label={t('record.keyId')} value={keyId} onChange={(v) => (setKeyId(v), setOffset(0))} />}
      </Group>
      <PagedTable
        query={sessions}
        minWidth={700}
        columns={[
          t('common.id'),
          t('record.title'),
          scope === 'admin' && t('record.key'),
          t('record.sessionKey'),
          t('record.threads'),
          t('record.tokens'),
          t('record.fee'),
          t('common.updated'),
        ]}
        offset={offset}
        onOffset={setOffset}
      >
        {(s) => (
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
        )}
      </PagedTable>
    </>
  );
}

export function ThreadsPage({ scope }: { scope: Scope }) {
  const t = useT();
  const p = paths(scope);
  const [q, setQ] = useUrlFilter('q');
  const [keyId, setKeyId] = useUrlFilter('key_id');
  const [sessionId, setSessionId] = useUrlFilter('session_id');
  const [offset, setOffset] = useState(0);
  const threads = usePage<Thread>(
    [scope, 'threads', q, keyId, sessionId],
    `${p.api}/thread/list`,
    { q, key_id: scope === 'admin' ? keyId : undefined, session_id: sessionId },
    offset,
  );
  return (
    <>
      <PageHeader title={t(scope === 'admin' ? 'nav.threads' : 'nav.myThreads')} />
      <Group mb="sm" align="flex-end" wrap="wrap">
        <SearchInput label={t('record.search')} value={q} onChange={(v) => (setQ(v), setOffset(0))} />
        {scope === 'admin' && <IdFilter label={t('record.keyId')} value={keyId} onChange={(v) => (setKeyId(v), setOffset(0))} />}
        <IdFilter label={t('record.sessionId')} value={sessionId} onChange={(v) => (setSessionId(v), setOffset(0))} />
      </Group>
      {/^\d+$/.test(sessionId) && <SessionSummary scope={scope} id={sessionId} />}
      <PagedTable
        query={threads}
        minWidth={900}
        columns={[
          t('common.id'),
          t('common.created'),
          scope === 'admin' && t('record.key'),
          t('record.model'),
          t('record.prompt'),
          t('record.tokens'),
          t('record.fee'),
          t('record.totalLatency'),
          t('record.status'),
        ]}
        offset={offset}
        onOffset={setOffset}
      >
        {(th) => (
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
        )}
      </PagedTable>
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
