import { Alert, Button, Center, Code, CopyButton, Group, Loader, Modal, Pagination, Stack, Text, Title, Tooltip } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import { Fragment, type ReactNode, useState } from 'react';
import { useT } from '../i18n';

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const t = useT();
  return (
    <Alert color="red" title={t('common.error')} role="alert">
      <Stack gap="xs">
        <Text size="sm" data-testid="error-message">
          {errorMessage(error)}
        </Text>
        {onRetry && (
          <Group>
            <Button size="xs" variant="light" color="red" onClick={onRetry}>
              {t('common.retry')}
            </Button>
          </Group>
        )}
      </Stack>
    </Alert>
  );
}

export function Loading() {
  const t = useT();
  return (
    <Center p="lg" role="status" aria-live="polite">
      <Group gap="xs">
        <Loader size="sm" />
        <Text size="sm">{t('common.loading')}</Text>
      </Group>
    </Center>
  );
}

/** Loading and error states of a query, then its data. */
export function QueryState<T>({ query, children }: { query: UseQueryResult<T>; children: (data: T) => ReactNode }) {
  if (query.isPending) return <Loading />;
  if (query.isError) return <ErrorAlert error={query.error} onRetry={() => void query.refetch()} />;
  return <>{children(query.data)}</>;
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Group justify="space-between" mb="md" wrap="wrap">
      <Title order={1} size="h2">
        {title}
      </Title>
      <Group gap="xs">{children}</Group>
    </Group>
  );
}

export function Pager({
  total,
  limit,
  offset,
  onChange,
}: {
  total: number;
  limit: number;
  offset: number;
  onChange: (offset: number) => void;
}) {
  const t = useT();
  const pages = Math.max(1, Math.ceil(total / limit));
  return (
    <Group justify="space-between" mt="sm">
      <Text size="sm" c="dimmed">
        {t('common.total', { total })}
      </Text>
      {pages > 1 && (
        <Pagination
          total={pages}
          value={Math.floor(offset / limit) + 1}
          onChange={(p) => onChange((p - 1) * limit)}
          size="sm"
          getControlProps={(control) => ({ 'aria-label': control })}
          getItemProps={(page) => ({ 'aria-label': `${t('common.page')} ${page}` })}
        />
      )}
    </Group>
  );
}

/** A value with a copy button (webhook URLs, freshly issued keys). */
export function CopyField({ value, label, testId }: { value: string; label: string; testId?: string }) {
  const t = useT();
  return (
    <Group gap="xs" wrap="nowrap" align="center">
      <Code style={{ wordBreak: 'break-all' }} data-testid={testId} aria-label={label}>
        {value}
      </Code>
      <CopyButton value={value} timeout={2000}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? t('common.copied') : t('common.copy')} withArrow>
            <Button
              size="xs"
              variant={copied ? 'filled' : 'light'}
              color={copied ? 'teal' : undefined}
              onClick={copy}
              aria-label={`${t('common.copy')} ${label}`}
            >
              {copied ? t('common.copied') : t('common.copy')}
            </Button>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}

/** A freshly issued plaintext key: shown once, in a modal that says so. */
export function IssuedKeyModal({ title, apiKey, onClose }: { title: string; apiKey: string | null; onClose: () => void }) {
  const t = useT();
  return (
    <Modal opened={apiKey !== null} onClose={onClose} title={title} size="lg">
      <Stack>
        <Alert color="yellow">{t('key.issuedOnce')}</Alert>
        {apiKey && <CopyField value={apiKey} label={t('signin.key')} testId="issued-key" />}
        <Group justify="flex-end">
          <Button onClick={onClose}>{t('common.close')}</Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** A question before a destructive action; the action's error stays visible in the dialog. */
export function ConfirmDialog({
  opened,
  title,
  message,
  onConfirm,
  onClose,
  color = 'red',
}: {
  opened: boolean;
  title: string;
  message: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  color?: string;
}) {
  const t = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const close = () => {
    setError(null);
    onClose();
  };
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      close();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal opened={opened} onClose={close} title={title}>
      <Stack>
        <Text>{message}</Text>
        {error !== null && <ErrorAlert error={error} />}
        <Group justify="flex-end">
          <Button variant="default" onClick={close}>
            {t('common.cancel')}
          </Button>
          <Button color={color} loading={busy} onClick={() => void confirm()}>
            {t('common.confirm')}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** Deletes a named row after asking; `item` null keeps the dialog closed. */
export function ConfirmDelete<T extends { name: string }>({
  item,
  onClose,
  onDelete,
}: {
  item: T | null;
  onClose: () => void;
  onDelete: (item: T) => Promise<unknown>;
}) {
  const t = useT();
  return (
    <ConfirmDialog
      opened={item !== null}
      title={t('common.delete')}
      message={item ? t('common.confirmDelete', { what: item.name }) : ''}
      onClose={onClose}
      onConfirm={async () => {
        if (!item) return;
        await onDelete(item);
      }}
    />
  );
}

/** The modal that creates (`'new'`) or edits a row; its form is mounted afresh for each row. */
export function EditModal<T extends { id: number; name: string }>({
  editing,
  onClose,
  size,
  createTitle,
  editTitle,
  children,
}: {
  editing: T | 'new' | null;
  onClose: () => void;
  size?: string;
  createTitle: string;
  editTitle: (item: T) => string;
  children: (item: T | undefined) => ReactNode;
}) {
  return (
    <Modal
      opened={editing !== null}
      onClose={onClose}
      size={size}
      title={editing === 'new' ? createTitle : editing ? editTitle(editing) : ''}
    >
      {editing !== null && (
        <Fragment key={editing === 'new' ? 'new' : editing.id}>{children(editing === 'new' ? undefined : editing)}</Fragment>
      )}
    </Modal>
  );
}

/** The end of a modal form: the save's error, then Cancel and the submit button. */
export function FormFooter({
  mutation,
  onCancel,
  submitLabel,
}: {
  mutation: { isError: boolean; error: unknown; isPending: boolean };
  onCancel: () => void;
  submitLabel: string;
}) {
  const t = useT();
  return (
    <>
      {mutation.isError && <ErrorAlert error={mutation.error} />}
      <Group justify="flex-end">
        <Button variant="default" onClick={onCancel}>
          {t('common.cancel')}
        </Button>
        <Button type="submit" loading={mutation.isPending}>
          {submitLabel}
        </Button>
      </Group>
    </>
  );
}

/** A labelled value in a detail grid. */
export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" component="dt">
        {label}
      </Text>
      <Text size="sm" component="dd" m={0} style={{ wordBreak: 'break-word' }}>
        {children}
      </Text>
    </Stack>
  );
}
