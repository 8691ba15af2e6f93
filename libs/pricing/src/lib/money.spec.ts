import { formatNanoAsUsd, InvalidUsdAmountError, parseUsdToNano } from './money';

describe('parseUsdToNano', () => {
  it.each([
    ['0', 0n],
    ['2.5', 2_500_000_000n],
    ['0.000000001', 1n],
    ['15', 15_000_000_000n],
    ['123456789012.123456789', 123_456_789_012_123_456_789n],
  ])('parses %s', (input, expected) => {
    expect(parseUsdToNano(input)).toBe(expected);
  });

  it.each(['', '-1', '1e3', '1.0000000001', '01', '.5', '1.', ' 1', 'NaN', '1,5'])(
    'rejects %p',
    (input) => {
      expect(() => parseUsdToNano(input)).toThrow(InvalidUsdAmountError);
    },
  );
});

describe('formatNanoAsUsd', () => {
  it.each([
    [0n, '0.00'],
    [1n, '0.000000001'],
    [2_500_000_000n, '2.50'],
    [123_456_789n, '0.123456789'],
    [-1_500_000_000n, '-1.50'],
  ])('formats %s', (nano, expected) => {
    expect(formatNanoAsUsd(nano)).toBe(expected);
  });

  it('round-trips with parseUsdToNano', () => {
    for (const s of ['0.1', '7.25', '0.000000123', '99999']) {
      expect(parseUsdToNano(formatNanoAsUsd(parseUsdToNano(s)))).toBe(parseUsdToNano(s));
    }
  });
});
