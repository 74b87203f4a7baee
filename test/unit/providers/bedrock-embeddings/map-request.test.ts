import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../../lambdas/core/errors.js';
import { COHERE_BATCH_SIZE, detectFamily, planEmbeddings } from '../../../../lambdas/core/providers/bedrock-embeddings/map-request.js';
import type { ResolvedModel } from '../../../../lambdas/core/providers/types.js';

const model = (config: Record<string, unknown>, name = 'emb'): ResolvedModel => ({
  id: 1,
  name,
  provider: 'bedrock-embeddings',
  config,
});
const TITAN = model({ modelId: 'amazon.titan-embed-text-v2:0' });
const COHERE = model({ modelId: 'cohere.embed-multilingual-v3' });

function gwErr(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    return e as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

describe('detectFamily', () => {
  it.each([
    ['amazon.titan-embed-text-v2:0', 'titan-text-v2'],
    ['us.amazon.titan-embed-text-v2:0', 'titan-text-v2'],
    ['amazon.titan-embed-text-v1', 'titan-text-v1'],
    ['amazon.titan-embed-g1-text-02', 'titan-text-v1'],
    ['amazon.titan-embed-image-v1', 'titan-multimodal'],
    ['cohere.embed-english-v3', 'cohere'],
    ['cohere.embed-multilingual-v3', 'cohere'],
    ['us.cohere.embed-v4:0', 'cohere'],
    ['anthropic.claude-3-haiku', null],
    ['arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc', null],
  ])('%s → %s', (id, fam) => expect(detectFamily(id)).toBe(fam));
});

describe('planEmbeddings: Titan', () => {
  it('one call per input, normalize true, no dimensions by default', () => {
    const plan = planEmbeddings({ inputs: ['a', 'b'] }, TITAN);
    expect(plan.family).toBe('titan-text-v2');
    expect(plan.inputCount).toBe(2);
    expect(plan.calls).toEqual([
      { body: { inputText: 'a', normalize: true }, indexes: [0], texts: ['a'] },
      { body: { inputText: 'b', normalize: true }, indexes: [1], texts: ['b'] },
    ]);
  });

  it.each([256, 512, 1024])('passes dimensions %i', (d) => {
    const plan = planEmbeddings({ inputs: ['x'], dimensions: d }, TITAN);
    expect(plan.calls[0].body).toEqual({ inputText: 'x', dimensions: d, normalize: true });
  });

  it.each([1, 128, 384, 768, 1536, 1024.5, 0, -256])('refuses dimensions %d', (d) => {
    const e = gwErr(() => planEmbeddings({ inputs: ['x'], dimensions: d }, TITAN));
    expect(e.status).toBe(400);
    expect(e.param).toBe('dimensions');
  });

  it('uses config dimensions as the default and the request overrides it', () => {
    const m = model({ modelId: 'amazon.titan-embed-text-v2:0', dimensions: 512 });
    expect(planEmbeddings({ inputs: ['x'] }, m).calls[0].body).toMatchObject({ dimensions: 512 });
    expect(planEmbeddings({ inputs: ['x'], dimensions: 256 }, m).calls[0].body).toMatchObject({ dimensions: 256 });
  });

  it('Titan v1 gets inputText only and refuses dimensions', () => {
    const m = model({ modelId: 'amazon.titan-embed-text-v1' });
    expect(planEmbeddings({ inputs: ['x'] }, m).calls[0].body).toEqual({ inputText: 'x' });
    expect(gwErr(() => planEmbeddings({ inputs: ['x'], dimensions: 256 }, m)).status).toBe(400);
  });

  it('Titan multimodal maps dimensions to embeddingConfig', () => {
    const m = model({ modelId: 'amazon.titan-embed-image-v1' });
    expect(planEmbeddings({ inputs: ['x'], dimensions: 384 }, m).calls[0].body).toEqual({
      inputText: 'x',
      embeddingConfig: { outputEmbeddingLength: 384 },
    });
  });
});

describe('planEmbeddings: Cohere', () => {
  it('batches by 96 with input_type search_document and float embeddings', () => {
    const input = Array.from({ length: 200 }, (_, i) => `t${i}`);
    const plan = planEmbeddings({ inputs: input }, COHERE);
    expect(COHERE_BATCH_SIZE).toBe(96);
    expect(plan.calls.map((c) => c.indexes.length)).toEqual([96, 96, 8]);
    expect(plan.calls[1].indexes[0]).toBe(96);
    expect(plan.calls[2].body).toEqual({
      texts: input.slice(192),
      input_type: 'search_document',
      embedding_types: ['float'],
    });
  });

  it('refuses dimensions', () => {
    const e = gwErr(() => planEmbeddings({ inputs: ['x'], dimensions: 1024 }, COHERE));
    expect(e.status).toBe(400);
    expect(e.param).toBe('dimensions');
  });

  it('honours a configured input_type', () => {
    const m = model({ modelId: 'cohere.embed-english-v3', inputType: 'search_query' });
    expect(planEmbeddings({ inputs: ['q'] }, m).calls[0].body).toMatchObject({ input_type: 'search_query' });
  });
});

describe('planEmbeddings: model and format checks', () => {
  it('unknown family → 400', () => {
    const e = gwErr(() => planEmbeddings({ inputs: ['a'] }, model({ modelId: 'meta.llama3' }, 'x')));
    expect(e.status).toBe(400);
    expect(e.param).toBe('model');
  });

  it('an explicit family makes ARNs usable', () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc';
    const plan = planEmbeddings({ inputs: ['a'] }, model({ modelId: arn, family: 'cohere', region: 'us-east-1' }));
    expect(plan).toMatchObject({ family: 'cohere', modelId: arn, region: 'us-east-1' });
  });

  it('invalid config → 500 misconfigured (not the client’s fault)', () => {
    const e = gwErr(() => planEmbeddings({ inputs: ['a'] }, model({ region: 'us-east-1' })));
    expect(e.status).toBe(500);
    expect(e.code).toBe('model_misconfigured');
  });
});
