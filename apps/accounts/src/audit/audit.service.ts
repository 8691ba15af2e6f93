import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AuditLogEntity } from './audit-log.entity';

export enum AuditAction {
  UserSignedUp = 'user.signed_up',
  OrganisationCreated = 'organisation.created',
  OrganisationUpdated = 'organisation.updated',
  LimitsUpdated = 'limits.updated',
  MemberAdded = 'member.added',
  SessionStarted = 'session.started',
  SessionEnded = 'session.ended',
  RefreshTokenReused = 'session.refresh_token_reused',
  TenantCreated = 'tenant.created',
  TenantUpdated = 'tenant.updated',
  ApiKeyCreated = 'api_key.created',
  ApiKeyUpdated = 'api_key.updated',
  ApiKeyRevoked = 'api_key.revoked',
  ChannelCreated = 'channel.created',
  ChannelUpdated = 'channel.updated',
  /** the system disabled a channel whose credential the provider refused (reported by the proxy) */
  ChannelCredentialsRejected = 'channel.credentials_rejected',
  ChannelTested = 'channel.tested',
  PlatformAdminBootstrapped = 'platform_admin.bootstrapped',
}

export interface AuditEntry {
  actorUserId: string | null;
  organisationId: string | null;
  action: AuditAction;
  targetType?:
    'user' | 'organisation' | 'membership' | 'tenant' | 'api_key' | 'channel' | 'session';
  targetId?: string;
  /** never secrets */
  details?: Record<string, unknown>;
}

/** Writes audit rows inside the caller's transaction, so the record and the change commit together. */
@Injectable()
export class AuditService {
  async record(manager: EntityManager, entry: AuditEntry): Promise<void> {
    const row = manager.create(AuditLogEntity, {
      actorUserId: entry.actorUserId,
      organisationId: entry.organisationId,
      action: entry.action,
      targetType: entry.targetType ?? null,
      targetId: entry.targetId ?? null,
      details: entry.details ?? {},
    });
    await manager.save(row, { reload: false });
  }
}
