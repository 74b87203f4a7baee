import { Button, Group, Modal, SimpleGrid, Stack, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { useNavigate } from 'react-router';
import type { Group as GroupRow, Page } from '../../api/types';
import { useApi } from '../../auth/session';
import { GrantsModal } from '../../components/GrantsModal';
import { ConfirmDialog, ErrorAlert, PageHeader, Pager, QueryState } from '../../components/ui';
import { useT } from '../../i18n';
import { formatDateTime } from '../../lib/format';
import { limitToInput, parseLimitInput } from '../../lib/forms';

const LIMIT = 20;
const LIMIT_FIELDS = ['rpm_limit', 'tpm_limit', 'max_parallel'] as const;

export function GroupsPage() {
  const t = useT();
  const api = useApi();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [q, setQ] = useState('');
  const [debouncedQ] = useDebouncedValue(q, 300);
  const [offset, setOffset] = useState(0);
  const [editing, setEditing] = useState<GroupRow | 'new' | null>(null);
  const [deleting, setDeleting] = useState<GroupRow | null>(null);
  const [grants, setGrants] = useState<GroupRow | null>(null);
  const groups = useQuery({
    queryKey: ['groups', debouncedQ, offset],
    queryFn: () => api.get<Page<GroupRow>>('/admin/group/list', { q: debouncedQ, limit: LIMIT, offset }),
    placeholderData: keepPreviousData,
  });
  const refresh = () => qc.invalidateQueries({ queryKey: ['groups'] });
  const limit = (v: number | null | undefined) => (v === null || v === undefined ? t('common.unlimited') : String(v));

  return (
    <>
      <PageHeader title={t('nav.groups')}>
        <Button onClick={() => setEditing('new')}>{t('group.create')}</Button>
      </PageHeader>
      <TextInput mb="sm" maw={320} label={t('common.search')} value={q} onChange={(e) => (setQ(e.currentTarget.value), setOffset(0))} />
      <QueryState query={groups}>
        {(page) => (
          <>
            <Table.ScrollContainer minWidth={700}>
              <Table striped highlightOnHover>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>{t('common.id')}</Table.Th>
                    <Table.Th>{t('common.name')}</Table.Th>
                    <Table.Th>{t('key.limits')}</Table.Th>
                    <Table.Th>{t('common.created')}</Table.Th>
                    <Table.Th>
                      <VisuallyHidden>{t('common.actions')}</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {page.items.map((g) => (
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
                        <Group gap={4} wrap="nowrap">
                          <Button size="xs" variant="light" onClick={() => setGrants(g)} aria-label={`${t('group.models')} ${g.name}`}>
                            {t('group.models')}
                          </Button>
                          <Button
                            size="xs"
                            variant="light"
                            onClick={() => void navigate(`/keys?group_id=${g.id}`)}
                            aria-label={`${t('group.keys')} ${g.name}`}
                          >
                            {t('group.keys')}
                          </Button>
                          <Button size="xs" variant="light" onClick={() => setEditing(g)} aria-label={`${t('common.edit')} ${g.name}`}>
                            {t('common.edit')}
                          </Button>
                          <Button
                            size="xs"
                            variant="light"
                            color="red"
                            onClick={() => setDeleting(g)}
                            aria-label={`${t('common.delete')} ${g.name}`}
                          >
                            {t('common.delete')}
                          </Button>
                        </Group>
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
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={editing === 'new' ? t('group.createTitle') : editing ? t('group.editTitle', { name: editing.name }) : ''}
      >
        {editing !== null && (
          <GroupForm
            key={editing === 'new' ? 'new' : editing.id}
            group={editing === 'new' ? undefined : editing}
            onCancel={() => setEditing(null)}
            onSaved={() => {
              setEditing(null);
              void refresh();
            }}
          />
        )}
      </Modal>
      <GrantsModal grantee={grants ? { kind: 'group', id: grants.id, name: grants.name } : null} onClose={() => setGrants(null)} />
      <ConfirmDialog
        opened={deleting !== null}
        title={t('common.delete')}
        message={deleting ? t('common.confirmDelete', { what: deleting.name }) : ''}
        onClose={() => setDeleting(null)}
        onConfirm={async () => {
          if (!deleting) return;
          await api.post('/admin/group/delete', { id: deleting.id });
          void refresh();
        }}
      />
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
        {save.isError && <ErrorAlert error={save.error} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" loading={save.isPending}>
            {group ? t('common.save') : t('common.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
