import { Badge, Paper, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useMyModels } from '../../api/hooks';
import type { ApiKey, Page, Thread } from '../../api/types';
import { useApi } from '../../auth/session';
import { UsageCharts } from '../../components/UsageCharts';
import { Field, PageHeader, QueryState } from '../../components/ui';
import { useT } from '../../i18n';
import { addMoney, formatDateTime, formatMoney, formatTokens } from '../../lib/format';
import { keyStatus } from '../../lib/forms';
import { periodRange, threadsAsStats, usagePerDay } from '../../lib/usage';

export function MyKeyPage() {
  const t = useT();
  const api = useApi();
  const mine = useQuery({ queryKey: ['mine'], queryFn: () => api.get<ApiKey>('/user/api-key/mine') });
  const models = useMyModels();
  const limit = (v: number | null | undefined) => (v === null || v === undefined ? t('common.unlimited') : formatTokens(v));
  return (
    <>
      <PageHeader title={t('me.title')} />
      <QueryState query={mine}>
        {(k) => {
          const left = Math.max(0, addMoney(k.month_quota, -k.month_fee));
          const pct = k.month_quota > 0 ? Math.min(100, (k.month_fee / k.month_quota) * 100) : 0;
          const status = keyStatus(k);
          return (
            <Stack>
              <Paper withBorder p="md">
                <SimpleGrid cols={{ base: 2, sm: 3, md: 4 }} component="dl" m={0}>
                  <Field label={t('common.name')}>{k.name}</Field>
                  <Field label={t('key.hint')}>
                    <span data-testid="my-key-hint">{k.key_hint}</span>
                  </Field>
                  <Field label={t('key.role')}>{k.role}</Field>
                  <Field label={t('key.status')}>
                    <Badge variant="light" color={status === 'active' ? 'green' : 'gray'}>
                      {t(`key.${status}`)}
                    </Badge>
                  </Field>
                  <Field label={t('key.monthQuota')}>{formatMoney(k.month_quota)}</Field>
                  <Field label={t('key.monthFee')}>{formatMoney(k.month_fee)}</Field>
                  <Field label={t('me.allowance')}>{formatMoney(left)}</Field>
                  <Field label={t('key.balance')}>
                    <span data-testid="my-balance">{formatMoney(k.balance)}</span>
                  </Field>
                  <Field label={t('key.totalFee')}>{formatMoney(k.total_fee)}</Field>
                  <Field label={t('key.rpm')}>{limit(k.rpm_limit)}</Field>
                  <Field label={t('key.tpm')}>{limit(k.tpm_limit)}</Field>
                  <Field label={t('key.parallel')}>{limit(k.max_parallel)}</Field>
                  <Field label={t('key.expiresAt')}>{k.expires_at ? formatDateTime(k.expires_at) : t('key.never')}</Field>
                </SimpleGrid>
                <Progress
                  mt="md"
                  value={pct}
                  aria-label={t('key.quotaUse', { fee: formatMoney(k.month_fee), quota: formatMoney(k.month_quota) })}
                />
                <Text size="xs" c="dimmed" mt={4}>
                  {t('key.quotaUse', { fee: formatMoney(k.month_fee), quota: formatMoney(k.month_quota) })}
                </Text>
              </Paper>
            </Stack>
          );
        }}
      </QueryState>
      <Paper withBorder p="md" mt="md">
        <Title order={2} size="h5" mb="xs">
          {t('nav.models')}
        </Title>
        <QueryState query={models}>
          {(page) =>
            page.items.length === 0 ? (
              <Text size="sm">{t('play.noModels')}</Text>
            ) : (
              <Table>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('record.model')}</Table.Th>
                    <Table.Th>{t('model.priceIn')}</Table.Th>
                    <Table.Th>{t('model.priceOut')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((m) => (
                    <Table.Tr key={m.id}>
                      <Table.Td>{m.name}</Table.Td>
                      <Table.Td>{formatMoney(m.price_in)}</Table.Td>
                      <Table.Td>{formatMoney(m.price_out)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )
          }
        </QueryState>
      </Paper>
    </>
  );
}

/** Users have no statistics route: their chart adds up their own most recent threads (at most 1000). */
const USAGE_THREADS = 1000;

export function MyUsagePage() {
  const t = useT();
  const api = useApi();
  const range = periodRange('30');
  const threads = useQuery({
    queryKey: ['my-usage'],
    queryFn: async () => {
      const all: Thread[] = [];
      for (let offset = 0; offset < USAGE_THREADS; offset += 200) {
        const page = await api.get<Page<Thread>>('/user/thread/list', { limit: 200, offset });
        all.push(...page.items);
        if (page.items.length < 200 || all.length >= page.total) break;
        if (page.items[page.items.length - 1].created_at.slice(0, 10) < range.from) break;
      }
      return all;
    },
  });
  return (
    <>
      <PageHeader title={t('me.usageTitle')} />
      <QueryState query={threads}>
        {(list) => (
          <Stack>
            <Text size="sm" c="dimmed">
              {t('dash.last30')} · {t('me.usageNote', { count: list.length })}
            </Text>
            <UsageCharts days={usagePerDay(threadsAsStats(list), range.from, range.to)} />
          </Stack>
        )}
      </QueryState>
    </>
  );
}
