import { Table, Text, TextInput } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import type { Page, Payment } from '../../api/types';
import { useApi } from '../../auth/session';
import { PageHeader, Pager, QueryState } from '../../components/ui';
import { useT } from '../../i18n';
import { formatDateTime, formatMoney } from '../../lib/format';

const LIMIT = 20;

export function PaymentsPage() {
  const t = useT();
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const keyId = params.get('key_id') ?? '';
  const [offset, setOffset] = useState(0);
  const validKey = /^\d*$/.test(keyId);
  const payments = useQuery({
    queryKey: ['payments', keyId, offset],
    queryFn: () => api.get<Page<Payment>>('/admin/payment/list', { key_id: keyId, limit: LIMIT, offset }),
    placeholderData: keepPreviousData,
    enabled: validKey,
  });
  return (
    <>
      <PageHeader title={t('nav.payments')} />
      <TextInput
        mb="sm"
        maw={200}
        label={t('payment.keyFilter')}
        inputMode="numeric"
        value={keyId}
        error={validKey ? undefined : t('common.invalidInt')}
        onChange={(e) => {
          const v = e.currentTarget.value.trim();
          setParams(v ? { key_id: v } : {}, { replace: true });
          setOffset(0);
        }}
      />
      <QueryState query={payments}>
        {(page) => (
          <>
            <Table.ScrollContainer minWidth={500}>
              <Table striped>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('common.id')}</Table.Th>
                    <Table.Th>{t('record.key')}</Table.Th>
                    <Table.Th>{t('payment.amount')}</Table.Th>
                    <Table.Th>{t('payment.balanceAfter')}</Table.Th>
                    <Table.Th>{t('common.created')}</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((p) => (
                    <Table.Tr key={p.id}>
                      <Table.Td>{p.id}</Table.Td>
                      <Table.Td>#{p.key_id}</Table.Td>
                      <Table.Td>{formatMoney(p.amount)}</Table.Td>
                      <Table.Td>{formatMoney(p.balance_after)}</Table.Td>
                      <Table.Td>{formatDateTime(p.created_at)}</Table.Td>
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
