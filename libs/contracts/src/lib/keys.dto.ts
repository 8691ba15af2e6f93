import {
  ArrayMaxSize,
  IsArray,
  IsDateString,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
} from 'class-validator';

/** Every Tollgate API key starts with this, so leaked keys are recognisable by secret scanners. */
export const API_KEY_PREFIX = 'tg-';

export class CreateApiKeyRequestDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(120)
  name!: string;

  /** Allowlist of public model names; absent means every model the tenant can reach. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(200, { each: true })
  models?: string[];

  /** ISO 8601 instant after which the key is refused. */
  @IsOptional()
  @IsDateString({ strict: true })
  expiresAt?: string;
}

export interface ApiKeyResponseDto {
  id: string;
  name: string;
  /** the visible start of the key, for recognition */
  prefix: string;
  tenantId: string;
  models: string[] | null;
  expiresAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

/** Returned once, at creation: `key` is the secret and is never shown again. */
export interface CreatedApiKeyResponseDto {
  id: string;
  name: string;
  prefix: string;
  key: string;
}
