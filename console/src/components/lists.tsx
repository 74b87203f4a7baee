import { Button, Group, Table, Text, VisuallyHidden } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery, type UseQueryResult } from '@tanstack/react-query';
import { type ChangeEvent, type ReactNode, useState } from 'react';
import type { Query } from '../api/client';
import type { Page } from '../api/types';
import { useApi } from '../auth/session';
import { useT } from '../i18n';
import { ConfirmDelete, EditModal, Pager, QueryState } from './ui';

/** Rows per page of every paged list. */
const PAGE_SIZE = 20;

/** One page of a list endpoint (`limit` and `offset` added to the query), kept on screen while the next one loads. */
export function usePage<T>(queryKey: unknown[], path: string, query: Query, offset: number, enabled?: boolean): UseQueryResult<Page<T>> {
  const api = useApi();
  return useQuery({
    queryKey: [...queryKey, offset],
    queryFn: () => api.get<Page<T>>(path, { ...query, limit: PAGE_SIZE, offset }),
    placeholderData: keepPreviousData,
    enabled,
  });
}

/** A search box's text (and its debounced value for the query) and the list offset, which a new search resets. */
export function useSearch() {
  const t = useT();
  const [q, setQ] = useState('');
  const [debouncedQ] = useDebouncedValue(q, 300);
  const [offset, setOffset] = useState(0);
  const onChange = (e: ChangeEvent<HTMLInputElement>) => {
    setQ(e.currentTarget.value);
    setOffset(0);
  };
  return { debouncedQ, offset, setOffset, searchProps: { label: t('common.search'), value: q, onChange } };
}

/**
 * A paged list as a table: loading and error states, one header cell per column (`false` leaves one out),
 * an unlabelled actions column if asked for, a row per item, an empty notice and the pager.
 */
export function PagedTable<T>({
  query,
  minWidth,
  columns,
  actions = false,
  highlightOnHover = true,
  offset,
  onOffset,
  children,
}: {
  query: UseQueryResult<Page<T>>;
  minWidth: number;
  columns: ReactNode[];
  actions?: boolean;
  highlightOnHover?: boolean;
  offset: number;
  onOffset: (offset: number) => void;
  children: (item: T) => ReactNode;
}) {
  const t = useT();
  return (
    <QueryState query={query}>
      {(page) => (
        <>
          <Table.ScrollContainer minWidth={minWidth}>
            <Table striped highlightOnHover={highlightOnHover}>
              <Table.Thead>
                <Table.Tr>
                  {columns
                    .filter((c) => c !== false)
                    .map((c, i) => (
                      <Table.Th key={i}>{c}</Table.Th>
                    ))}
                  {actions && (
                    <Table.Th>
                      <VisuallyHidden>{t('common.actions')}</VisuallyHidden>
                    </Table.Th>
                  )}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>{page.items.map((item) => children(item))}</Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {page.items.length === 0 && <Text p="md">{t('common.empty')}</Text>}
          <Pager total={page.total} limit={PAGE_SIZE} offset={offset} onChange={onOffset} />
        </>
      )}
    </QueryState>
  );
}

/** A small row button whose accessible name says which row it acts on ("Edit alice"). */
export function RowButton({ label, name, onClick, color }: { label: string; name: string; onClick: () => void; color?: string }) {
  return (
    <Button size="xs" variant="light" color={color} onClick={onClick} aria-label={`${label} ${name}`}>
      {label}
    </Button>
  );
}

/** A row's buttons: any of its own first, then Edit and Delete. */
export function EditDeleteButtons({
  name,
  onEdit,
  onDelete,
  wrap = 'nowrap',
  children,
}: {
  name: string;
  onEdit: () => void;
  onDelete: () => void;
  wrap?: 'wrap' | 'nowrap';
  children?: ReactNode;
}) {
  const t = useT();
  return (
    <Group gap={4} wrap={wrap}>
      {children}
      <RowButton label={t('common.edit')} name={name} onClick={onEdit} />
      <RowButton label={t('common.delete')} name={name} onClick={onDelete} color="red" />
    </Group>
  );
}

/** Which row's form is open (`'new'` for a new row) and which row waits for its delete to be confirmed. */
export function useRowDialogs<T>() {
  const [editing, setEditing] = useState<T | 'new' | null>(null);
  const [deleting, setDeleting] = useState<T | null>(null);
  return { editing, setEditing, deleting, setDeleting };
}

/** A list's create/edit modal and its confirm-delete dialog; `deletePath` is posted the row's id. */
export function RowDialogs<T extends { id: number; name: string }>({
  rows,
  size,
  createTitle,
  editTitle,
  deletePath,
  onSaved,
  onDeleted,
  children,
}: {
  rows: ReturnType<typeof useRowDialogs<T>>;
  size?: string;
  createTitle: string;
  editTitle: (item: T) => string;
  deletePath: string;
  onSaved: () => unknown;
  onDeleted: () => unknown;
  children: (item: T | undefined, form: { onCancel: () => void; onSaved: () => void }) => ReactNode;
}) {
  const api = useApi();
  const close = () => rows.setEditing(null);
  return (
    <>
      <EditModal editing={rows.editing} onClose={close} size={size} createTitle={createTitle} editTitle={editTitle}>
        {(item) =>
          children(item, {
            onCancel: close,
            onSaved: () => {
              close();
              void onSaved();
            },
          })
        }
      </EditModal>
      <ConfirmDelete
        item={rows.deleting}
        onClose={() => rows.setDeleting(null)}
        onDelete={async (item) => {
          await api.post(deletePath, { id: item.id });
          void onDeleted();
        }}
      />
    </>
  );
}
