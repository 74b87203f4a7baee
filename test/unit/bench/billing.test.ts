import { describe, expect, it } from 'vitest';
import { itemSize, valueSize } from '../../../bench/lib/billing.js';

// The bench's write units "by DynamoDB's billing rules" rest on these sizes (DynamoDB developer guide, item sizes).
describe('bench: item sizes as DynamoDB counts them', () => {
  it('sizes strings in UTF-8 bytes and numbers by their significant digits', () => {
    expect(valueSize({ S: 'abc' })).toBe(3);
    expect(valueSize({ S: 'é' })).toBe(2);
    expect(valueSize({ N: '1' })).toBe(2);
    expect(valueSize({ N: '12345' })).toBe(4);
    expect(valueSize({ N: '-1234.5600' })).toBe(4);
    expect(valueSize({ N: '1000000' })).toBe(2);
    expect(valueSize({ BOOL: true })).toBe(1);
    expect(valueSize({ NULL: true })).toBe(1);
  });

  it('gives a map or a list 3 bytes, and each element 1 byte more', () => {
    // {a: 1, t: 1764650123}: 3 + (1 + "a" + 2) + (1 + "t" + 6)
    expect(valueSize({ M: { a: { N: '1' }, t: { N: '1764650123' } } })).toBe(3 + 4 + 8);
    expect(valueSize({ L: [{ S: 'ab' }, { N: '7' }] })).toBe(3 + 3 + 3);
  });

  it('adds the attribute names', () => {
    expect(itemSize({ pk: { S: 'APIKEY#x' }, n: { N: '10' } })).toBe(2 + 8 + 1 + 2);
  });
});
