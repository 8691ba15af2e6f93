import { Injectable } from '@nestjs/common';
import type {
  AccessTokenClaims,
  ApiKeyDetailResponseDto,
  CreateApiKeyRequestDto,
  CreatedApiKeyResponseDto,
  Page,
  PageQueryDto,
  UpdateApiKeyRequestDto,
} from '@tollgate/contracts';
import { DataSource } from 'typeorm';
import { decideKeyManagement, OrgAction } from '../access/access-policy';
import { enforce, OrgAccessService } from '../access/org-access.service';
import { AuditAction, AuditService } from '../audit/audit.service';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { iso, isoOrNull } from '../common/dates';
import { keysetPage } from '../common/pagination';
import { ProjectionsService } from '../projections/projections.service';
import { TenantsService } from '../tenants/tenants.service';
import { generateApiKey } from './api-key-secret';
import { ApiKeyEntity } from './api-key.entity';

export function toApiKeyResponse(k: ApiKeyEntity): ApiKeyDetailResponseDto {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    tenantId: k.tenantId,
    models: k.models,
    expiresAt: isoOrNull(k.expiresAt),
    revokedAt: isoOrNull(k.revokedAt),
    allowFallback: k.allowFallback,
    createdByUserId: k.createdBy,
    createdAt: iso(k.createdAt),
  };
}

function futureInstant(value: string): Date {
  const at = new Date(value);
  if (Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
    throw new AccountsException(
      AccountsErrorCode.ValidationFailed,
      'expiresAt must be in the future',
      {
        errors: ['expiresAt must be an instant in the future'],
      },
    );
  }
  return at;
}

const uniqueModels = (models: string[]): string[] => [...new Set(models.map((m) => m.trim()))];

@Injectable()
export class KeysService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tenants: TenantsService,
    private readonly access: OrgAccessService,
    private readonly audit: AuditService,
    private readonly projections: ProjectionsService,
  ) {}

  /** Newest first; never the secret. */
  async list(
    caller: AccessTokenClaims,
    tenantId: string,
    query: PageQueryDto,
  ): Promise<Page<ApiKeyDetailResponseDto>> {
    await this.tenants.loadFor(caller, tenantId, OrgAction.Read);
    const qb = this.dataSource
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.tenant_id = :tenantId', { tenantId });
    return keysetPage(qb, 'k', query, toApiKeyResponse, 'DESC');
  }

  /** The secret is in this response and nowhere else: only its sha256 is stored. */
  async create(
    caller: AccessTokenClaims,
    tenantId: string,
    dto: CreateApiKeyRequestDto,
  ): Promise<CreatedApiKeyResponseDto> {
    const { tenant } = await this.tenants.loadFor(caller, tenantId, OrgAction.CreateKeys);
    const expiresAt = dto.expiresAt === undefined ? null : futureInstant(dto.expiresAt);
    const generated = generateApiKey();
    const key = await this.dataSource.transaction(async (m) => {
      const saved = await m.save(
        m.create(ApiKeyEntity, {
          tenantId: tenant.id,
          organisationId: tenant.organisationId,
          name: dto.name.trim(),
          prefix: generated.prefix,
          secretHash: generated.hash,
          models: dto.models === undefined ? null : uniqueModels(dto.models),
          expiresAt,
          revokedAt: null,
          allowFallback: true,
          createdBy: caller.sub,
        }),
      );
      await this.audit.record(m, {
        actorUserId: caller.sub,
        organisationId: tenant.organisationId,
        action: AuditAction.ApiKeyCreated,
        targetType: 'api_key',
        targetId: saved.id,
        details: {
          tenantId: tenant.id,
          name: saved.name,
          prefix: saved.prefix,
          models: saved.models,
          expiresAt: isoOrNull(expiresAt),
        },
      });
      return saved;
    });
    await this.projections.keysChanged([key.id], 'lenient');
    return { id: key.id, name: key.name, prefix: key.prefix, key: generated.secret };
  }

  async update(
    caller: AccessTokenClaims,
    keyId: string,
    dto: UpdateApiKeyRequestDto,
  ): Promise<ApiKeyDetailResponseDto> {
    const key = await this.loadManageable(caller, keyId);
    const changes: Partial<Pick<ApiKeyEntity, 'name' | 'models' | 'expiresAt' | 'allowFallback'>> =
      {};
    if (dto.name !== undefined) changes.name = dto.name.trim();
    if (dto.models !== undefined)
      changes.models = dto.models === null ? null : uniqueModels(dto.models);
    if (dto.expiresAt !== undefined)
      changes.expiresAt = dto.expiresAt === null ? null : futureInstant(dto.expiresAt);
    if (dto.allowFallback !== undefined) changes.allowFallback = dto.allowFallback;
    if (!Object.keys(changes).length) return toApiKeyResponse(key);

    const updated = await this.dataSource.transaction(async (m) => {
      await m.update(ApiKeyEntity, { id: key.id }, changes);
      await this.audit.record(m, {
        actorUserId: caller.sub,
        organisationId: key.organisationId,
        action: AuditAction.ApiKeyUpdated,
        targetType: 'api_key',
        targetId: key.id,
        details: {
          changes: {
            ...changes,
            expiresAt: changes.expiresAt === undefined ? undefined : isoOrNull(changes.expiresAt),
          },
        },
      });
      return m.findOneOrFail(ApiKeyEntity, { where: { id: key.id } });
    });
    await this.projections.keysChanged([key.id], 'strict');
    return toApiKeyResponse(updated);
  }

  /**
   * Idempotent: revoking a revoked key succeeds and projects it again, so a client whose first
   * attempt could not reach Redis simply retries.
   */
  async revoke(caller: AccessTokenClaims, keyId: string): Promise<void> {
    const key = await this.loadManageable(caller, keyId);
    if (key.revokedAt === null) {
      await this.dataSource.transaction(async (m) => {
        const result = await m
          .createQueryBuilder()
          .update(ApiKeyEntity)
          .set({ revokedAt: () => 'now()' })
          .where('id = :id AND revoked_at IS NULL', { id: key.id })
          .execute();
        if (!result.affected) return;
        await this.audit.record(m, {
          actorUserId: caller.sub,
          organisationId: key.organisationId,
          action: AuditAction.ApiKeyRevoked,
          targetType: 'api_key',
          targetId: key.id,
          details: { tenantId: key.tenantId, prefix: key.prefix },
        });
      });
    }
    await this.projections.keysChanged([key.id], 'strict');
  }

  private async loadManageable(caller: AccessTokenClaims, keyId: string): Promise<ApiKeyEntity> {
    const key = await this.dataSource.getRepository(ApiKeyEntity).findOne({ where: { id: keyId } });
    if (!key) throw new AccountsException(AccountsErrorCode.ApiKeyNotFound);
    const role = await this.access.roleOf(caller.sub, key.organisationId);
    enforce(decideKeyManagement(role, caller.sub, key.createdBy), AccountsErrorCode.ApiKeyNotFound);
    return key;
  }
}
