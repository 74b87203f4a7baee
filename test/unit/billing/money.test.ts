import { NumberValue } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { applyCharge, headroom, spendable } from '../../../lambdas/core/billing/allowance.js';
import { CACHE_READ_FRACTION, CACHE_WRITE_FRACTION, costOf, pricesOf } from '../../../lambdas/core/billing/cost.js';
import { estimateChatCost } from '../../../lambdas/core/chat/estimate.js';
import { estimateEmbeddingsTokens } from '../../../lambdas/core/embeddings/pipeline.js';
import { feeFor, formatMoney, inputMoney, money, moneyToJson, type Money } from '../../../lambdas/core/money.js';
import type { ApiKey } from '../../../lambdas/core/store/keys.js';
import type { Model } from '../../../lambdas/core/store/models.js';
import { decodeChatCompletion } from '../../../lambdas/core/wire/openai-chat/decode.js';
import type { ChatCompletionRequest } from '../../../lambdas/core/wire/openai-chat/types.js';

const usage = (inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheWriteTokens = 0) => ({
  inputTokens,
  outputTokens,
  cacheReadTokens,
  cacheWriteTokens,
  reasoningTokens: 0,
});

function model(priceIn: string, priceOut: string, extra: Partial<Model> = {}): Model {
  return {
    id: 1,
    name: 'm',
    groupId: null,
    multiple: false,
    provider: 'bedrock-converse',
    config: {},
    priceIn: money(priceIn),
    priceOut: money(priceOut),
    priceCacheRead: undefined,
    priceCacheWrite: undefined,
    free: false,
    createdAt: '',
    updatedAt: '',
    ...extra,
  };
}

function key(p: Partial<ApiKey>): ApiKey {
  return {
    id: 1,
    hash: 'h',
    name: 'k',
    email: '',
    role: 'user',
    groupId: null,
    monthQuota: 0n,
    monthFee: 0n,
    feeMonth: '2026-11',
    balance: 0n,
    totalFee: 0n,
    reserved: 0n,
    leases: new Map(),
    limits: { rpm: null, tpm: null, maxParallel: null },
    rate: { window: 0, requests: 0, tokens: 0 },
    parallel: 0,
    status: 'active',
    expiresAt: null,
    keyHint: '',
    createdAt: '',
    updatedAt: '',
    rev: 0,
    termsRev: 0,
    resetFenceUntil: 0,
    ...p,
  };
}

describe('exact money', () => {
  it('100,000 fees of 0.000138 add up to exactly 13.8 (binary floats do not)', () => {
    const fee = money('0.000138');
    let sum: Money = 0n;
    let float = 0;
    for (let i = 0; i < 100_000; i++) {
      sum += fee;
      float += 0.000138;
    }
    expect(sum).toBe(money('13.8'));
    expect(formatMoney(sum)).toBe('13.8');
    expect(moneyToJson(sum)).toBe(13.8);
    expect(float).not.toBe(13.8); // the reason money is bigint pico-dollars
  });

  it('parses numbers, strings and exponent forms exactly and formats without trailing zeros', () => {
    expect(money(0.1) + money(0.2)).toBe(money('0.3'));
    expect(money(1.5e-7)).toBe(money('0.00000015'));
    expect(formatMoney(money('-2.500'))).toBe('-2.5');
    expect(formatMoney(money('0'))).toBe('0');
    expect(() => money('0.0000000000001')).toThrow();
    expect(() => money('1.2345678', 6)).toThrow();
  });

  it('accepts only plain decimal strings and sane magnitudes', () => {
    expect(money(' 1 ')).toBe(money(1));
    expect(money('00.1')).toBe(money('0.1'));
    for (const bad of ['1e3', '0x1e', '.5', '1.', '', '1,5', 'NaN', 'Infinity', '1 000']) expect(() => money(bad), bad).toThrow();
    // Client input is bounded at 1e12; stored sums past it (a balance of many recharges) still read back exactly.
    expect(() => inputMoney(1e13)).toThrow('at most 1000000000000');
    expect(() => inputMoney('-1000000000000.5')).toThrow();
    expect(() => inputMoney('12345678901234567890123456789012345678901')).toThrow();
    expect(inputMoney('1000000000000')).toBe(money(1e12));
    expect(formatMoney(money(NumberValue.from('2000000000000.25')))).toBe('2000000000000.25');
    expect(money('999999999999')).toBe(money(999999999999));
  });
});

describe('cost', () => {
  it('11 in / 7 out at 3 / 15 per 1M is exactly 0.000138', () => {
    expect(formatMoney(costOf(usage(11, 7), pricesOf(model('3', '15'))))).toBe('0.000138');
  });

  it('prices cache reads at 10% and cache writes at 125% of price_in by default, or at the model prices', () => {
    const m = model('3', '15');
    const p = pricesOf(m);
    expect(CACHE_READ_FRACTION.num * 10n).toBe(CACHE_READ_FRACTION.den);
    expect(CACHE_WRITE_FRACTION.num * 4n).toBe(CACHE_WRITE_FRACTION.den * 5n);
    expect(formatMoney(p.cacheRead)).toBe('0.3');
    expect(formatMoney(p.cacheWrite)).toBe('3.75');
    // 1000 in × 3 + 100 out × 15 + 2000 read × 0.3 + 400 write × 3.75 = 3000 + 1500 + 600 + 1500 = 6600 per 1M
    expect(formatMoney(costOf(usage(1000, 100, 2000, 400), p))).toBe('0.0066');
    const explicit = pricesOf(model('3', '15', { priceCacheRead: money('0.5'), priceCacheWrite: money('4') }));
    expect(formatMoney(costOf(usage(0, 0, 2_000_000, 1_000_000), explicit))).toBe('5');
  });

  it('is exact for prices with 6 decimals and odd token counts', () => {
    const p = pricesOf(model('0.123457', '1.654321'));
    // 12345 × 0.123457 + 6789 × 1.654321 = 1524.076665 + 11231.185269 = 12755.261934 (per 1M)
    expect(formatMoney(costOf(usage(12_345, 6_789), p))).toBe('0.012755261934');
    expect(feeFor(1, money('0.000001'))).toBe(1n); // 1e-12 USD: the smallest unit, still exact
  });

  it('embeddings bill input tokens only', () => {
    const p = pricesOf(model('0.02', '15'));
    expect(formatMoney(costOf(usage(1000, 0), p))).toBe('0.00002');
    expect(estimateEmbeddingsTokens(['abc', 'def'])).toBe(Math.ceil(6 / 3) + 2);
  });

  it('the admission estimate covers max_tokens of output', () => {
    const p = pricesOf(model('3', '15'));
    const est = estimateChatCost(decodeChatCompletion({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 10 }), p);
    expect(formatMoney(est)).toBe('0.000153'); // ceil(1/3)=1 in × 3 + 10 out × 15
  });

  it('the admission estimate also covers a thinking budget, which upstream adds on top of max_tokens', () => {
    const p = pricesOf(model('3', '15'));
    const base: ChatCompletionRequest = { model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 1 };
    const est = (req: Partial<ChatCompletionRequest>, config = {}) =>
      estimateChatCost(decodeChatCompletion({ ...base, ...req }), p, config);
    expect(est({ thinking: { type: 'enabled', budget_tokens: 60000 } })).toBe(costOf(usage(1, 60001), p));
    expect(est({ reasoning_effort: 'high' })).toBe(costOf(usage(1, 1 + 16384), p));
    expect(est({}, { thinking: { budgetTokens: 32000 } })).toBe(costOf(usage(1, 1 + 32000), p));
    expect(est({ thinking: { type: 'disabled' } }, { thinking: true })).toBe(costOf(usage(1, 1), p));
  });

  it('a limit that counts reasoning (max_completion_tokens) is the whole output estimate', () => {
    const p = pricesOf(model('3', '15'));
    const req = decodeChatCompletion({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      max_completion_tokens: 3000,
      reasoning_effort: 'high',
    });
    expect(estimateChatCost(req, p)).toBe(costOf(usage(1, 3000), p));
  });

  it('documents are estimated from their size, not a flat amount', () => {
    const p = pricesOf(model('3', '0'));
    // A real PDF (the decoder checks the signature): 300 000 bytes.
    const pdf = Buffer.alloc(300_000);
    pdf.write('%PDF-1.7\n');
    const req: ChatCompletionRequest = {
      model: 'm',
      max_tokens: 1,
      messages: [
        { role: 'user', content: [{ type: 'file', file: { file_data: `data:application/pdf;base64,${pdf.toString('base64')}` } }] },
      ],
    };
    expect(estimateChatCost(decodeChatCompletion(req), p)).toBe(costOf(usage(100_000, 0), p));
  });
});

describe('quota then balance', () => {
  it('month_fee fills up to month_quota, the rest comes out of balance', () => {
    const k = key({ monthQuota: money('1'), monthFee: money('0.9'), balance: money('5') });
    expect(applyCharge(k, money('0.25'), '2026-11')).toEqual({ monthFee: money('1'), balance: money('4.85') });
    expect(applyCharge(k, money('0.05'), '2026-11')).toEqual({ monthFee: money('0.95'), balance: money('5') });
  });

  it('a stored month_fee of an earlier month counts as zero (lazy reset)', () => {
    const k = key({ monthQuota: money('1'), monthFee: money('1'), feeMonth: '2026-10', balance: 0n });
    expect(spendable(k, '2026-10')).toBe(0n);
    expect(spendable(k, '2026-11')).toBe(money('1'));
    expect(applyCharge(k, money('0.3'), '2026-11')).toEqual({ monthFee: money('0.3'), balance: 0n });
  });

  it('headroom subtracts what in-flight requests hold; balance can go negative by an overspend', () => {
    const k = key({ monthQuota: money('1'), monthFee: money('0.5'), balance: money('0.2'), reserved: money('0.6') });
    expect(headroom(k, '2026-11')).toBe(money('0.1'));
    expect(applyCharge(k, money('0.8'), '2026-11')).toEqual({ monthFee: money('1'), balance: money('-0.1') });
  });
});

describe('numbers in exponent form', () => {
  it('are read digit for digit, large and small', () => {
    expect(money(1.5e-7)).toBe(150_000n);
    expect(money(1e-12)).toBe(1n);
    expect(money(2.5e21, 0)).toBe(2_500_000_000_000_000_000_000n * 10n ** 12n);
    expect(money(-1e22, 0)).toBe(-(10n ** 34n));
  });

  it('are refused for what they are, not a misquote ("1e+3" for 1e30)', () => {
    expect(() => inputMoney(1e30)).toThrow(/must be at most/);
    expect(() => money(1e-13)).toThrow(/at most 12 decimal places/);
  });
});
