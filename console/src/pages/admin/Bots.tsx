import { Button, Checkbox, Group, Paper, SimpleGrid, Stack, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { joinUrl } from '../../api/client';
import type { FeishuBot, Page } from '../../api/types';
import { useApi } from '../../auth/session';
import { EditDeleteButtons, RowDialogs, useRowDialogs } from '../../components/lists';
import { CopyField, Field, FormFooter, PageHeader, QueryState } from '../../components/ui';
import { useT } from '../../i18n';
import { formatDateTime } from '../../lib/format';

/** Where Feishu must send events: the HTTP API base (or this origin, locally) + the bot's webhook path. */
function webhookUrl(apiBase: string, path: string, origin: string): string {
  return joinUrl(apiBase || origin, path);
}

export function BotsPage() {
  const t = useT();
  const api = useApi();
  const qc = useQueryClient();
  const rows = useRowDialogs<FeishuBot>();
  const bots = useQuery({ queryKey: ['bots'], queryFn: () => api.get<Page<FeishuBot>>('/admin/bot/feishu/list', { limit: 1000 }) });
  const refresh = () => qc.invalidateQueries({ queryKey: ['bots'] });
  return (
    <>
      <PageHeader title={t('nav.bots')}>
        <Button onClick={() => rows.setEditing('new')}>{t('bot.create')}</Button>
      </PageHeader>
      <QueryState query={bots}>
        {(page) => (
          <Stack>
            {page.items.length === 0 && <Text>{t('common.empty')}</Text>}
            {page.items.map((b) => (
              <Paper withBorder p="sm" key={b.id}>
                <Group justify="space-between" mb="xs">
                  <Title order={2} size="h4">
                    {b.name}
                  </Title>
                  <EditDeleteButtons name={b.name} onEdit={() => rows.setEditing(b)} onDelete={() => rows.setDeleting(b)} wrap="wrap" />
                </Group>
                <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }} component="dl" m={0} mb="xs">
                  <Field label={t('bot.appId')}>{b.config.appId}</Field>
                  <Field label={t('bot.appSecret')}>{b.config.appSecret ?? '—'}</Field>
                  <Field label={t('bot.apiKey')}>{b.config.apiKey}</Field>
                  <Field label={t('bot.modelId')}>{b.config.modelId}</Field>
                  <Field label={t('bot.verificationToken')}>{b.config.verificationToken ?? '—'}</Field>
                  <Field label={t('bot.encryptKey')}>{b.config.encryptKey ?? '—'}</Field>
                  <Field label={t('bot.domain')}>{b.config.domain ?? 'feishu'}</Field>
                  <Field label={t('common.updated')}>{formatDateTime(b.updated_at)}</Field>
                </SimpleGrid>
                {b.config.allowUnsigned && !b.config.encryptKey && (
                  <Text size="sm" c="red" mb="xs">
                    {t('bot.unsigned')}
                  </Text>
                )}
                <Text size="xs" c="dimmed">
                  {t('bot.webhook')}
                </Text>
                <CopyField
                  value={webhookUrl(api.config.apiBase, b.webhook_path, window.location.origin)}
                  label={`${t('bot.webhook')} ${b.name}`}
                />
              </Paper>
            ))}
          </Stack>
        )}
      </QueryState>
      <RowDialogs
        rows={rows}
        size="lg"
        createTitle={t('bot.createTitle')}
        editTitle={(b) => t('bot.editTitle', { name: b.name })}
        deletePath="/admin/bot/feishu/delete"
        onSaved={refresh}
        onDeleted={refresh}
      >
        {(bot, form) => <BotForm bot={bot} {...form} />}
      </RowDialogs>
    </>
  );
}

const SECRET_FIELDS = ['appSecret', 'verificationToken', 'encryptKey'] as const;

function BotForm({ bot, onCancel, onSaved }: { bot?: FeishuBot; onCancel: () => void; onSaved: () => void }) {
  const t = useT();
  const api = useApi();
  const [form, setForm] = useState({
    name: bot?.name ?? '',
    appId: bot?.config.appId ?? '',
    // Secrets come back masked; sent back unchanged they keep the stored value (the API's rule).
    appSecret: bot?.config.appSecret ?? '',
    apiKey: bot?.config.apiKey ?? '',
    modelId: bot?.config.modelId ?? '',
    verificationToken: bot?.config.verificationToken ?? '',
    encryptKey: bot?.config.encryptKey ?? '',
    domain: bot?.config.domain ?? '',
    systemPrompt: bot?.config.systemPrompt ?? '',
    allowUnsigned: bot?.config.allowUnsigned ?? false,
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: () => {
      const { name, allowUnsigned, ...config } = form;
      return api.post<FeishuBot>('/admin/bot/feishu/save', {
        ...(bot ? { id: bot.id } : {}),
        name: name.trim(),
        provider: bot?.provider ?? 'bedrock-converse',
        // Always sent, so that unticking it on an edit turns signatures back on (the API then needs an encrypt key).
        config: { ...config, allowUnsigned },
      });
    },
    onSuccess: onSaved,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    const needed: Array<'appId' | 'apiKey' | 'modelId' | 'appSecret'> = [
      'appId',
      'apiKey',
      'modelId',
      ...(bot ? [] : (['appSecret'] as const)),
    ];
    for (const f of needed) if (!form[f].trim()) found[f] = t('common.required');
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate();
  };
  const input = (f: Exclude<keyof typeof form, 'allowUnsigned'>, label: string, extra: { required?: boolean; secret?: boolean } = {}) => (
    <TextInput
      label={label}
      required={extra.required}
      value={form[f]}
      onChange={(e) => setForm({ ...form, [f]: e.currentTarget.value })}
      error={errors[f]}
      autoComplete="off"
      description={extra.secret && bot ? t('bot.secretKept') : undefined}
    />
  );
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          {input('name', t('common.name'))}
          {input('appId', t('bot.appId'), { required: true })}
          {input('appSecret', t('bot.appSecret'), { required: !bot, secret: true })}
          {input('apiKey', t('bot.apiKey'), { required: true })}
          {input('modelId', t('bot.modelId'), { required: true })}
          {input('domain', t('bot.domain'))}
          {SECRET_FIELDS.slice(1).map((f) => (
            <div key={f}>{input(f, t(`bot.${f}`), { secret: true })}</div>
          ))}
        </SimpleGrid>
        <Checkbox
          label={t('bot.allowUnsigned')}
          description={t('bot.allowUnsignedWarning')}
          color="red"
          checked={form.allowUnsigned}
          onChange={(e) => setForm({ ...form, allowUnsigned: e.currentTarget.checked })}
        />
        <Textarea
          label={t('bot.systemPrompt')}
          autosize
          minRows={2}
          value={form.systemPrompt}
          onChange={(e) => setForm({ ...form, systemPrompt: e.currentTarget.value })}
        />
        <FormFooter mutation={save} onCancel={onCancel} submitLabel={bot ? t('common.save') : t('common.create')} />
      </Stack>
    </form>
  );
}
