/**
 * Money is an integer number of nano-US-dollars (1 USD = 1e9 nano-USD) held in a bigint.
 * These are the only conversions between that and the decimal strings of the APIs.
 */
export const NANO_PER_USD = 1_000_000_000n;

const DECIMAL = /^(0|[1-9]\d{0,11})(?:\.(\d{1,9}))?$/;

export class InvalidUsdAmountError extends Error {
  constructor(readonly input: string) {
    super(`not a valid USD amount: ${JSON.stringify(input)}`);
  }
}

/** "2.5" → 2_500_000_000n. Rejects signs, exponents, more than 9 decimals and floats' junk. */
export function parseUsdToNano(input: string): bigint {
  const m = DECIMAL.exec(input);
  if (!m) throw new InvalidUsdAmountError(input);
  const whole = BigInt(m[1]);
  const frac = BigInt((m[2] ?? '').padEnd(9, '0'));
  return whole * NANO_PER_USD + frac;
}

/** 2_500_000_000n → "2.5"; keeps at least `minFractionDigits` (default 2) digits after the point. */
export function formatNanoAsUsd(nano: bigint, minFractionDigits = 2): string {
  const negative = nano < 0n;
  const abs = negative ? -nano : nano;
  const whole = abs / NANO_PER_USD;
  let frac = (abs % NANO_PER_USD).toString().padStart(9, '0').replace(/0+$/, '');
  if (frac.length < minFractionDigits) frac = frac.padEnd(minFractionDigits, '0');
  return `${negative ? '-' : ''}${whole.toString()}${frac.length ? `.${frac}` : ''}`;
}
