import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDateString,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { CHANNEL_TYPES, ChannelConnectionSettingsDto, ChannelType } from './channels.dto';
import type { ApiKeyResponseDto } from './keys.dto';
import { ORG_ROLES, OrgRole } from './roles';
import type { TenantResponseDto } from './tenants.dto';
import { GROUP_NAME_PATTERN } from './tenants.dto';

/** Like `@IsOptional()` but `null` is validated (and refused) instead of skipped. */
export const IsAbsentOr = (): PropertyDecorator =>
  ValidateIf((_object, value) => value !== undefined);

/*
 * Accounts management requests and responses beyond the foundation contract: updates, members,
 * organisations. Absent fields of an update leave the stored value unchanged.
 */

/** `PATCH /api/v1/tenants/{tenantId}` */
export class UpdateTenantRequestDto {
  @IsAbsentOr()
  @IsString()
  @IsNotEmpty()
  @MaxLength(120)
  name?: string;

  @IsAbsentOr()
  @IsString()
  @Matches(GROUP_NAME_PATTERN, {
    message: 'group must be lower-case letters, digits, ".", "_" or "-"',
  })
  group?: string;

  /** false: the proxy never retries this tenant's requests on another channel */
  @IsAbsentOr()
  @IsBoolean()
  allowFallback?: boolean;
}

/** A tenant with its routing settings, as the accounts API returns it. */
export interface TenantDetailResponseDto extends TenantResponseDto {
  allowFallback: boolean;
}

/** `PATCH /api/v1/keys/{keyId}`; `null` clears `models` (any model) or `expiresAt` (never expires). */
export class UpdateApiKeyRequestDto {
  @IsAbsentOr()
  @IsString()
  @IsNotEmpty()
  @MaxLength(120)
  name?: string;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(200, { each: true })
  models?: string[] | null;

  @IsOptional()
  @IsDateString({ strict: true })
  expiresAt?: string | null;

  @IsAbsentOr()
  @IsBoolean()
  allowFallback?: boolean;
}

/** A key as the accounts API lists it: never the secret. */
export interface ApiKeyDetailResponseDto extends ApiKeyResponseDto {
  allowFallback: boolean;
  /** the user who created the key (members may revoke their own keys); null once that user is gone */
  createdByUserId: string | null;
}

/** `POST /api/v1/orgs/{orgId}/members`: adds an existing user to the organisation. */
export class AddMemberRequestDto {
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @IsIn(ORG_ROLES as OrgRole[])
  role!: OrgRole;
}

export interface MemberResponseDto {
  userId: string;
  email: string;
  role: OrgRole;
  createdAt: string;
}

/** An organisation the caller belongs to, with the caller's role in it. */
export interface OrganisationResponseDto {
  id: string;
  name: string;
  /** IANA time zone of the billing day and month (budgets, statements); `UTC` by default */
  billingTimeZone: string;
  /** the proxy admits requests when its admission store is unreachable (default false: refuses) */
  admissionFailOpen: boolean;
  role: OrgRole;
  createdAt: string;
}

/** `PATCH /api/v1/orgs/{orgId}` (owner, admin); absent fields keep their value. */
export class UpdateOrganisationRequestDto {
  @IsAbsentOr()
  @IsString()
  @IsNotEmpty()
  @MaxLength(120)
  name?: string;

  /** an IANA time zone, e.g. `Europe/Berlin`; checked against the runtime's time zone database */
  @IsAbsentOr()
  @IsString()
  @Matches(/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/, {
    message: 'billingTimeZone must be an IANA time zone such as "Europe/Berlin"',
  })
  billingTimeZone?: string;

  @IsAbsentOr()
  @IsBoolean()
  admissionFailOpen?: boolean;
}

export const CHANNEL_STATUSES = ['enabled', 'disabled'] as const;
export type ChannelStatus = (typeof CHANNEL_STATUSES)[number];

/** `PATCH /api/v1/admin/channels/{channelId}`; `apiKey` replaces the stored credential. */
export class UpdateChannelRequestDto extends ChannelConnectionSettingsDto {
  @IsAbsentOr()
  @IsString()
  @IsNotEmpty()
  @MaxLength(120)
  name?: string;

  @IsAbsentOr()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(500)
  baseUrl?: string;

  @IsAbsentOr()
  @IsString()
  @IsNotEmpty()
  @MaxLength(4000)
  apiKey?: string;

  @IsAbsentOr()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(200, { each: true })
  models?: string[];

  @IsAbsentOr()
  @IsObject()
  modelMapping?: Record<string, string>;

  @IsAbsentOr()
  @IsInt()
  @Min(-1000)
  @Max(1000)
  priority?: number;

  @IsAbsentOr()
  @IsInt()
  @Min(0)
  @Max(10000)
  weight?: number;

  @IsAbsentOr()
  @IsArray()
  @ArrayMaxSize(100)
  @Matches(GROUP_NAME_PATTERN, { each: true })
  groups?: string[];

  /**
   * `enabled` also clears a credential rejection (a new `apiKey` alone does not re-enable a
   * channel the provider refused).
   */
  @IsAbsentOr()
  @IsIn(CHANNEL_STATUSES as unknown as string[])
  status?: ChannelStatus;

  /** Changing to `azure` needs an `apiVersion` (given here or stored); leaving `azure` clears it. */
  @IsAbsentOr()
  @IsIn(CHANNEL_TYPES as ChannelType[])
  type?: ChannelType;
}
