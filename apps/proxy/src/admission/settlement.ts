import { computeCostNano, type TokenPrice } from '@tollgate/pricing';
import type { TokenUsage } from '@tollgate/providers';
import { MAX_ADMISSION_NANO, MAX_ADMISSION_TOKENS } from '@tollgate/server-admission';

/**
 * The largest reservation or settlement: what the usage event and the ledger's bigint column hold
 * (a huge `max_tokens` on an expensive model would otherwise overflow them); far above any budget.
 */
export const MAX_RESERVATION_NANO =
  MAX_ADMISSION_NANO < 2n ** 63n - 1n ? MAX_ADMISSION_NANO : 2n ** 63n - 1n;
export const clampNano = (v: bigint): bigint =>
  v > MAX_RESERVATION_NANO ? MAX_RESERVATION_NANO : v;
export const clampTokens = (v: number): number => Math.min(v, MAX_ADMISSION_TOKENS);

/** The tokens a request settles at (0 when it produced nothing: its reservation is released). */
export function actualTokens(usage: TokenUsage | null): number {
  return usage === null ? 0 : clampTokens(usage.inputTokens + usage.outputTokens);
}

/** The cost a request that produced tokens settles at: at the price it was admitted with (0 without one). */
export function actualCostNano(usage: TokenUsage, price: TokenPrice | null): bigint {
  return price === null ? 0n : clampNano(computeCostNano(usage, price));
}

/**
 * What an admitted request's usage record settles: its own reservation, or the lease it was
 * admitted under. `Exchange.record` calls it once, with the request's usage (null when it produced
 * nothing) and the price its reservation was estimated at.
 */
export interface AdmissionSettlement {
  settle(usage: TokenUsage | null, price: TokenPrice | null): void;
}
