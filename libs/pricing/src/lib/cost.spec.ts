import { computeCostNano, divRoundHalfUp } from './cost';
import { parseUsdToNano } from './money';

const price = (input: string, output: string) => ({
  inputNanoUsdPerMTok: parseUsdToNano(input),
  outputNanoUsdPerMTok: parseUsdToNano(output),
});

describe('computeCostNano', () => {
  it('prices input and output per million tokens', () => {
    // 1000 in at $2.50/M = $0.0025, 500 out at $10/M = $0.005
    expect(computeCostNano({ inputTokens: 1000, outputTokens: 500 }, price('2.5', '10'))).toBe(7_500_000n);
  });

  it('rounds half up exactly once over the whole request', () => {
    // 1 token at $0.0005/M = 0.5 nano-USD → 1; two such tokens = 1 nano exactly
    const p = price('0.0005', '0.0005');
    expect(computeCostNano({ inputTokens: 1, outputTokens: 0 }, p)).toBe(1n);
    expect(computeCostNano({ inputTokens: 1, outputTokens: 1 }, p)).toBe(1n);
    expect(computeCostNano({ inputTokens: 0, outputTokens: 0 }, p)).toBe(0n);
  });

  it('charges cached input at the cached price and never more cached than input', () => {
    const p = { ...price('1', '2'), cachedInputNanoUsdPerMTok: parseUsdToNano('0.5') };
    expect(computeCostNano({ inputTokens: 1_000_000, outputTokens: 0, cachedInputTokens: 400_000 }, p)).toBe(
      800_000_000n,
    );
    expect(computeCostNano({ inputTokens: 10, outputTokens: 0, cachedInputTokens: 99 }, p)).toBe(5_000n);
  });

  it('refuses negative or fractional token counts', () => {
    expect(() => computeCostNano({ inputTokens: -1, outputTokens: 0 }, price('1', '1'))).toThrow(RangeError);
    expect(() => computeCostNano({ inputTokens: 1.5, outputTokens: 0 }, price('1', '1'))).toThrow(RangeError);
  });
});

describe('divRoundHalfUp', () => {
  it.each([
    [5n, 10n, 1n],
    [4n, 10n, 0n],
    [15n, 10n, 2n],
    [0n, 7n, 0n],
  ])('%s / %s = %s', (n, d, q) => {
    expect(divRoundHalfUp(n, d)).toBe(q);
  });
});
