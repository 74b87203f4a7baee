import { Badge, Button, Group, Menu, Modal, Select, SimpleGrid, Stack, Table, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { groupName, useGroups } from '../../api/hooks';
import type { ApiKey, IssuedKey, Payment, Role } from '../../api/types';
import { useApi } from '../../auth/session';
import { GrantsModal } from '../../components/GrantsModal';
import { PagedTable, usePage, useSearch } from '../../components/lists';
import { ConfirmDelete, ConfirmDialog, ErrorAlert, FormFooter, IssuedKeyModal, PageHeader } from '../../components/ui';
import { type Translate, useT } from '../../i18n';
import { formatMoney, isoToLocalInput, localInputToIso } from '../../lib/format';
import { isMoneyInput, keyStatus, limitToInput, moneyToInput, parseLimitInput } from '../../lib/forms';

type Action = { kind: 'edit' | 'recharge' | 'models' | 'reset' | 'delete'; key: ApiKey } | { kind: 'create' } | null;

function StatusBadge({ k }: { k: ApiKey }) {
  const t = useT();
  const status = keyStatus(k);
  const color = status === 'active' ? 'green' : status === 'disabled' ? 'gray' : 'orange';
  return (
    <Badge color={color} variant="light">
      {t(`key.${status}`)}
    </Badge>
  );
}

export function KeysPage() {
  const t = useT();
  const api = useApi();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const groups = useGroups();
  const { debouncedQ, offset, setOffset, searchProps } = useSearch();
  const [params] = useSearchParams();
  const [groupId, setGroupId] = useState<string | null>(params.get('group_id'));
  const [role, setRole] = useState<string | null>(null);
  const [action, setAction] = useState<Action>(null);
  const [issued, setIssued] = useState<IssuedKey | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [rowError, setRowError] = useState<unknown>(null);

  const keys = usePage<ApiKey>(
    ['keys', debouncedQ, groupId, role],
    '/admin/api-key/list',
    { q: debouncedQ, group_id: groupId, role },
    offset,
  );
  const refresh = () => qc.invalidateQueries({ queryKey: ['keys'] });

  const toggle = useMutation({
    mutationFn: (k: ApiKey) => api.post<ApiKey>(`/admin/api-key/${keyStatus(k) === 'disabled' ? 'enable' : 'disable'}`, { id: k.id }),
    onMutate: () => setRowError(null),
    onSuccess: () => void refresh(),
    onError: (e) => setRowError(e),
  });

  const groupOptions = (groups.data?.items ?? []).map((g) => ({ value: String(g.id), label: g.name }));

  return (
    <>
      <PageHeader title={t('nav.keys')}>
        <Button onClick={() => setAction({ kind: 'create' })}>{t('key.create')}</Button>
      </PageHeader>
      <Group mb="sm" align="flex-end" wrap="wrap">
        <TextInput placeholder={t('key.searchPlaceholder')} {...searchProps} />
        <Select
          label={t('key.group')}
          data={groupOptions}
          value={groupId}
          onChange={(v) => {
            setGroupId(v);
            setOffset(0);
          }}
          clearable
          placeholder={t('common.all')}
        />
        <Select
          label={t('key.role')}
          data={['admin', 'user']}
          value={role}
          onChange={(v) => {
            setRole(v);
            setOffset(0);
          }}
          clearable
          placeholder={t('common.all')}
        />
      </Group>
      {notice && (
        <Text c="teal" size="sm" mb="sm" role="status" data-testid="notice">
          {notice}
        </Text>
      )}
      {rowError !== null && <ErrorAlert error={rowError} />}
      <PagedTable
        query={keys}
        minWidth={900}
        columns={[
          t('common.id'),
          t('common.name'),
          t('key.role'),
          t('key.group'),
          t('key.hint'),
          t('key.status'),
          t('key.monthFee'),
          t('key.balance'),
        ]}
        actions
        offset={offset}
        onOffset={setOffset}
      >
        {(k) => (
          <Table.Tr key={k.id} data-testid={`key-row-${k.id}`}>
            <Table.Td>{k.id}</Table.Td>
            <Table.Td>
              <Text size="sm" fw={500}>
                {k.name}
              </Text>
              <Text size="xs" c="dimmed">
                {k.email}
              </Text>
            </Table.Td>
            <Table.Td>{k.role}</Table.Td>
            <Table.Td>{groupName(groups.data?.items, k.group_id)}</Table.Td>
            <Table.Td>
              <Text size="xs" ff="monospace">
                {k.key_hint}
              </Text>
            </Table.Td>
            <Table.Td>
              <StatusBadge k={k} />
            </Table.Td>
            <Table.Td>{t('key.quotaUse', { fee: formatMoney(k.month_fee), quota: formatMoney(k.month_quota) })}</Table.Td>
            <Table.Td data-testid={`key-balance-${k.id}`}>{formatMoney(k.balance)}</Table.Td>
            <Table.Td>
              <Menu position="bottom-end" withinPortal>
                <Menu.Target>
                  <Button size="xs" variant="light" aria-label={`${t('common.actions')}: ${k.name}`}>
                    {t('common.actions')}
                  </Button>
                </Menu.Target>
                <Menu.Dropdown>
                  <Menu.Item onClick={() => setAction({ kind: 'edit', key: k })}>{t('common.edit')}</Menu.Item>
                  <Menu.Item onClick={() => setAction({ kind: 'recharge', key: k })}>{t('key.recharge')}</Menu.Item>
                  <Menu.Item onClick={() => setAction({ kind: 'models', key: k })}>{t('key.models')}</Menu.Item>
                  <Menu.Item onClick={() => void navigate(`/payments?key_id=${k.id}`)}>{t('key.payments')}</Menu.Item>
                  <Menu.Item onClick={() => void navigate(`/threads?key_id=${k.id}`)}>{t('nav.threads')}</Menu.Item>
                  <Menu.Item onClick={() => toggle.mutate(k)}>{keyStatus(k) === 'disabled' ? t('key.enable') : t('key.disable')}</Menu.Item>
                  <Menu.Divider />
                  <Menu.Item color="orange" onClick={() => setAction({ kind: 'reset', key: k })}>
                    {t('key.reset')}
                  </Menu.Item>
                  <Menu.Item color="red" onClick={() => setAction({ kind: 'delete', key: k })}>
                    {t('common.delete')}
                  </Menu.Item>
                </Menu.Dropdown>
              </Menu>
            </Table.Td>
          </Table.Tr>
        )}
      </PagedTable>

      <KeyFormModal
        action={action?.kind === 'create' ? action : action?.kind === 'edit' ? { kind: 'edit', key: action.key } : null}
        groupOptions={groupOptions}
        onClose={() => setAction(null)}
        onSaved={(saved) => {
          setAction(null);
          void refresh();
          if ('api_key' in saved) setIssued(saved);
          else setNotice(t('common.saved'));
        }}
      />
      <RechargeModal
        apiKey={action?.kind === 'recharge' ? action.key : null}
        onClose={() => setAction(null)}
        onDone={(payment) => {
          setAction(null);
          setNotice(t('key.recharged', { balance: formatMoney(payment.balance_after) }));
          void refresh();
          void qc.invalidateQueries({ queryKey: ['payments'] });
        }}
      />
      <GrantsModal
        grantee={action?.kind === 'models' ? { kind: 'key', id: action.key.id, name: action.key.name } : null}
        onClose={() => setAction(null)}
      />
      <ConfirmDialog
        opened={action?.kind === 'reset'}
        title={t('key.reset')}
        color="orange"
        message={action?.kind === 'reset' ? t('key.resetConfirm', { name: action.key.name }) : ''}
        onClose={() => setAction(null)}
        onConfirm={async () => {
          if (action?.kind !== 'reset') return;
          const reset = await api.post<IssuedKey>('/admin/api-key/reset', { id: action.key.id });
          setIssued(reset);
          void refresh();
        }}
      />
      <ConfirmDelete
        item={action?.kind === 'delete' ? action.key : null}
        onClose={() => setAction(null)}
        onDelete={async (k) => {
          await api.post('/admin/api-key/delete', { id: k.id });
          setNotice(t('common.deleted'));
          void refresh();
        }}
      />
      <IssuedKeyModal
        title={issued ? t('key.issuedTitle', { name: issued.name }) : ''}
        apiKey={issued?.api_key ?? null}
        onClose={() => setIssued(null)}
      />
    </>
  );
}

interface KeyForm {
  name: string;
  email: string;
  role: Role;
  group_id: string | null;
  month_quota: string;
  balance: string;
  rpm_limit: string;
  tpm_limit: string;
  max_parallel: string;
  expires_at: string;
}

function initialForm(k?: ApiKey): KeyForm {
  return {
    name: k?.name ?? '',
    email: k?.email ?? '',
    role: k?.role ?? 'user',
    group_id: k?.group_id ? String(k.group_id) : null,
    month_quota: k ? moneyToInput(k.month_quota) : '0',
    balance: '',
    rpm_limit: limitToInput(k?.rpm_limit),
    tpm_limit: limitToInput(k?.tpm_limit),
    max_parallel: limitToInput(k?.max_parallel),
    expires_at: isoToLocalInput(k?.expires_at),
  };
}

function validateKeyForm(f: KeyForm, creating: boolean, t: Translate): Partial<Record<keyof KeyForm, string>> {
  const errors: Partial<Record<keyof KeyForm, string>> = {};
  if (!f.name.trim()) errors.name = t('common.required');
  if (!isMoneyInput(f.month_quota, { optional: true })) errors.month_quota = t('common.invalidMoney');
  if (creating && !isMoneyInput(f.balance, { optional: true })) errors.balance = t('common.invalidMoney');
  for (const field of ['rpm_limit', 'tpm_limit', 'max_parallel'] as const) {
    if (parseLimitInput(f[field]) === undefined) errors[field] = t('common.invalidInt');
  }
  return errors;
}

function KeyFormModal({
  action,
  groupOptions,
  onClose,
  onSaved,
}: {
  action: { kind: 'create' } | { kind: 'edit'; key: ApiKey } | null;
  groupOptions: Array<{ value: string; label: string }>;
  onClose: () => void;
  onSaved: (saved: ApiKey | IssuedKey) => void;
}) {
  const t = useT();
  const editing = action?.kind === 'edit' ? action.key : undefined;
  return (
    <Modal
      opened={action !== null}
      onClose={onClose}
      size="lg"
      title={editing ? t('key.editTitle', { name: editing.name }) : t('key.createTitle')}
    >
      {action && (
        <KeyFormBody key={editing?.id ?? 'new'} editing={editing} groupOptions={groupOptions} onCancel={onClose} onSaved={onSaved} />
      )}
    </Modal>
  );
}

function KeyFormBody({
  editing,
  groupOptions,
  onCancel,
  onSaved,
}: {
  editing?: ApiKey;
  groupOptions: Array<{ value: string; label: string }>;
  onCancel: () => void;
  onSaved: (saved: ApiKey | IssuedKey) => void;
}) {
  const t = useT();
  const api = useApi();
  const [form, setForm] = useState<KeyForm>(() => initialForm(editing));
  const [errors, setErrors] = useState<Partial<Record<keyof KeyForm, string>>>({});
  const set = <K extends keyof KeyForm>(field: K, value: KeyForm[K]) => setForm((f) => ({ ...f, [field]: value }));
  const save = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = {
        name: form.name.trim(),
        email: form.email.trim(),
        role: form.role,
        group_id: form.group_id ? Number(form.group_id) : null,
        month_quota: form.month_quota.trim() || '0',
        rpm_limit: parseLimitInput(form.rpm_limit),
        tpm_limit: parseLimitInput(form.tpm_limit),
        max_parallel: parseLimitInput(form.max_parallel),
      };
      // The picker shows minutes only: an expiry left untouched on edit is not sent, so its seconds are kept.
      if (!editing || form.expires_at !== isoToLocalInput(editing.expires_at)) body.expires_at = localInputToIso(form.expires_at);
      if (editing) return api.post<ApiKey>('/admin/api-key/update', { id: editing.id, ...body });
      if (form.balance.trim()) body.balance = form.balance.trim();
      return api.post<IssuedKey>('/admin/api-key/apply', body);
    },
    onSuccess: onSaved,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = validateKeyForm(form, !editing, t);
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate();
  };
  const text = (field: keyof KeyForm) => ({
    value: form[field] ?? '',
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => set(field, e.currentTarget.value as never),
    error: errors[field],
  });
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={t('common.name')} required {...text('name')} />
          <TextInput label={t('key.email')} type="email" {...text('email')} />
          <Select
            label={t('key.role')}
            data={['user', 'admin']}
            value={form.role}
            onChange={(v) => set('role', (v ?? 'user') as Role)}
            allowDeselect={false}
          />
          <Select
            label={t('key.group')}
            data={groupOptions}
            value={form.group_id}
            onChange={(v) => set('group_id', v)}
            clearable
            placeholder={t('common.none')}
          />
          <TextInput label={t('key.monthQuota')} inputMode="decimal" {...text('month_quota')} />
          {!editing && <TextInput label={t('key.openingBalance')} inputMode="decimal" {...text('balance')} />}
        </SimpleGrid>
        <Text fw={600} size="sm">
          {t('key.limits')}
        </Text>
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <TextInput label={t('key.rpm')} inputMode="numeric" placeholder={t('common.unlimited')} {...text('rpm_limit')} />
          <TextInput label={t('key.tpm')} inputMode="numeric" placeholder={t('common.unlimited')} {...text('tpm_limit')} />
          <TextInput label={t('key.parallel')} inputMode="numeric" placeholder={t('common.unlimited')} {...text('max_parallel')} />
        </SimpleGrid>
        <TextInput label={t('key.expiresAt')} type="datetime-local" description={t('key.never')} {...text('expires_at')} />
        <FormFooter mutation={save} onCancel={onCancel} submitLabel={editing ? t('common.save') : t('common.create')} />
      </Stack>
    </form>
  );
}

function RechargeModal({ apiKey, onClose, onDone }: { apiKey: ApiKey | null; onClose: () => void; onDone: (p: Payment) => void }) {
  const t = useT();
  const api = useApi();
  const [amount, setAmount] = useState('');
  const [invalid, setInvalid] = useState(false);
  const recharge = useMutation({
    mutationFn: () => api.post<Payment>('/admin/api-key/recharge', { id: apiKey!.id, balance: amount.trim() }),
    onSuccess: (p) => {
      setAmount('');
      onDone(p);
    },
  });
  const close = () => {
    setAmount('');
    setInvalid(false);
    recharge.reset();
    onClose();
  };
  return (
    <Modal opened={apiKey !== null} onClose={close} title={apiKey ? t('key.rechargeTitle', { name: apiKey.name }) : ''}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const ok = isMoneyInput(amount, { positive: true });
          setInvalid(!ok);
          if (ok) recharge.mutate();
        }}
        noValidate
      >
        <Stack>
          {apiKey && (
            <Text size="sm">
              {t('key.balance')}: {formatMoney(apiKey.balance)}
            </Text>
          )}
          <TextInput
            label={t('key.amount')}
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.currentTarget.value)}
            error={invalid ? t('common.invalidMoney') : undefined}
            data-autofocus
          />
          <FormFooter mutation={recharge} onCancel={close} submitLabel={t('key.recharge')} />
        </Stack>
      </form>
    </Modal>
  );
}
