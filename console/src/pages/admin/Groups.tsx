import { Button, SimpleGrid, Stack, Table, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useNavigate } from 'react-router';
import type { Group as GroupRow } from '../../api/types';
import { useApi } from '../../auth/session';
import { GrantsModal } from '../../components/GrantsModal';
import { EditDeleteButtons, PagedTable, RowButton, RowDialogs, usePage, useRowDialogs, useSearch } from '../../components/lists';
import { FormFooter, PageHeader } from '../../components/ui';
import { useT } from '../../i18n';
import { formatDateTime } from '../../lib/format';
import { limitToInput, parseLimitInput } from '../../lib/forms';

const LIMIT_FIELDS = ['rpm_limit', 'tpm_limit', 'max_parallel'] as const;

export function GroupsPage() {
  const t = useT();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const { debouncedQ, offset, setOffset, searchProps } = useSearch();
  const rows = useRowDialogs<GroupRow>();
  const [grants, setGrants] = useState<GroupRow | null>(null);
  const groups = usePage<GroupRow>(['groups', debouncedQ], '/admin/group/list', { q: debouncedQ }, offset);
  const refresh = () => qc.invalidateQueries({ queryKey: ['groups'] });
  const limit = (v: number | null | undefined) => (v === null || v === undefined ? t('common.unlimited') : String(v));

  return (
    <>
      <PageHeader title={t('nav.groups')}>
        <Button onClick={() => rows.setEditing('new')}>{t('group.create')}</Button>
      </PageHeader>
      <TextInput mb="sm" maw={320} {...searchProps} />
      <PagedTable
        query={groups}
        minWidth={700}
        columns={[t('common.id'), t('common.name'), t('key.limits'), t('common.created')]}
        actions
        offset={offset}
        onOffset={setOffset}
      >
        {(g) => (
          <Table.Tr key={g.id}>
            <Table.Td>{g.id}</Table.Td>
            <Table.Td fw={500}>{g.name}</Table.Td>
            <Table.Td>
              <Text size="xs">
                rpm {limit(g.rpm_limit)} · tpm {limit(g.tpm_limit)} · ∥ {limit(g.max_parallel)}
              </Text>
            </Table.Td>
            <Table.Td>{formatDateTime(g.created_at)}</Table.Td>
            <Table.Td>
              <EditDeleteButtons name={g.name} onEdit={() => rows.setEditing(g)} onDelete={() => rows.setDeleting(g)}>
                <RowButton label={t('group.models')} name={g.name} onClick={() => setGrants(g)} />
                <RowButton label={t('group.keys')} name={g.name} onClick={() => void navigate(`/keys?group_id=${g.id}`)} />
              </EditDeleteButtons>
            </Table.Td>
          </Table.Tr>
        )}
      </PagedTable>
      <RowDialogs
        rows={rows}
        createTitle={t('group.createTitle')}
        editTitle={(g) => t('group.editTitle', { name: g.name })}
        deletePath="/admin/group/delete"
        onSaved={refresh}
        onDeleted={refresh}
      >
        {(group, form) => <GroupForm group={group} {...form} />}
      </RowDialogs>
      <GrantsModal grantee={grants ? { kind: 'group', id: grants.id, name: grants.name } : null} onClose={() => setGrants(null)} />
    </>
  );
}

function GroupForm({ group, onCancel, onSaved }: { group?: GroupRow; onCancel: () => void; onSaved: () => void }) {
  const t = useT();
  const api = useApi();
  const [name, setName] = useState(group?.name ?? '');
  const [limits, setLimits] = useState<Record<(typeof LIMIT_FIELDS)[number], string>>({
    rpm_limit: limitToInput(group?.rpm_limit),
    tpm_limit: limitToInput(group?.tpm_limit),
    max_parallel: limitToInput(group?.max_parallel),
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: () =>
      api.post<GroupRow>('/admin/group/save', {
        ...(group ? { id: group.id } : {}),
        name: name.trim(),
        ...Object.fromEntries(LIMIT_FIELDS.map((f) => [f, parseLimitInput(limits[f])])),
      }),
    onSuccess: onSaved,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = t('common.required');
    for (const f of LIMIT_FIELDS) if (parseLimitInput(limits[f]) === undefined) found[f] = t('common.invalidInt');
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate();
  };
  const labels = { rpm_limit: t('key.rpm'), tpm_limit: t('key.tpm'), max_parallel: t('key.parallel') };
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <TextInput
          label={t('common.name')}
          required
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={errors.name}
          data-autofocus
        />
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          {LIMIT_FIELDS.map((f) => (
            <TextInput
              key={f}
              label={labels[f]}
              inputMode="numeric"
              placeholder={t('common.unlimited')}
              value={limits[f]}
              onChange={(e) => setLimits({ ...limits, [f]: e.currentTarget.value })}
              error={errors[f]}
            />
          ))}
        </SimpleGrid>
        <FormFooter mutation={save} onCancel={onCancel} submitLabel={group ? t('common.save') : t('common.create')} />
      </Stack>
    </form>
  );
}
