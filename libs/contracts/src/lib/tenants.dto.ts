import { IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

export const DEFAULT_TENANT_GROUP = 'default';
export const GROUP_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export class CreateTenantRequestDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(120)
  name!: string;

  /** Tenant group used by channel routing; `default` when omitted. */
  @IsOptional()
  @IsString()
  @Matches(GROUP_NAME_PATTERN, {
    message: 'group must be lower-case letters, digits, ".", "_" or "-"',
  })
  group?: string;
}

export interface TenantResponseDto {
  id: string;
  name: string;
  group: string;
  organisationId: string;
  createdAt: string;
}
