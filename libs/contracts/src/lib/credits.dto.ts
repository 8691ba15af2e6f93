import { Type } from 'class-transformer';
import {
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { USD_DECIMAL_MESSAGE, USD_DECIMAL_PATTERN } from './money';

/** `POST /api/v1/admin/orgs/{orgId}/credits` (platform admins): a top-up of the prepaid balance. */
export class CreateCreditGrantRequestDto {
  /** US dollars, decimal string, more than 0 */
  @Matches(USD_DECIMAL_PATTERN, { message: `amountUsd ${USD_DECIMAL_MESSAGE}` })
  amountUsd!: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  note?: string;
}

/** `POST /api/v1/admin/redemption-codes` (platform admins). */
export class CreateRedemptionCodesRequestDto {
  @Matches(USD_DECIMAL_PATTERN, { message: `amountUsd ${USD_DECIMAL_MESSAGE}` })
  amountUsd!: string;

  /** how many codes of this amount; default 1 */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  count?: number;

  /** ISO instant after which the codes can no longer be redeemed */
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;
}

/** `POST /api/v1/orgs/{orgId}/redeem` (organisation owner). */
export class RedeemCodeRequestDto {
  @IsString()
  @MinLength(8)
  @MaxLength(100)
  code!: string;
}

export type CreditSource = 'grant' | 'redemption';

export interface CreditGrantResponseDto {
  id: string;
  organisationId: string;
  amountUsd: string;
  source: CreditSource;
  note: string | null;
  createdAt: string;
}

export interface RedemptionCodeCreatedDto {
  id: string;
  /** the plaintext code: returned here once, stored only as a SHA-256 hash */
  code: string;
  amountUsd: string;
  expiresAt: string | null;
}

export interface RedemptionCodesCreatedResponseDto {
  items: RedemptionCodeCreatedDto[];
}

export interface BalanceResponseDto {
  organisationId: string;
  /** false until the organisation receives its first credit */
  prepaid: boolean;
  /** credits minus recorded spend since the first credit (PostgreSQL, the truth) */
  balanceUsd: string;
  creditedUsd: string;
  spentUsd: string;
  /** the live counter the proxy admits against (Redis), including settled requests not yet recorded */
  liveBalanceUsd: string | null;
}

/** Where a budget is set: org, tenant, key, or one model on a key or a tenant. */
export type BudgetAlertScope = 'org' | 'tenant' | 'key' | 'key-model' | 'tenant-model';
export type BudgetAlertWindow = 'day' | 'month' | 'total';

/** Job data of the `alerts` queue. */
export interface AlertDeliveryJobData {
  schemaVersion: 1;
  alertId: string;
}
