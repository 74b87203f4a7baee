import { Button, Checkbox, MultiSelect, Select, SimpleGrid, Stack, Table, Tabs, Text, Textarea, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { groupName, useGroups, useModels } from '../../api/hooks';
import { type Model, PROVIDERS } from '../../api/types';
import { useApi } from '../../auth/session';
import { EditDeleteButtons, PagedTable, RowDialogs, usePage, useRowDialogs, useSearch } from '../../components/lists';
import { FormFooter, PageHeader } from '../../components/ui';
import { useT } from '../../i18n';
import { formatMoney } from '../../lib/format';
import { isMoneyInput, jsonValueToInput, moneyToInput, parseJsonObject } from '../../lib/forms';

type Config = Record<string, unknown>;

export function ModelsPage() {
  const t = useT();
  const qc = useQueryClient();
  const groups = useGroups();
  const { debouncedQ, offset, setOffset, searchProps } = useSearch();
  const rows = useRowDialogs<Model>();
  const models = usePage<Model>(['models', debouncedQ], '/admin/model/list', { q: debouncedQ }, offset);
  const refresh = () => qc.invalidateQueries({ queryKey: ['models'] });

  return (
    <>
      <PageHeader title={t('nav.models')}>
        <Button onClick={() => rows.setEditing('new')}>{t('model.create')}</Button>
      </PageHeader>
      <TextInput mb="sm" maw={320} placeholder={t('model.searchPlaceholder')} {...searchProps} />
      <PagedTable
        query={models}
        minWidth={800}
        columns={[t('common.id'), t('common.name'), t('model.provider'), t('model.modelId'), t('model.prices'), t('key.group')]}
        actions
        offset={offset}
        onOffset={setOffset}
      >
        {(m) => (
          <Table.Tr key={m.id}>
            <Table.Td>{m.id}</Table.Td>
            <Table.Td fw={500}>{m.name}</Table.Td>
            <Table.Td>{m.provider}</Table.Td>
            <Table.Td>
              <Text size="xs" ff="monospace" style={{ wordBreak: 'break-all' }}>
                {jsonValueToInput(m.config?.modelId, '—')}
              </Text>
            </Table.Td>
            <Table.Td>{m.free ? t('model.freeBadge') : `${formatMoney(m.price_in)} / ${formatMoney(m.price_out)}`}</Table.Td>
            <Table.Td>{groupName(groups.data?.items, m.group_id)}</Table.Td>
            <Table.Td>
              <EditDeleteButtons name={m.name} onEdit={() => rows.setEditing(m)} onDelete={() => rows.setDeleting(m)} />
            </Table.Td>
          </Table.Tr>
        )}
      </PagedTable>
      <RowDialogs
        rows={rows}
        size="xl"
        createTitle={t('model.createTitle')}
        editTitle={(m) => t('model.editTitle', { name: m.name })}
        deletePath="/admin/model/delete"
        onSaved={() => {
          void refresh();
          void qc.invalidateQueries({ queryKey: ['grants'] });
        }}
        onDeleted={refresh}
      >
        {(model, form) => <ModelForm model={model} {...form} />}
      </RowDialogs>
    </>
  );
}

interface PriceForm {
  price_in: string;
  price_out: string;
  price_cache_read: string;
  price_cache_write: string;
}

/** Sets or (for '', undefined, false, []) removes one field of a config object, keeping every other field. */
function withField(config: Config, key: string, value: unknown): Config {
  const next = { ...config };
  if (value === undefined || value === '' || value === false || (Array.isArray(value) && value.length === 0)) delete next[key];
  else next[key] = value;
  return next;
}

function ModelForm({ model, onCancel, onSaved }: { model?: Model; onCancel: () => void; onSaved: () => void }) {
  const t = useT();
  const api = useApi();
  const groups = useGroups();
  const allModels = useModels();
  const [name, setName] = useState(model?.name ?? '');
  const [provider, setProvider] = useState<string>(model?.provider ?? 'bedrock-converse');
  const [groupId, setGroupId] = useState<string | null>(model?.group_id ? String(model.group_id) : null);
  const [multiple, setMultiple] = useState(model?.multiple ?? false);
  const [config, setConfig] = useState<Config>(model?.config ?? {});
  const [jsonText, setJsonText] = useState(JSON.stringify(model?.config ?? {}, null, 2));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [tab, setTab] = useState<string | null>('form');
  // A new model starts with no prices: a zero price is never a default, only the explicit "free" choice.
  const [free, setFree] = useState(model?.free ?? false);
  const [prices, setPrices] = useState<PriceForm>({
    price_in: model?.free ? '' : moneyToInput(model?.price_in),
    price_out: model?.free ? '' : moneyToInput(model?.price_out),
    price_cache_read: moneyToInput(model?.price_cache_read),
    price_cache_write: moneyToInput(model?.price_cache_write),
  });
  const [errors, setErrors] = useState<Record<string, string>>({});

  const updateConfig = (next: Config) => {
    setConfig(next);
    setJsonText(JSON.stringify(next, null, 2));
    setJsonError(null);
  };
  const field = (key: string, value: unknown) => updateConfig(withField(config, key, value));
  const onJson = (text: string) => {
    setJsonText(text);
    const parsed = parseJsonObject(text);
    if (parsed.ok) {
      setConfig(parsed.value);
      setJsonError(null);
    } else setJsonError(parsed.reason === 'syntax' ? t('model.jsonInvalid', { message: parsed.message }) : t('model.jsonNotObject'));
  };

  const save = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = {
        ...(model ? { id: model.id } : {}),
        name: name.trim(),
        provider,
        group_id: groupId ? Number(groupId) : null,
        multiple,
        config,
        free,
      };
      if (!free) {
        for (const key of ['price_in', 'price_out', 'price_cache_read', 'price_cache_write'] as const) {
          if (prices[key].trim()) body[key] = prices[key].trim();
        }
        // A cache price emptied on edit goes back to its default (null), rather than keeping the stored one.
        for (const key of ['price_cache_read', 'price_cache_write'] as const) {
          if (model && !prices[key].trim() && model[key] !== null && model[key] !== undefined) body[key] = null;
        }
      }
      return api.post<Model>('/admin/model/save', body);
    },
    onSuccess: onSaved,
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = t('common.required');
    const needed = (v: string) => !free && (v.trim() === '' || Number(v) === 0);
    if (!isMoneyInput(prices.price_in, { optional: true })) found.price_in = t('common.invalidMoney');
    else if (needed(prices.price_in)) found.price_in = t('model.priceRequired');
    if (!isMoneyInput(prices.price_out, { optional: true })) found.price_out = t('common.invalidMoney');
    else if (needed(prices.price_out) && !provider.endsWith('embeddings')) found.price_out = t('model.priceRequired');
    if (!isMoneyInput(prices.price_cache_read, { optional: true })) found.price_cache_read = t('common.invalidMoney');
    if (!isMoneyInput(prices.price_cache_write, { optional: true })) found.price_cache_write = t('common.invalidMoney');
    if (jsonError) found.json = jsonError;
    if (!config.modelId) found.modelId = t('common.required');
    setErrors(found);
    if (Object.keys(found).length === 0) save.mutate();
    else if (found.json) setTab('json');
  };

  const otherModels = (allModels.data?.items ?? [])
    .filter((m) => m.id !== model?.id && m.provider !== 'bedrock-embeddings')
    .map((m) => m.name);
  const fallbacks = Array.isArray(config.fallbacks) ? (config.fallbacks as unknown[]).map(String) : [];
  const str = (key: string) => jsonValueToInput(config[key]);
  const num = (key: string, text: string) =>
    field(key, text.trim() === '' ? undefined : /^\d+$/.test(text.trim()) ? Number(text.trim()) : text);
  const thinking = config.thinking;
  const budget = thinking && typeof thinking === 'object' ? jsonValueToInput((thinking as { budgetTokens?: unknown }).budgetTokens) : '';

  const price = (key: keyof PriceForm, label: string) => (
    <TextInput
      label={label}
      inputMode="decimal"
      value={prices[key]}
      disabled={free}
      onChange={(e) => setPrices({ ...prices, [key]: e.currentTarget.value })}
      error={errors[key]}
    />
  );

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={t('common.name')} required value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} />
          <Select
            label={t('model.provider')}
            data={PROVIDERS}
            value={provider}
            onChange={(v) => setProvider(v ?? 'bedrock-converse')}
            allowDeselect={false}
          />
          <Select
            label={t('key.group')}
            data={(groups.data?.items ?? []).map((g) => ({ value: String(g.id), label: g.name }))}
            value={groupId}
            onChange={setGroupId}
            clearable
            placeholder={t('common.none')}
          />
          <Checkbox mt="lg" label={t('model.multiple')} checked={multiple} onChange={(e) => setMultiple(e.currentTarget.checked)} />
        </SimpleGrid>

        <Text fw={600} size="sm">
          {t('model.config')}
        </Text>
        <Tabs value={tab} onChange={setTab} keepMounted={false}>
          <Tabs.List>
            <Tabs.Tab value="form" disabled={jsonError !== null}>
              {t('model.form')}
            </Tabs.Tab>
            <Tabs.Tab value="json">{t('model.json')}</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="form" pt="sm">
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              {provider === 'openai-compatible' && (
                <TextInput
                  label={t('model.baseUrl')}
                  value={str('baseUrl')}
                  onChange={(e) => field('baseUrl', e.currentTarget.value)}
                  placeholder="http://127.0.0.1:8000/v1"
                />
              )}
              <TextInput
                label={t('model.modelId')}
                required
                value={str('modelId')}
                onChange={(e) => field('modelId', e.currentTarget.value)}
                error={errors.modelId}
              />
              {provider !== 'openai-compatible' && (
                <TextInput
                  label={t('model.region')}
                  value={str('region')}
                  onChange={(e) => field('region', e.currentTarget.value)}
                  placeholder="us-east-1"
                />
              )}
              {provider === 'bedrock-converse' && (
                <>
                  <TextInput
                    label={t('model.maxTokens')}
                    inputMode="numeric"
                    value={str('maxTokens')}
                    onChange={(e) => num('maxTokens', e.currentTarget.value)}
                  />
                  <Checkbox
                    mt="lg"
                    label={t('model.thinking')}
                    checked={Boolean(thinking)}
                    onChange={(e) =>
                      field('thinking', e.currentTarget.checked ? (budget ? { budgetTokens: Number(budget) } : true) : undefined)
                    }
                  />
                  <TextInput
                    label={t('model.budgetTokens')}
                    inputMode="numeric"
                    disabled={!thinking}
                    value={budget}
                    onChange={(e) => {
                      const v = e.currentTarget.value.trim();
                      field('thinking', v && /^\d+$/.test(v) ? { budgetTokens: Number(v) } : true);
                    }}
                  />
                  <Checkbox
                    mt="lg"
                    label={t('model.promptCache')}
                    checked={Boolean(config.promptCache)}
                    onChange={(e) => field('promptCache', e.currentTarget.checked ? true : undefined)}
                  />
                </>
              )}
              {provider === 'bedrock-embeddings' && (
                <>
                  <TextInput
                    label={t('model.dimensions')}
                    inputMode="numeric"
                    value={str('dimensions')}
                    onChange={(e) => num('dimensions', e.currentTarget.value)}
                  />
                  <Select
                    label={t('model.family')}
                    data={['titan', 'cohere']}
                    value={str('family') || null}
                    onChange={(v) => field('family', v ?? undefined)}
                    clearable
                  />
                  <TextInput
                    label={t('model.inputType')}
                    value={str('inputType')}
                    onChange={(e) => field('inputType', e.currentTarget.value)}
                    placeholder="search_document"
                  />
                </>
              )}
              {provider === 'openai-compatible' && (
                <>
                  <TextInput
                    label={t('model.apiKey')}
                    value={str('apiKey')}
                    onChange={(e) => field('apiKey', e.currentTarget.value)}
                    autoComplete="off"
                  />
                  <HeadersInput value={config.headers} onChange={(v) => field('headers', v)} />
                </>
              )}
            </SimpleGrid>
            {provider !== 'bedrock-embeddings' && (
              <MultiSelect
                mt="sm"
                label={t('model.fallbacks')}
                description={t('model.fallbacksHelp')}
                data={Array.from(new Set([...otherModels, ...fallbacks]))}
                value={fallbacks}
                onChange={(v) => field('fallbacks', v)}
                searchable
                clearable
              />
            )}
          </Tabs.Panel>
          <Tabs.Panel value="json" pt="sm">
            <Textarea
              label={t('model.json')}
              value={jsonText}
              onChange={(e) => onJson(e.currentTarget.value)}
              autosize
              minRows={6}
              maxRows={20}
              styles={{ input: { fontFamily: 'monospace' } }}
              error={jsonError ?? errors.json}
              spellCheck={false}
            />
          </Tabs.Panel>
        </Tabs>

        <Text fw={600} size="sm">
          {t('model.prices')}
        </Text>
        <Text size="xs" c="dimmed">
          {t('model.pricesHelp')}
        </Text>
        <Checkbox
          label={t('model.free')}
          description={t('model.freeHelp')}
          checked={free}
          onChange={(e) => setFree(e.currentTarget.checked)}
        />
        <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }}>
          {price('price_in', t('model.priceIn'))}
          {price('price_out', t('model.priceOut'))}
          {price('price_cache_read', t('model.priceCacheRead'))}
          {price('price_cache_write', t('model.priceCacheWrite'))}
        </SimpleGrid>
        <FormFooter mutation={save} onCancel={onCancel} submitLabel={model ? t('common.save') : t('common.create')} />
      </Stack>
    </form>
  );
}

/** openai-compatible `headers`: a JSON object of extra request headers, validated as typed. */
function HeadersInput({ value, onChange }: { value: unknown; onChange: (v: Record<string, unknown> | undefined) => void }) {
  const t = useT();
  const [text, setText] = useState(value && typeof value === 'object' ? JSON.stringify(value) : '');
  const [error, setError] = useState<string | null>(null);
  return (
    <TextInput
      label={t('model.headers')}
      value={text}
      placeholder='{"x-tenant": "a"}'
      error={error}
      onChange={(e) => {
        const v = e.currentTarget.value;
        setText(v);
        if (!v.trim()) {
          setError(null);
          onChange(undefined);
          return;
        }
        const parsed = parseJsonObject(v);
        if (parsed.ok) {
          setError(null);
          onChange(parsed.value);
        } else setError(parsed.reason === 'syntax' ? t('model.jsonInvalid', { message: parsed.message }) : t('model.jsonNotObject'));
      }}
    />
  );
}
