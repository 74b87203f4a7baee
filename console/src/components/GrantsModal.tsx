import { Button, Group, Modal, Select, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useModels } from '../api/hooks';
import type { Model, Page } from '../api/types';
import { useApi } from '../auth/session';
import { useT } from '../i18n';
import { ErrorAlert, QueryState } from './ui';

/**
 * The models granted to one group or one key: /admin/<group|api-key>/list-model, bind-model, unbind-model.
 */
export function GrantsModal({
  grantee,
  onClose,
}: {
  grantee: { kind: 'group' | 'key'; id: number; name: string } | null;
  onClose: () => void;
}) {
  const t = useT();
  return (
    <Modal
      opened={grantee !== null}
      onClose={onClose}
      size="lg"
      title={grantee ? t(grantee.kind === 'key' ? 'key.modelsTitle' : 'group.modelsTitle', { name: grantee.name }) : ''}
    >
      {grantee && <Grants grantee={grantee} />}
    </Modal>
  );
}

function Grants({ grantee }: { grantee: { kind: 'group' | 'key'; id: number } }) {
  const t = useT();
  const api = useApi();
  const qc = useQueryClient();
  const prefix = grantee.kind === 'key' ? '/admin/api-key' : '/admin/group';
  const idField = grantee.kind === 'key' ? 'key_id' : 'group_id';
  const queryKey = ['grants', grantee.kind, grantee.id];
  const bound = useQuery({ queryKey, queryFn: () => api.get<Page<Model>>(`${prefix}/list-model`, { [idField]: grantee.id, limit: 1000 }) });
  const models = useModels();
  const [pick, setPick] = useState<string | null>(null);
  const change = useMutation({
    mutationFn: ({ op, modelId }: { op: 'bind' | 'unbind'; modelId: number }) =>
      api.post(`${prefix}/${op}-model`, { [idField]: grantee.id, model_id: modelId }),
    onSuccess: () => {
      setPick(null);
      void qc.invalidateQueries({ queryKey });
    },
  });
  const boundIds = new Set(bound.data?.items.map((m) => m.id));
  const options = (models.data?.items ?? []).filter((m) => !boundIds.has(m.id)).map((m) => ({ value: String(m.id), label: m.name }));

  return (
    <Stack>
      {grantee.kind === 'key' && (
        <Text size="sm" c="dimmed">
          {t('grants.viaGroup')}
        </Text>
      )}
      <QueryState query={bound}>
        {(page) =>
          page.items.length === 0 ? (
            <Text size="sm">{t('common.empty')}</Text>
          ) : (
            <Table>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>{t('grants.bound')}</Table.Th>
                  <Table.Th>{t('model.provider')}</Table.Th>
                  <Table.Th>
                    <VisuallyHidden>{t('common.actions')}</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {page.items.map((m) => (
                  <Table.Tr key={m.id}>
                    <Table.Td>{m.name}</Table.Td>
                    <Table.Td>{m.provider}</Table.Td>
                    <Table.Td>
                      <Button
                        size="xs"
                        variant="light"
                        color="red"
                        onClick={() => change.mutate({ op: 'unbind', modelId: m.id })}
                        aria-label={`${t('grants.unbind')} ${m.name}`}
                      >
                        {t('grants.unbind')}
                      </Button>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryState>
      <Group align="flex-end">
        <Select
          label={t('grants.pick')}
          data={options}
          value={pick}
          onChange={setPick}
          searchable
          style={{ flex: 1 }}
          nothingFoundMessage={t('common.empty')}
        />
        <Button disabled={!pick} loading={change.isPending} onClick={() => pick && change.mutate({ op: 'bind', modelId: Number(pick) })}>
          {t('grants.bind')}
        </Button>
      </Group>
      {models.isError && <ErrorAlert error={models.error} />}
      {change.isError && <ErrorAlert error={change.error} />}
    </Stack>
  );
}
