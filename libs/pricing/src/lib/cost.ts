/** Prices are nano-USD per million tokens; a request's cost is rounded exactly once, here. */
export interface TokenPrice {
  inputNanoUsdPerMTok: bigint;
  outputNanoUsdPerMTok: bigint;
  /** price of cached input tokens; defaults to the input price */
  cachedInputNanoUsdPerMTok?: bigint;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  /** part of inputTokens served from the provider's prompt cache */
  cachedInputTokens?: number;
}

const PER_MILLION = 1_000_000n;

function toCount(n: number | undefined, name: string): bigint {
  const v = n ?? 0;
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return BigInt(v);
}

/** Divides with half-up rounding (values are non-negative). */
export function divRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  if (numerator < 0n) throw new RangeError('numerator must be non-negative');
  return (numerator * 2n + denominator) / (denominator * 2n);
}

/**
 * Cost in nano-USD. The sum over token classes is taken in nano-USD × 1e6 and rounded once, so a
 * request's cost never depends on how its tokens were split.
 */
export function computeCostNano(usage: TokenUsage, price: TokenPrice): bigint {
  const input = toCount(usage.inputTokens, 'inputTokens');
  const output = toCount(usage.outputTokens, 'outputTokens');
  const cachedRaw = toCount(usage.cachedInputTokens, 'cachedInputTokens');
  const cached = cachedRaw > input ? input : cachedRaw;
  const cachedPrice = price.cachedInputNanoUsdPerMTok ?? price.inputNanoUsdPerMTok;
  const scaled =
    (input - cached) * price.inputNanoUsdPerMTok +
    cached * cachedPrice +
    output * price.outputNanoUsdPerMTok;
  return divRoundHalfUp(scaled, PER_MILLION);
}
