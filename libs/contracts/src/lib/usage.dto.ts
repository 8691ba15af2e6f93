import { IsOptional, Matches } from 'class-validator';
import { PageQueryDto } from './pagination';

export const MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

export class UsageQueryDto extends PageQueryDto {}

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
}

export interface MonthlyReportLineDto {
  tenantId: string;
  tenantName: string | null;
  keyId: string;
  keyName: string | null;
  model: string;
  requests: number;
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
