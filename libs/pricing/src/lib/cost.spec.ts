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

  it('agrees with the sum rounded by divRoundHalfUp on every split, half-way sums included', () => {
    // a deterministic spread of token counts and prices (a linear congruential sequence)
    let x = 12345;
    const next = (n: number) => (x = (x * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 2000; i++) {
      const p = {
        inputNanoUsdPerMTok: BigInt(next(20_000_000_000)),
        outputNanoUsdPerMTok: BigInt(next(80_000_000_000)),
        ...(i % 3 === 0 ? {} : { cachedInputNanoUsdPerMTok: BigInt(next(10_000_000_000)) }),
      };
      const inputTokens = next(2_000_000);
      const outputTokens = next(100_000);
      const cachedInputTokens = i % 2 === 0 ? undefined : next(inputTokens + 10);
      const cached = BigInt(Math.min(cachedInputTokens ?? 0, inputTokens));
      const expected = divRoundHalfUp(
        (BigInt(inputTokens) - cached) * p.inputNanoUsdPerMTok +
          cached * (p.cachedInputNanoUsdPerMTok ?? p.inputNanoUsdPerMTok) +
          BigInt(outputTokens) * p.outputNanoUsdPerMTok,
        1_000_000n,
      );
      expect(computeCostNano({ inputTokens, outputTokens, cachedInputTokens }, p)).toBe(expected);
    }
    // exactly half a nano-USD and just below it
    const half = { inputNanoUsdPerMTok: 500_000n, outputNanoUsdPerMTok: 499_999n };
    expect(computeCostNano({ inputTokens: 1, outputTokens: 0 }, half)).toBe(1n);
    expect(computeCostNano({ inputTokens: 0, outputTokens: 1 }, half)).toBe(0n);
    expect(computeCostNano({ inputTokens: 1, outputTokens: 0, cachedInputTokens: 0 }, half)).toBe(1n);
  });

  it('refuses a cached count that is not a non-negative integer, and negative prices', () => {
    const p = price('1', '1');
    for (const cachedInputTokens of [-1, 0.5, Number.NaN])
      expect(() => computeCostNano({ inputTokens: 1, outputTokens: 0, cachedInputTokens }, p)).toThrow(RangeError);
    const negative = { inputNanoUsdPerMTok: -1n, outputNanoUsdPerMTok: 0n };
    expect(() => computeCostNano({ inputTokens: 1, outputTokens: 0 }, negative)).toThrow(RangeError);
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
