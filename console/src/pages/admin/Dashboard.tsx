import { Group, Paper, Progress, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { ApiKey, Page, Usage } from '../../api/types';
import { useApi } from '../../auth/session';
import { UsageCharts } from '../../components/UsageCharts';
import { ErrorAlert, PageHeader, QueryState } from '../../components/ui';
import { useT } from '../../i18n';
import { addMoney, formatMoney, formatTokens } from '../../lib/format';
import { periodRange, topBy, usagePerDay } from '../../lib/usage';

type Period = 'month' | '7' | '30' | '90';

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <Paper withBorder p="sm">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} data-testid={testId}>
        {value}
      </Text>
    </Paper>
  );
}

export function DashboardPage() {
  const t = useT();
  const api = useApi();
  const [period, setPeriod] = useState<Period>('month');
  const range = periodRange(period);
  const usage = useQuery({ queryKey: ['usage', range.from, range.to], queryFn: () => api.get<Usage>('/admin/statistics/usage', range) });
  const keys = useQuery({ queryKey: ['keys', 'all'], queryFn: () => api.get<Page<ApiKey>>('/admin/api-key/list', { limit: 1000 }) });
  const keyName = (id: number) => keys.data?.items.find((k) => k.id === id)?.name ?? `#${id}`;

  return (
    <>
      <PageHeader title={t('dash.title')}>
        <SegmentedControl
          size="xs"
          aria-label={t('dash.range')}
          value={period}
          onChange={(v) => setPeriod(v as Period)}
          data={[
            { value: 'month', label: t('dash.thisMonth') },
            { value: '7', label: t('dash.last7') },
            { value: '30', label: t('dash.last30') },
            { value: '90', label: t('dash.last90') },
          ]}
        />
      </PageHeader>
      <QueryState query={usage}>
        {(u) => {
          const days = usagePerDay(u.items, u.from, u.to);
          const topKeys = topBy(u.items, 'key_id');
          const topModels = topBy(u.items, 'model');
          return (
            <Stack>
              <SimpleGrid cols={{ base: 1, xs: 3 }}>
                <Stat label={t('dash.spend')} value={formatMoney(u.totals.fee)} testId="total-spend" />
                <Stat label={t('dash.requests')} value={formatTokens(u.totals.requests)} />
                <Stat label={t('dash.tokens')} value={formatTokens(u.totals.tokens_in + u.totals.tokens_out)} />
              </SimpleGrid>
              {u.items.length === 0 && <Text c="dimmed">{t('dash.noUsage')}</Text>}
              <UsageCharts days={days} />
              <SimpleGrid cols={{ base: 1, md: 2 }}>
                <TopTable title={t('dash.topKeys')} nameHeader={t('record.key')} rows={topKeys} name={(id) => keyName(id)} />
                <TopTable title={t('dash.topModels')} nameHeader={t('record.model')} rows={topModels} name={(id) => id} />
              </SimpleGrid>
            </Stack>
          );
        }}
      </QueryState>
      <Paper withBorder p="sm" mt="md">
        <Title order={2} size="h5" mb="xs">
          {t('dash.quota')}
        </Title>
        {keys.isError ? <ErrorAlert error={keys.error} /> : <QuotaTable keys={keys.data?.items ?? []} />}
      </Paper>
    </>
  );
}

/** The largest spenders of the period (keys or models): requests, tokens and spend of each. */
function TopTable<Id extends string | number>({
  title,
  nameHeader,
  rows,
  name,
}: {
  title: string;
  nameHeader: string;
  rows: Array<{ id: Id; requests: number; tokens: number; fee: number }>;
  name: (id: Id) => string;
}) {
  const t = useT();
  return (
    <Paper withBorder p="sm">
      <Title order={2} size="h5" mb="xs">
        {title}
      </Title>
      <Table>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{nameHeader}</Table.Th>
            <Table.Th>{t('dash.requests')}</Table.Th>
            <Table.Th>{t('dash.tokens')}</Table.Th>
            <Table.Th>{t('dash.spend')}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr key={r.id}>
              <Table.Td>{name(r.id)}</Table.Td>
              <Table.Td>{formatTokens(r.requests)}</Table.Td>
              <Table.Td>{formatTokens(r.tokens)}</Table.Td>
              <Table.Td>{formatMoney(r.fee)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}

/** Each key's spend this month against its quota (largest spenders first), and the sum over all keys. */
function QuotaTable({ keys }: { keys: ApiKey[] }) {
  const t = useT();
  const sorted = [...keys].sort((a, b) => b.month_fee - a.month_fee).slice(0, 10);
  const totalFee = addMoney(...keys.map((k) => k.month_fee));
  const totalQuota = addMoney(...keys.map((k) => k.month_quota));
  return (
    <Stack gap="xs">
      <Text size="sm">{t('dash.monthTotal', { fee: formatMoney(totalFee), quota: formatMoney(totalQuota) })}</Text>
      {sorted.map((k) => {
        const pct = k.month_quota > 0 ? Math.min(100, (k.month_fee / k.month_quota) * 100) : k.month_fee > 0 ? 100 : 0;
        return (
          <Group key={k.id} wrap="nowrap" gap="sm">
            <Text size="sm" w={140} truncate>
              {k.name}
            </Text>
            <Progress
              value={pct}
              style={{ flex: 1 }}
              color={pct >= 100 ? 'red' : pct >= 80 ? 'orange' : 'indigo'}
              aria-label={`${k.name}: ${Math.round(pct)}%`}
            />
            <Text size="xs" w={170} ta="right">
              {t('key.quotaUse', { fee: formatMoney(k.month_fee), quota: formatMoney(k.month_quota) })}
            </Text>
          </Group>
        );
      })}
    </Stack>
  );
}
