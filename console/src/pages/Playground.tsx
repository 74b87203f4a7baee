import { ActionIcon, Alert, Badge, Button, FileButton, Group, Image, Paper, Select, Stack, Text, Textarea } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { useMyModels } from '../api/hooks';
import type { Page, Thread, V1Model } from '../api/types';
import { useApi } from '../auth/session';
import { ErrorAlert, PageHeader, QueryState } from '../components/ui';
import { useT } from '../i18n';
import { answeredTurns, toChatMessages, type Turn } from '../lib/conversation';
import { feeFor, formatLatency, formatMoney, formatTokens } from '../lib/format';

const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((ok, fail) => {
    const reader = new FileReader();
    // readAsDataURL: on load the result is the data: URL, a string.
    reader.onload = () => (typeof reader.result === 'string' ? ok(reader.result) : fail(new Error('could not read the file')));
    reader.onerror = () => fail(reader.error ?? new Error('could not read the file'));
    reader.readAsDataURL(file);
  });
}

const newSessionId = () => `console-${crypto.randomUUID()}`;

export function PlaygroundPage() {
  const t = useT();
  const api = useApi();
  const models = useQuery({ queryKey: ['v1-models'], queryFn: () => api.v1<{ data: V1Model[] }>('/v1/models') });
  const prices = useMyModels();
  const [model, setModel] = useState<string | null>(null);
  const [system, setSystem] = useState('');
  const [input, setInput] = useState('');
  const [images, setImages] = useState<string[]>([]);
  const [turns, setTurns] = useState<Turn[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [sessionId, setSessionId] = useState(newSessionId);
  const abort = useRef<AbortController | null>(null);
  const streaming = turns.some((x) => x.streaming);

  // Embedding models cannot chat; /user/model/list says which they are (when it answers).
  const chatModels = (all: V1Model[]) => {
    const embeddings = new Set((prices.data?.items ?? []).filter((m) => m.provider === 'bedrock-embeddings').map((m) => m.name));
    return all.map((m) => m.id).filter((id) => !embeddings.has(id));
  };
  useEffect(() => {
    const first = models.data ? chatModels(models.data.data)[0] : undefined;
    if (!model && first) setModel(first);
  }, [models.data, prices.data, model]);
  useEffect(() => () => abort.current?.abort(), []);

  const updateLast = (patch: Partial<Turn>) =>
    setTurns((all) => {
      const next = [...all];
      next[next.length - 1] = { ...next[next.length - 1], ...patch };
      return next;
    });

  /** The recorded fee: the thread whose request id is the completion's (the gateway settles before [DONE]). */
  const readRecordedFee = async (completionId: string | null): Promise<number | undefined> => {
    if (!completionId) return undefined;
    const requestId = completionId.replace(/^chatcmpl-/, '');
    for (let attempt = 0; attempt < 3; attempt++) {
      const page = await api.get<Page<Thread>>('/user/thread/list', { limit: 10 });
      const thread = page.items.find((th) => th.request_id === requestId);
      if (thread) return thread.fee;
      await new Promise((r) => setTimeout(r, 400));
    }
    return undefined;
  };

  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!model || streaming || (!input.trim() && images.length === 0)) return;
    setError(null);
    const user: Turn = { role: 'user', text: input.trim(), images };
    const messages = toChatMessages(system, [...answeredTurns(turns), user]);
    setTurns([...turns, user, { role: 'assistant', text: '', images: [], streaming: true }]);
    setInput('');
    setImages([]);
    const controller = new AbortController();
    abort.current = controller;
    try {
      const result = await api.chatStream({
        model,
        messages,
        sessionId,
        signal: controller.signal,
        onUpdate: (partial) => updateLast({ text: partial.content, reasoning: partial.reasoning }),
      });
      const price = prices.data?.items.find((m) => m.name === model);
      const estimatedFee =
        price && result.usage
          ? feeFor(
              {
                tokens_in: result.usage.prompt_tokens - result.usage.cache_read_tokens,
                tokens_out: result.usage.completion_tokens,
                tokens_cache_read: result.usage.cache_read_tokens,
              },
              price,
            )
          : undefined;
      updateLast({ text: result.content, reasoning: result.reasoning, result, streaming: false, estimatedFee });
      const recordedFee = await readRecordedFee(result.id).catch(() => undefined);
      if (recordedFee !== undefined) updateLast({ recordedFee });
    } catch (err) {
      if ((err as Error)?.name === 'AbortError' || controller.signal.aborted) {
        updateLast({ streaming: false, error: t('play.stopped') });
      } else {
        updateLast({ streaming: false, error: err instanceof ApiError || err instanceof Error ? err.message : String(err) });
      }
    } finally {
      abort.current = null;
    }
  };

  const addImages = async (files: File[]) => {
    setError(null);
    try {
      const urls: string[] = [];
      for (const f of files) {
        if (!f.type.startsWith('image/')) continue;
        if (f.size > MAX_IMAGE_BYTES) throw new Error(`${f.name}: > 5 MB`);
        urls.push(await readAsDataUrl(f));
      }
      setImages((all) => [...all, ...urls]);
    } catch (e) {
      setError(e);
    }
  };

  return (
    <>
      <PageHeader title={t('play.title')}>
        <Button
          variant="default"
          size="xs"
          disabled={streaming}
          onClick={() => {
            setTurns([]);
            setSessionId(newSessionId());
          }}
        >
          {t('play.clear')}
        </Button>
      </PageHeader>
      <QueryState query={models}>
        {(list) =>
          list.data.length === 0 ? (
            <Alert color="yellow">{t('play.noModels')}</Alert>
          ) : (
            <Stack maw={960}>
              <Group align="flex-end" wrap="wrap">
                <Select
                  label={t('play.model')}
                  data={chatModels(list.data)}
                  value={model}
                  onChange={setModel}
                  allowDeselect={false}
                  searchable
                  w={{ base: '100%', sm: 320 }}
                />
              </Group>
              <Textarea
                label={t('play.system')}
                autosize
                minRows={1}
                maxRows={6}
                value={system}
                onChange={(e) => setSystem(e.currentTarget.value)}
              />
              <Stack gap="sm" aria-live="polite" aria-busy={streaming} data-testid="conversation">
                {turns.map((turn, i) => (
                  <TurnView key={i} turn={turn} />
                ))}
              </Stack>
              <form onSubmit={(e) => void send(e)}>
                <Stack gap="xs">
                  <Textarea
                    label={t('play.message')}
                    autosize
                    minRows={2}
                    maxRows={10}
                    value={input}
                    onChange={(e) => setInput(e.currentTarget.value)}
                    onKeyDown={(e) => {
                      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void send();
                    }}
                    description={t('play.sendHint')}
                  />
                  {images.length > 0 && (
                    <Group gap="xs">
                      {images.map((url, i) => (
                        <Stack key={i} gap={2} align="center">
                          <Image src={url} alt="" w={64} h={64} fit="cover" radius="sm" />
                          <ActionIcon
                            size="sm"
                            variant="light"
                            color="red"
                            aria-label={t('play.removeImage', { n: i + 1 })}
                            onClick={() => setImages(images.filter((_, j) => j !== i))}
                          >
                            ×
                          </ActionIcon>
                        </Stack>
                      ))}
                    </Group>
                  )}
                  <Group justify="space-between">
                    <FileButton onChange={(files) => void addImages(files)} accept="image/png,image/jpeg,image/gif,image/webp" multiple>
                      {(props) => (
                        <Button {...props} variant="default" size="xs">
                          {t('play.addImage')}
                        </Button>
                      )}
                    </FileButton>
                    {streaming ? (
                      <Button color="red" variant="light" onClick={() => abort.current?.abort()}>
                        {t('play.stop')}
                      </Button>
                    ) : (
                      <Button type="submit" disabled={!model || (!input.trim() && images.length === 0)}>
                        {t('play.send')}
                      </Button>
                    )}
                  </Group>
                  {error !== null && <ErrorAlert error={error} />}
                </Stack>
              </form>
            </Stack>
          )
        }
      </QueryState>
    </>
  );
}

function TurnView({ turn }: { turn: Turn }) {
  const t = useT();
  const mine = turn.role === 'user';
  const usage = turn.result?.usage;
  return (
    <Paper withBorder p="sm" bg={mine ? 'gray.0' : undefined} data-testid={mine ? 'user-turn' : 'assistant-turn'}>
      <Group justify="space-between" mb={4}>
        <Badge variant="light" color={mine ? 'gray' : 'indigo'}>
          {mine ? t('play.you') : t('play.assistant')}
        </Badge>
        {turn.streaming && (
          <Text size="xs" c="dimmed" role="status">
            {t('play.streaming')}
          </Text>
        )}
      </Group>
      {turn.images.length > 0 && (
        <Group gap="xs" mb="xs">
          {turn.images.map((url, i) => (
            <Image key={i} src={url} alt="" w={96} h={96} fit="cover" radius="sm" />
          ))}
        </Group>
      )}
      {turn.reasoning && (
        <Text size="xs" c="dimmed" fs="italic" mb="xs" style={{ whiteSpace: 'pre-wrap' }}>
          {turn.reasoning}
        </Text>
      )}
      <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }} data-testid={mine ? undefined : 'assistant-text'}>
        {turn.text}
      </Text>
      {turn.error && (
        <Text size="sm" c="red" mt="xs" role="alert" data-testid="turn-error">
          {turn.error}
        </Text>
      )}
      {!mine && turn.result && (
        <Group gap="md" mt="xs" data-testid="answer-meta">
          {usage && (
            <Text size="xs" c="dimmed">
              {t('play.usage', { in: formatTokens(usage.prompt_tokens), out: formatTokens(usage.completion_tokens) })}
            </Text>
          )}
          {turn.result.firstTokenMs !== null && (
            <Text size="xs" c="dimmed">
              {t('play.firstToken', { ms: formatLatency(turn.result.firstTokenMs) })}
            </Text>
          )}
          {turn.recordedFee !== undefined ? (
            <Text size="xs" fw={600} data-testid="answer-fee">
              {t('play.feeRecorded', { fee: formatMoney(turn.recordedFee) })}
            </Text>
          ) : turn.estimatedFee !== undefined ? (
            <Text size="xs" data-testid="answer-fee-estimate">
              {t('play.feeEstimated', { fee: formatMoney(turn.estimatedFee) })}
            </Text>
          ) : null}
        </Group>
      )}
    </Paper>
  );
}
