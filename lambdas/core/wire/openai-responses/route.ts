/**
 * The Responses API routes:
 *   POST   /v1/responses                      create (stream or not), over the core pipeline like every chat call
 *   GET    /v1/responses/{id}                 a stored response
 *   DELETE /v1/responses/{id}                 forget it
 *   GET    /v1/responses/{id}/input_items     the items the model saw (earlier turns of the conversation included)
 * Same keys, grants, quota, billing and records as chat completions. Everything that can refuse a create — auth,
 * validation, model, permission, quota, a stored conversation that does not exist, the upstream's first answer —
 * happens before a status is committed; after `200 text/event-stream` a failure is an `error` + `response.failed`.
 */
import { authenticate, servePresented } from '../../auth/authenticate.js';
import { resolveModelForKey } from '../../auth/model-access.js';
import { type ChatRun, runChat } from '../../chat/pipeline.js';
import { config } from '../../config.js';
import { asGatewayError, errors, GatewayError } from '../../errors.js';
import type { JsonValue } from '../../json.js';
import { rateLimitHeaders } from '../../limits/types.js';
import { logger } from '../../log.js';
import { sealingKey } from '../../sealing/sealing-key.js';
import type { ApiKey } from '../../store/keys.js';
import { deleteResponse, getItems, getResponse, putResponse } from '../../store/responses.js';
import { parse } from '../../validate.js';
import { jsonResponse, type V1Request, type V1Response } from '../http.js';
import { openAIErrorResponse } from '../openai/errors.js';
import { sessionKeyOf } from '../session.js';
import { SSE_HEADERS, SseStream } from '../sse.js';
import { decodeResponses, type PlacedItem } from './decode.js';
import { newItemId, type ResponseEcho, ResponsesEncoder, withoutEncryptedContent } from './encode.js';
import { openReasoning, sealReasoning } from './reasoning-seal.js';
import { inputItemsQuerySchema, MAX_ID_LENGTH, responsesRequestSchema } from './schemas.js';
import type { ConversationItem, InputItem, OutputItem, ResponseObject, ResponsesRequest } from './types.js';

/** A conversation continued by previous_response_id may be at most this many responses long. */
const MAX_CHAIN = 1000;
/** A stored response's own input, as JSON, at most (a /v1 request on Lambda is at most 6 MB anyway). */
const MAX_STORED_INPUT_BYTES = 6 * 1024 * 1024;
const ENCRYPTED_REASONING = 'reasoning.encrypted_content';

/** What one stored response keeps (the body of store/responses.ts). */
interface StoredBody {
  response: ResponseObject;
  /** This request's own input items (references resolved, ids assigned). */
  input: ConversationItem[];
  /** The responses before it in its conversation, oldest first. */
  ancestors: string[];
  includeEncrypted: boolean;
}

export async function responses(method: string, path: string, input: V1Request): Promise<V1Response> {
  try {
    const rest = path.slice('/v1/responses'.length);
    if (rest === '') {
      if (method === 'POST') return await create(input);
      throw errors.notFound(`Unknown route: ${method} ${path}`);
    }
    const [raw, sub, ...more] = rest.slice(1).split('/');
    const id = pathId(raw);
    if (more.length === 0 && sub === undefined && method === 'GET') return await retrieve(id, input);
    if (more.length === 0 && sub === undefined && method === 'DELETE') return await remove(id, input);
    if (more.length === 0 && sub === 'input_items' && method === 'GET') return await listInputItems(id, input);
    throw errors.notFound(`Unknown route: ${method} ${path}`);
  } catch (e) {
    return openAIErrorResponse(asGatewayError(e, input.requestId), input.requestId);
  }
}

function pathId(raw: string): string {
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    throw errors.badRequest('The response id in the path is not valid URL encoding.', 'response_id');
  }
  if (id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw errors.badRequest(`A response id has 1 to ${MAX_ID_LENGTH} characters.`, 'response_id');
  }
  return id;
}

// ---------------------------------------------------------------------------------------------------------------
// POST /v1/responses
// ---------------------------------------------------------------------------------------------------------------

/**
 * The key is looked up while the body is validated (or recalled, and confirmed by the admission: servePresented);
 * a bad key still wins over a bad body (401).
 */
function create(input: V1Request): Promise<V1Response> {
  return servePresented(
    input.headers,
    () => parse(responsesRequestSchema, input.body),
    (key, req) => createFor(input, key, req),
  );
}

async function createFor(input: V1Request, key: ApiKey, req: ResponsesRequest): Promise<V1Response> {
  const model = await resolveModelForKey(key, req.model);
  const sealKey = await sealingKey();
  const store = req.store !== false;
  const includeEncrypted = req.include?.includes(ENCRYPTED_REASONING) ?? false;

  const previous = req.previous_response_id ? await loadConversation(req.previous_response_id, key.id, 'previous_response_id') : undefined;
  const own = await resolveReferences(normalizeInput(req.input), key.id, new Set(previous?.items.map((i) => i.id)));
  if (store && Buffer.byteLength(JSON.stringify(own.map((o) => o.item)), 'utf8') > MAX_STORED_INPUT_BYTES) {
    throw errors.badRequest(
      `A stored response's input is limited to ${MAX_STORED_INPUT_BYTES / 1024 / 1024} MiB; send store: false.`,
      'store',
    );
  }
  if (previous && previous.chain.length >= MAX_CHAIN) {
    throw errors.badRequest(
      `previous_response_id continues conversations of up to ${MAX_CHAIN} responses; send the history as input instead.`,
      'previous_response_id',
    );
  }
  const placed: PlacedItem[] = [...(previous?.items ?? []).map((item) => ({ item, path: 'previous_response_id' })), ...own];
  const decoded = decodeResponses(req, placed, {
    openReasoning: (token, path) => openReasoning(sealKey, key.id, req.model, token, path),
  });

  const echo: ResponseEcho = {
    id: newItemId('resp'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: req.model,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: req.previous_response_id ?? null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: req.reasoning?.summary ?? null },
    store,
    temperature: req.temperature ?? null,
    // verbosity is echoed as given (medium by default, as OpenAI does); no Bedrock model has such a setting.
    text: { format: req.text?.format ?? { type: 'text' }, verbosity: req.text?.verbosity ?? 'medium' },
    tool_choice: req.tool_choice ?? 'auto',
    tools: decoded.offeredTools,
    top_p: req.top_p ?? null,
    truncation: 'disabled',
    user: req.user ?? null,
    metadata: req.metadata ?? {},
    background: false,
    ...(decoded.ignoredTools.length > 0 ? { ignored_tools: decoded.ignoredTools } : {}),
  };
  const encoder = new ResponsesEncoder({
    echo,
    customTools: decoded.customTools,
    includeEncrypted,
    seal: (r) => sealReasoning(sealKey, key.id, req.model, r),
  });
  const save = async (response: ResponseObject) => {
    if (!store) return;
    const body: StoredBody = {
      response,
      input: own.map((o) => o.item),
      ancestors: previous?.chain ?? [],
      includeEncrypted,
    };
    try {
      const items = response.output.map((item) => ({ id: item.id, value: item as unknown as JsonValue }));
      await putResponse(
        { id: response.id, keyId: key.id, createdAt: Date.now(), body: body as unknown as JsonValue },
        items,
        config().responsesTtlDays,
      );
    } catch (e) {
      // The answer was delivered and billed; a store that fails now only makes it not retrievable.
      logger.error('could not store a response', { responseId: response.id, requestId: input.requestId, error: e as Error });
    }
  };

  const run = await runChat({
    key,
    model,
    request: decoded.request,
    requestId: input.requestId,
    invocation: input.invocation,
    sessionKey: sessionKeyOf(input.headers),
  });
  const headers = { 'x-request-id': input.requestId, ...rateLimitHeaders(run.rate) };
  if (req.stream !== true) {
    encoder.start();
    for await (const ev of run.events) {
      if (ev.type === 'error') throw ev.error;
      encoder.encode(ev);
    }
    const { response } = encoder.end();
    await Promise.all([save(response), run.settled]); // a whole JSON answer follows the books
    return jsonResponse(200, encoder.forClient(response), headers);
  }
  const body = new SseStream(config().sseKeepAliveMs);
  body.onAbort = () => run.abort();
  body.settled = pump(run, body, encoder, save).finally(() => run.settled);
  return { statusCode: 200, headers: { ...SSE_HEADERS, ...headers }, body };
}

/**
 * Relays events as they come. The response is stored before the closing event: a client that retrieves it, or
 * continues from it, right after `response.completed` finds it; the call is settled before it too, unless
 * SETTLE_AFTER_LAST_BYTE (see config.ts).
 */
async function pump(run: ChatRun, body: SseStream, encoder: ResponsesEncoder, save: (r: ResponseObject) => Promise<void>): Promise<void> {
  const write = (events: ReturnType<ResponsesEncoder['start']>) => {
    for (const ev of events) body.event(ev.type, ev);
  };
  write(encoder.start());
  let closing: ReturnType<ResponsesEncoder['end']> | undefined;
  for await (const ev of run.events) {
    if (body.destroyed) break;
    if (ev.type === 'error') {
      closing = encoder.fail(ev.error);
      break;
    }
    write(encoder.encode(ev));
  }
  if (!body.destroyed) {
    closing ??= encoder.end();
    await save(closing.response);
    write(closing.events);
  }
  body.close();
}

/**
 * `input` as items, in the shape OpenAI lists them (input_items): a string is one user message, a message's string
 * content one text part, a message without a status completed; every item gets an id if it has none.
 */
function normalizeInput(input: ResponsesRequest['input']): Array<{ item: InputItem; path: string }> {
  if (input === undefined) return [];
  if (typeof input === 'string') {
    return [
      {
        item: { type: 'message', id: newItemId('msg'), role: 'user', content: [{ type: 'input_text', text: input }], status: 'completed' },
        path: 'input',
      },
    ];
  }
  return input.map((item, i) => {
    let out: InputItem = item.id ? item : { ...item, id: newItemId(ID_PREFIX[item.type]) };
    if (out.type === 'message') {
      const content =
        typeof out.content === 'string'
          ? [
              out.role === 'assistant'
                ? { type: 'output_text' as const, text: out.content, annotations: [] }
                : { type: 'input_text' as const, text: out.content },
            ]
          : out.content;
      out = { ...out, content, status: out.status ?? 'completed' };
    }
    return { item: out, path: `input[${i}]` };
  });
}

const ID_PREFIX: Record<InputItem['type'], string> = {
  message: 'msg',
  function_call: 'fc',
  custom_tool_call: 'ctc',
  function_call_output: 'fco',
  custom_tool_call_output: 'ctco',
  reasoning: 'rs',
  item_reference: 'ref',
};

/**
 * item_reference → the stored output item it names (this key's, not expired). A reference to an item the continued
 * conversation already holds is dropped (the item is there once).
 */
async function resolveReferences(
  items: Array<{ item: InputItem; path: string }>,
  keyId: number,
  already: Set<string | undefined>,
): Promise<PlacedItem[]> {
  const wanted = items.flatMap((p) => (p.item.type === 'item_reference' && !already.has(p.item.id) ? [p.item.id] : []));
  const found = wanted.length > 0 ? await getItems(wanted, keyId) : new Map<string, JsonValue>();
  return items.flatMap(({ item, path }): PlacedItem[] => {
    if (item.type !== 'item_reference') return [{ item, path }];
    if (already.has(item.id)) return [];
    const stored = found.get(item.id);
    if (stored === undefined) throw missing(`${path}: no stored item '${item.id}' for this key.`, `${path}.id`);
    return [{ item: stored as unknown as ConversationItem, path }];
  });
}

/** A stored conversation: the responses of its chain, oldest first, each one's input then its output. */
async function loadConversation(
  id: string,
  keyId: number,
  param: string,
): Promise<{ chain: string[]; items: Array<ConversationItem & { id?: string }> }> {
  const last = await getResponse(id, keyId);
  if (!last) throw notFound(id, param);
  const body = last.body as unknown as StoredBody;
  const chain = [...body.ancestors, id];
  const earlier = await ancestorBodies(body.ancestors, keyId);
  const gone = body.ancestors.find((_, i) => !earlier[i]);
  if (gone) {
    throw missing(`An earlier response of the conversation of '${id}' (${gone}) is no longer stored; send the history as input.`, param);
  }
  const bodies = [...(earlier as StoredBody[]), body];
  return { chain, items: bodies.flatMap((b) => [...b.input, ...b.response.output]) };
}

/** The stored bodies of a response's ancestors, oldest first; undefined where one was deleted or has expired. */
const ancestorBodies = (ancestors: string[], keyId: number): Promise<Array<StoredBody | undefined>> =>
  mapLimit(ancestors, 8, async (ancestor) => (await getResponse(ancestor, keyId))?.body as unknown as StoredBody | undefined);

const missing = (message: string, param: string) => new GatewayError(404, message, { kind: 'not_found', code: 'not_found', param });
const notFound = (id: string, param: string) => missing(`No response with id '${id}' is stored for this key.`, param);

async function mapLimit<T, R>(values: T[], limit: number, fn: (v: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(values.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, values.length) }, async () => {
      while (next < values.length) {
        const i = next++;
        out[i] = await fn(values[i]);
      }
    }),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// GET / DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items
// ---------------------------------------------------------------------------------------------------------------

async function retrieve(id: string, input: V1Request): Promise<V1Response> {
  const key = await authenticate(input.headers);
  const stored = await getResponse(id, key.id);
  if (!stored) throw notFound(id, 'response_id');
  const body = stored.body as unknown as StoredBody;
  const include = body.includeEncrypted || (input.query?.['include[]'] ?? input.query?.include ?? '').includes(ENCRYPTED_REASONING);
  const response = include ? body.response : { ...body.response, output: body.response.output.map(withoutEncryptedContent) };
  return jsonResponse(200, response, { 'x-request-id': input.requestId });
}

async function remove(id: string, input: V1Request): Promise<V1Response> {
  const key = await authenticate(input.headers);
  const stored = await getResponse(id, key.id);
  if (!stored) throw notFound(id, 'response_id');
  const output = (stored.body as unknown as StoredBody).response.output;
  if (
    !(await deleteResponse(
      id,
      key.id,
      output.map((o) => o.id),
    ))
  )
    throw notFound(id, 'response_id');
  return jsonResponse(200, { id, object: 'response', deleted: true }, { 'x-request-id': input.requestId });
}

async function listInputItems(id: string, input: V1Request): Promise<V1Response> {
  const key = await authenticate(input.headers);
  const query = parse(inputItemsQuerySchema, input.query ?? {});
  const stored = await getResponse(id, key.id);
  if (!stored) throw notFound(id, 'response_id');
  const body = stored.body as unknown as StoredBody;
  // The earlier turns still stored: a deleted (or expired) earlier response drops its own items from the list, and
  // this response's stay readable, as GET /v1/responses/{id} does.
  const earlier = (await ancestorBodies(body.ancestors, key.id)).flatMap((b) => (b ? [...b.input, ...b.response.output] : []));
  let items = [...earlier, ...body.input].map((item) =>
    item.type === 'reasoning' && !body.includeEncrypted ? withoutEncryptedContent(item as OutputItem) : item,
  );
  if (query.order === 'desc') items = items.reverse();
  // A cursor that names no listed item is the client's mistake: a 400, not the whole list again.
  const cursorAt = (param: 'after' | 'before', id: string) => {
    const at = items.findIndex((i) => i.id === id);
    if (at < 0) throw errors.badRequest(`'${param}' names no input item of response '${body.response.id}'.`, param);
    return at;
  };
  if (query.after) items = items.slice(cursorAt('after', query.after) + 1);
  if (query.before) items = items.slice(0, cursorAt('before', query.before));
  const page = items.slice(0, query.limit);
  return jsonResponse(
    200,
    {
      object: 'list',
      data: page,
      first_id: page[0]?.id ?? null,
      last_id: page[page.length - 1]?.id ?? null,
      has_more: items.length > page.length,
    },
    { 'x-request-id': input.requestId },
  );
}
