import type { ChannelProjection, KeyRecordProjection } from '@tollgate/contracts';
import type { ChannelEntity } from '../channels/channel.entity';
import type { ApiKeyEntity } from '../keys/api-key.entity';
import type { OrganisationEntity } from '../organisations/organisation.entity';
import type { TenantEntity } from '../tenants/tenant.entity';

/**
 * The proxy's view of a key; fallback is off when either the tenant or the key turned it off. The
 * organisation's time zone and fail-open switch ride along, so admission needs no second lookup.
 */
export function toKeyRecord(
  key: ApiKeyEntity,
  tenant: TenantEntity,
  organisation: OrganisationEntity,
): KeyRecordProjection {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    organisationId: key.organisationId,
    tenantId: tenant.id,
    tenantName: tenant.name,
    tenantGroup: tenant.group,
    models: key.models,
    expiresAt: key.expiresAt ? key.expiresAt.toISOString() : null,
    revoked: key.revokedAt !== null,
    allowFallback: tenant.allowFallback && key.allowFallback,
    billingTimeZone: organisation.billingTimeZone,
    admissionFailOpen: organisation.admissionFailOpen,
  };
}

/**
 * The proxy's view of a channel; the credential stays in its AES-GCM envelope (id as associated
 * data). Why a channel is disabled stays in accounts: the proxy only needs `status`.
 */
export function toChannelProjection(channel: ChannelEntity): ChannelProjection {
  return {
    id: channel.id,
    name: channel.name,
    type: channel.type,
    baseUrl: channel.baseUrl,
    encryptedApiKey: channel.encryptedApiKey,
    models: channel.models,
    modelMapping: channel.modelMapping,
    priority: channel.priority,
    weight: channel.weight,
    groups: channel.groups,
    status: channel.status,
    organisationId: channel.organisationId,
    apiVersion: channel.apiVersion,
    extraHeaders: channel.extraHeaders,
    connectTimeoutMs: channel.connectTimeoutMs,
    firstByteTimeoutMs: channel.firstByteTimeoutMs,
    totalTimeoutMs: channel.totalTimeoutMs,
  };
}
