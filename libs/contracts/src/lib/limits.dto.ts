import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { USD_DECIMAL_MESSAGE, USD_DECIMAL_PATTERN } from './money';

/**
 * Budgets and rate limits of one scope (organisation, tenant or key), as
 * `PUT/GET /api/v1/{orgs|tenants|keys}/{id}/limits` exchange them. Budgets are decimal USD strings
 * (nano-USD inside); every field is `null` when the scope has no such limit.
 */

export const LIMIT_SCOPES = ['org', 'tenant', 'key'] as const;
export type LimitScope = (typeof LIMIT_SCOPES)[number];

/** Upper bounds of the rate limits (the admission script accepts counts up to 1e12). */
export const MAX_RPM = 1_000_000_000;
export const MAX_TPM = 1_000_000_000_000;
export const MAX_CONCURRENT = 1_000_000;

/**
 * `PUT …/limits`: an omitted field keeps its value, `null` clears it (unlimited), a value sets it.
 * `0` is a real limit (nothing is admitted), not "unlimited".
 */
export class UpdateLimitsRequestDto {
  /** per calendar day of the organisation's billing time zone */
  @IsOptional()
  @IsString()
  @Matches(USD_DECIMAL_PATTERN, { message: `dailyBudgetUsd ${USD_DECIMAL_MESSAGE}` })
  dailyBudgetUsd?: string | null;

  /** per calendar month of the organisation's billing time zone */
  @IsOptional()
  @IsString()
  @Matches(USD_DECIMAL_PATTERN, { message: `monthlyBudgetUsd ${USD_DECIMAL_MESSAGE}` })
  monthlyBudgetUsd?: string | null;

  /** since the beginning */
  @IsOptional()
  @IsString()
  @Matches(USD_DECIMAL_PATTERN, { message: `totalBudgetUsd ${USD_DECIMAL_MESSAGE}` })
  totalBudgetUsd?: string | null;

  /** requests in any 60-second interval */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_RPM)
  rpm?: number | null;

  /** tokens in any 60-second interval */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TPM)
  tpm?: number | null;

  /** requests in flight at once */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_CONCURRENT)
  maxConcurrent?: number | null;
}

/** The six settings of a scope; `null` = unlimited. */
export interface LimitsResponseDto {
  dailyBudgetUsd: string | null;
  monthlyBudgetUsd: string | null;
  totalBudgetUsd: string | null;
  rpm: number | null;
  tpm: number | null;
  maxConcurrent: number | null;
}

/** Spend in one budget window (the admission counters in Redis, not the billing ledger). */
export interface LimitWindowUsageDto {
  /** `YYYY-MM-DD` (day) or `YYYY-MM` (month) in the organisation's billing time zone */
  id: string;
  /** ISO instants: the window is [start, end) */
  start: string;
  end: string;
  /** settled cost of admitted requests */
  spentUsd: string;
  /** held by requests in flight */
  reservedUsd: string;
}

/** `GET …/limits`: the settings plus the live counters of the scope. */
export interface LimitsStateResponseDto extends LimitsResponseDto {
  scope: LimitScope;
  /** the organisation's billing time zone, which the day and month windows follow */
  timeZone: string;
  usage: {
    day: LimitWindowUsageDto;
    month: LimitWindowUsageDto;
    total: { spentUsd: string; reservedUsd: string };
    /** counted only while the scope has an rpm limit */
    requestsLastMinute: number;
    /** counted only while the scope has a tpm limit */
    tokensLastMinute: number;
    /** counted only while the scope has a concurrency limit */
    concurrent: number;
  };
}

/** Scopes that may have per-model limits: `…/{tenants|keys}/{id}/limits/models/{model}`. */
export const MODEL_LIMIT_SCOPES = ['tenant', 'key'] as const;
export type ModelLimitScope = (typeof MODEL_LIMIT_SCOPES)[number];

/**
 * A public model name in a per-model limits path (URL-encoded there): 1–200 characters, a letter
 * or digit first, then letters, digits and `. _ : / @ + -`.
 */
export const MODEL_LIMIT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;
export const MODEL_LIMIT_NAME_MESSAGE =
  'model must be 1 to 200 characters: a letter or digit, then letters, digits or . _ : / @ + -';

/** `PUT …/limits/models/{model}`: the six settings of one public model on a tenant or key. */
export interface ModelLimitsResponseDto extends LimitsResponseDto {
  model: string;
}

/** `GET …/limits/models/{model}`: settings plus the live counters of that model on the scope. */
export interface ModelLimitsStateResponseDto extends LimitsStateResponseDto {
  model: string;
}

/** `GET …/limits/models`: every model with per-model limits on the scope, by model name. */
export interface ModelLimitsListResponseDto {
  items: ModelLimitsResponseDto[];
}
