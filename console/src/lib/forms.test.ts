import { describe, expect, it } from 'vitest';
import { isMoneyInput, jsonValueToInput, keyStatus, moneyToInput, parseJsonObject, parseLimitInput } from './forms';

describe('form values', () => {
  it('accepts money as the gateway does: up to 6 decimals, never negative', () => {
    expect(isMoneyInput('5')).toBe(true);
    expect(isMoneyInput('0.000138')).toBe(true);
    expect(isMoneyInput('0.0000001')).toBe(false);
    expect(isMoneyInput('-1')).toBe(false);
    expect(isMoneyInput('1e3')).toBe(false);
    expect(isMoneyInput('', { optional: true })).toBe(true);
    expect(isMoneyInput('')).toBe(false);
    expect(isMoneyInput('0', { positive: true })).toBe(false);
    expect(isMoneyInput('0.000', { positive: true })).toBe(false);
    expect(isMoneyInput('0.000001', { positive: true })).toBe(true);
  });

  it('accepts every amount the gateway stores and hands back, up to 1e12 (a key with a 10-digit quota stays editable)', () => {
    expect(isMoneyInput('5000000000')).toBe(true);
    expect(isMoneyInput(moneyToInput(1000000000.299999))).toBe(true);
    expect(isMoneyInput('1000000000000')).toBe(true);
    expect(isMoneyInput('1000000000000.000')).toBe(true);
    expect(isMoneyInput('1000000000000.000001')).toBe(false);
    expect(isMoneyInput('1000000000001')).toBe(false);
    expect(isMoneyInput('10000000000000')).toBe(false);
  });

  it('reads limits: empty is no limit, else a whole number', () => {
    expect(parseLimitInput('')).toBeNull();
    expect(parseLimitInput(' 600 ')).toBe(600);
    expect(parseLimitInput('1.5')).toBeUndefined();
    expect(parseLimitInput('-1')).toBeUndefined();
  });

  it('puts money back into inputs without exponent notation', () => {
    expect(moneyToInput(1e-7)).toBe('0.0000001');
    expect(moneyToInput(null)).toBe('');
  });

  it('shows config values in inputs: nothing for null, primitives as written, objects as JSON', () => {
    expect(jsonValueToInput(undefined)).toBe('');
    expect(jsonValueToInput(null, '—')).toBe('—');
    expect(jsonValueToInput('us-east-1')).toBe('us-east-1');
    expect(jsonValueToInput('', '—')).toBe('');
    expect(jsonValueToInput(4096)).toBe('4096');
    expect(jsonValueToInput(false)).toBe('false');
    expect(jsonValueToInput({ type: 'enabled' })).toBe('{"type":"enabled"}');
  });

  it('tells a JSON syntax error from JSON that is not an object', () => {
    expect(parseJsonObject('{"modelId":"x"}')).toEqual({ ok: true, value: { modelId: 'x' } });
    expect(parseJsonObject('{"modelId":')).toMatchObject({ ok: false, reason: 'syntax' });
    expect(parseJsonObject('[1]')).toMatchObject({ ok: false, reason: 'not-object' });
    expect(parseJsonObject('null')).toMatchObject({ ok: false, reason: 'not-object' });
  });
});

describe('keyStatus', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  it('is disabled before expired, and active when the backend sends neither field', () => {
    expect(keyStatus({}, now)).toBe('active');
    expect(keyStatus({ status: 'active', expires_at: '2027-01-01T00:00:00Z' }, now)).toBe('active');
    expect(keyStatus({ status: 'active', expires_at: '2026-11-30T00:00:00Z' }, now)).toBe('expired');
    expect(keyStatus({ status: 'disabled', expires_at: '2026-11-30T00:00:00Z' }, now)).toBe('disabled');
  });
});
