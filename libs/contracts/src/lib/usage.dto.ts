import { IsISO8601, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQueryDto } from './pagination';

export const MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

/** `GET /orgs/{orgId}/usage`: newest first, optionally narrowed. */
export class UsageQueryDto extends PageQueryDto {
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  tenantId?: string;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  keyId?: string;

  /** the requested (public) model name */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  model?: string;

  /** ISO 8601 instant, inclusive */
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  /** ISO 8601 instant, exclusive */
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;
}

export class MonthlyReportQueryDto {
  @Matches(MONTH_PATTERN, { message: 'month must be YYYY-MM' })
  month!: string;

  @IsOptional()
  @Matches(/^(json|csv)$/, { message: 'format must be json or csv' })
  format?: 'json' | 'csv';
}

export interface UsageRecordResponseDto {
  requestId: string;
  occurredAt: string;
  tenantId: string;
  keyId: string;
  model: string;
  upstreamModel: string | null;
  endpoint: string;
  stream: boolean;
  outcome: string;
  httpStatus: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** decimal string of US dollars */
  costUsd: string;
  /** false when the price book had no price for `model`; `costUsd` is then 0 */
  priced: boolean;
}

export interface MonthlyReportLineDto {
  tenantId: string;
  tenantName: string | null;
  keyId: string;
  keyName: string | null;
  model: string;
  requests: number;
  /** requests of this line that had no price (counted in `requests`, costing 0) */
  unpricedRequests: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: string;
}

export interface MonthlyReportResponseDto {
  organisationId: string;
  month: string;
  currency: 'USD';
  totalCostUsd: string;
  lines: MonthlyReportLineDto[];
}
