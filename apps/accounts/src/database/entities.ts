import { AuditLogEntity } from '../audit/audit-log.entity';
import { RefreshTokenEntity } from '../auth/refresh-token.entity';
import { ChannelEventEntity } from '../channels/channel-event.entity';
import { ChannelEntity } from '../channels/channel.entity';
import { ApiKeyEntity } from '../keys/api-key.entity';
import { ScopeLimitsEntity } from '../limits/scope-limits.entity';
import { ScopeModelLimitsEntity } from '../limits/scope-model-limits.entity';
import { MembershipEntity } from '../organisations/membership.entity';
import { OrganisationEntity } from '../organisations/organisation.entity';
import { TenantEntity } from '../tenants/tenant.entity';
import { UserEntity } from '../users/user.entity';

/** Listed, not globbed: globs do not survive bundling. */
export const ACCOUNTS_ENTITIES = [
  OrganisationEntity,
  UserEntity,
  MembershipEntity,
  TenantEntity,
  ApiKeyEntity,
  ChannelEntity,
  ChannelEventEntity,
  RefreshTokenEntity,
  AuditLogEntity,
  ScopeLimitsEntity,
  ScopeModelLimitsEntity,
];
