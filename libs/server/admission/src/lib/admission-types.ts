import type { AnyAdmissionScope, AnyAdmissionScopeKind } from './admission-keys';
import type { AdmissionWindows } from './windows';

/** Limits of one scope; null = unlimited. Money in nano-USD. */
export interface LimitSettings {
  dailyBudgetNano: bigint | null;
  monthlyBudgetNano: bigint | null;
  totalBudgetNano: bigint | null;
  /** requests in any 60-second interval */
  rpm: number | null;
  /** tokens (estimated at admission, actual once settled) in any 60-second interval */
  tpm: number | null;
  /** requests in flight at once */
  maxConcurrent: number | null;
}

export const NO_LIMITS: Readonly<LimitSettings> = Object.freeze({
  dailyBudgetNano: null,
  monthlyBudgetNano: null,
  totalBudgetNano: null,
  rpm: null,
  tpm: null,
  maxConcurrent: null,
});

export const LIMIT_FIELDS = [
  'dailyBudgetNano',
  'monthlyBudgetNano',
  'totalBudgetNano',
  'rpm',
  'tpm',
  'maxConcurrent',
] as const satisfies readonly (keyof LimitSettings)[];

export interface AdmitRequest {
  /** unique per request (the proxy's request id); names the reservation */
  reservationId: string;
  orgId: string;
  tenantId: string;
  keyId: string;
  /**
   * the public model requested: the key×model and tenant×model scopes of this model take part when
   * they have limits; absent or null: only key, tenant and organisation
   */
  model?: string | null;
  /** the organisation's billing time zone (IANA); day and month windows follow it */
  timeZone: string;
  /** epoch ms; defaults to Date.now() */
  now?: number;
  /** prompt estimate + max_tokens (or the configured cap): counted against tpm */
  estimatedTokens: number;
  /** the most the request may cost: reserved against every budget and the balance */
  estimatedCostNano: bigint;
  /** after this the sweeper releases the reservation; defaults to the store's reservationTtlMs */
  ttlMs?: number;
  /**
   * how many requests the reservation admits (default 1). More than one makes a lease: the
   * estimates above are then the sum for all of them, and every rpm and concurrency limit counts
   * them all from now until the reservation ends (`ActualUsage.requests` gives back those that
   * never ran)
   */
  requests?: number;
  /**
   * the requests may start up to a second after `now` (a lease handed out over its life): they are
   * counted in the next one-second rate bucket, so each counts for at least a minute from its start
   */
  startsWithinSecond?: boolean;
  /**
   * ask whether this much more would still fit on every limit after this reservation
   * (`farFromLimits` of the result): what a caller checks before it reserves ahead of demand
   */
  headroom?: AdmissionHeadroom;
}

export interface AdmissionHeadroom {
  costNano: bigint;
  tokens: number;
  requests: number;
}

/** What settle/release need; returned by a successful admit. */
export interface Reservation {
  reservationId: string;
  orgId: string;
  tenantId: string;
  keyId: string;
  /** the model admitted for (null / absent: none); names the per-model counters to settle */
  model?: string | null;
  dayId: string;
  monthId: string;
  estimatedCostNano: bigint;
  estimatedTokens: number;
  /** the requests it admits (absent: 1; more for a lease) */
  requests?: number;
  /** epoch ms after which the sweeper may release it */
  expiresAt: number;
}

/** One dimension of the x-ratelimit-* headers: the scope with the least left. */
export interface RateLimitStatus {
  limit: number;
  remaining: number;
  /** ms until the oldest request (or tokens) in the 60-second window leave it */
  resetMs: number;
}

export interface RateLimitSnapshot {
  /** null when no scope limits requests per minute */
  requests: RateLimitStatus | null;
  /** null when no scope limits tokens per minute */
  tokens: RateLimitStatus | null;
}

export const ADMISSION_REJECT_REASONS = [
  'budget_daily',
  'budget_monthly',
  'budget_total',
  'balance',
  'rpm',
  'tpm',
  'concurrency',
] as const;
export type AdmissionRejectReason = (typeof ADMISSION_REJECT_REASONS)[number];

export type AdmitResult =
  | {
      admitted: true;
      reservation: Reservation;
      rateLimits: RateLimitSnapshot;
      windows: AdmissionWindows;
      /** the headroom asked for is there on every limit (null: none was asked for) */
      farFromLimits: boolean | null;
    }
  | {
      admitted: false;
      /** the scope that refused: `key-model` / `tenant-model` are the per-model limits */
      scope: AnyAdmissionScopeKind;
      /** the model of a `key-model` / `tenant-model` refusal, else null */
      model: string | null;
      reason: AdmissionRejectReason;
      /** null: waiting does not help (total budget, balance, a request bigger than the tpm limit) */
      retryAfterMs: number | null;
      rateLimits: RateLimitSnapshot;
    };

export interface ActualUsage {
  costNano: bigint;
  /** input + output tokens; replaces the estimate in the tpm window */
  tokens: number;
  /**
   * how many of the reservation's requests ran (default: all); the others leave the rpm window.
   * Cost and tokens are the sum over those that ran.
   */
  requests?: number;
}

/** `duplicate`: already settled or released (nothing changed); `unknown`: no such reservation. */
export type SettleOutcome = 'settled' | 'duplicate' | 'unknown';
export type ReleaseOutcome = 'released' | 'duplicate' | 'unknown';

export interface SweepReport {
  organisations: number;
  released: number;
  /** organisations dropped from the sweep index (idle, nothing outstanding) */
  forgotten: number;
}

export interface WindowState {
  id: string;
  /** epoch ms */
  start: number;
  end: number;
  spentNano: bigint;
  reservedNano: bigint;
}

/** Settings and live counters of one scope, for the management API. */
export interface AdmissionState {
  scope: AnyAdmissionScope;
  settings: LimitSettings;
  windows: AdmissionWindows;
  day: WindowState;
  month: WindowState;
  total: { spentNano: bigint; reservedNano: bigint };
  /** admitted in the last 60 s (counted only while the scope has an rpm limit) */
  requestsLastMinute: number;
  /** tokens in the last 60 s (counted only while the scope has a tpm limit) */
  tokensLastMinute: number;
  /** in flight (counted only while the scope has a concurrency limit) */
  concurrent: number;
  /** prepaid balance, organisation scope only; null = not on prepaid */
  balanceNano: bigint | null;
}

/** One spend counter of a scope: a local day, a local month, or everything so far. */
export type SpendWindow =
  | { kind: 'day'; /** `YYYY-MM-DD` in the org's time zone */ id: string }
  | { kind: 'month'; /** `YYYY-MM` in the org's time zone */ id: string }
  | { kind: 'total' };

export interface SpendCounter {
  /** settled (committed) spend */
  spentNano: bigint;
  /** held by reservations not yet settled or released */
  reservedNano: bigint;
}

/** `replaced`: written; `conflict`: the counter moved since it was read (nothing written). */
export type ReplaceSpentOutcome = 'replaced' | 'conflict';
