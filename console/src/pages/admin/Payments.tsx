import { Table, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import type { Payment } from '../../api/types';
import { PagedTable, usePage } from '../../components/lists';
import { PageHeader } from '../../components/ui';
import { useT } from '../../i18n';
import { formatDateTime, formatMoney } from '../../lib/format';

export function PaymentsPage() {
  const t = useT();
  const [params, setParams] = useSearchParams();
  const keyId = params.get('key_id') ?? '';
  const [offset, setOffset] = useState(0);
  const validKey = /^\d*$/.test(keyId);
  const payments = usePage<Payment>(['payments', keyId], '/admin/payment/list', { key_id: keyId }, offset, validKey);
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
      <PagedTable
        query={payments}
        minWidth={500}
        highlightOnHover={false}
        columns={[t('common.id'), t('record.key'), t('payment.amount'), t('payment.balanceAfter'), t('common.created')]}
        offset={offset}
        onOffset={setOffset}
      >
        {(p) => (
          <Table.Tr key={p.id}>
            <Table.Td>{p.id}</Table.Td>
            <Table.Td>#{p.key_id}</Table.Td>
            <Table.Td>{formatMoney(p.amount)}</Table.Td>
            <Table.Td>{formatMoney(p.balance_after)}</Table.Td>
            <Table.Td>{formatDateTime(p.created_at)}</Table.Td>
          </Table.Tr>
        )}
      </PagedTable>
    </>
  );
}
