import { Injectable } from '@nestjs/common';
import {
  type AccessTokenClaims,
  type CreateTenantRequestDto,
  DEFAULT_TENANT_GROUP,
  type OrgRole,
  type Page,
  type PageQueryDto,
  type TenantDetailResponseDto,
  type UpdateTenantRequestDto,
} from '@tollgate/contracts';
import { DataSource } from 'typeorm';
import { OrgAction } from '../access/access-policy';
import { OrgAccessService } from '../access/org-access.service';
import { AuditAction, AuditService } from '../audit/audit.service';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { iso } from '../common/dates';
import { keysetPage } from '../common/pagination';
import { ProjectionsService } from '../projections/projections.service';
import { TenantEntity } from './tenant.entity';

export function toTenantResponse(t: TenantEntity): TenantDetailResponseDto {
  return {
    id: t.id,
    name: t.name,
    group: t.group,
    organisationId: t.organisationId,
    allowFallback: t.allowFallback,
    createdAt: iso(t.createdAt),
  };
}

@Injectable()
export class TenantsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: OrgAccessService,
    private readonly audit: AuditService,
    private readonly projections: ProjectionsService,
  ) {}

  async list(
    caller: AccessTokenClaims,
    orgId: string,
    query: PageQueryDto,
  ): Promise<Page<TenantDetailResponseDto>> {
    await this.access.require(
      caller,
      orgId,
      OrgAction.Read,
      AccountsErrorCode.OrganisationNotFound,
    );
    const qb = this.dataSource
      .getRepository(TenantEntity)
      .createQueryBuilder('t')
      .where('t.organisation_id = :orgId', { orgId });
    return keysetPage(qb, 't', query, toTenantResponse);
  }

  async create(
    caller: AccessTokenClaims,
    orgId: string,
    dto: CreateTenantRequestDto,
  ): Promise<TenantDetailResponseDto> {
    await this.access.require(
      caller,
      orgId,
      OrgAction.ManageTenants,
      AccountsErrorCode.OrganisationNotFound,
    );
    const tenant = await this.dataSource.transaction(async (m) => {
      const saved = await m.save(
        m.create(TenantEntity, {
          organisationId: orgId,
          name: dto.name.trim(),
          group: dto.group ?? DEFAULT_TENANT_GROUP,
        }),
      );
      await this.audit.record(m, {
        actorUserId: caller.sub,
        organisationId: orgId,
        action: AuditAction.TenantCreated,
        targetType: 'tenant',
        targetId: saved.id,
        details: { name: saved.name, group: saved.group },
      });
      return saved;
    });
    return toTenantResponse(tenant);
  }

  async get(caller: AccessTokenClaims, tenantId: string): Promise<TenantDetailResponseDto> {
    const { tenant } = await this.loadFor(caller, tenantId, OrgAction.Read);
    return toTenantResponse(tenant);
  }

  async update(
    caller: AccessTokenClaims,
    tenantId: string,
    dto: UpdateTenantRequestDto,
  ): Promise<TenantDetailResponseDto> {
    const { tenant } = await this.loadFor(caller, tenantId, OrgAction.ManageTenants);
    const changes: Partial<Pick<TenantEntity, 'name' | 'group' | 'allowFallback'>> = {};
    if (dto.name !== undefined && dto.name.trim() !== tenant.name) changes.name = dto.name.trim();
    if (dto.group !== undefined && dto.group !== tenant.group) changes.group = dto.group;
    if (dto.allowFallback !== undefined && dto.allowFallback !== tenant.allowFallback)
      changes.allowFallback = dto.allowFallback;
    if (!Object.keys(changes).length) return toTenantResponse(tenant);

    const updated = await this.dataSource.transaction(async (m) => {
      await m.update(TenantEntity, { id: tenant.id }, changes);
      await this.audit.record(m, {
        actorUserId: caller.sub,
        organisationId: tenant.organisationId,
        action: AuditAction.TenantUpdated,
        targetType: 'tenant',
        targetId: tenant.id,
        details: { changes },
      });
      return m.findOneOrFail(TenantEntity, { where: { id: tenant.id } });
    });
    // Key records carry the tenant's name, group and fallback setting.
    await this.projections.tenantChanged(tenant.id, 'strict');
    return toTenantResponse(updated);
  }

  /** The tenant, when the caller's role in its organisation is one of `allowed`. */
  async loadFor(
    caller: AccessTokenClaims,
    tenantId: string,
    allowed: readonly OrgRole[],
  ): Promise<{ tenant: TenantEntity; role: OrgRole }> {
    const tenant = await this.dataSource
      .getRepository(TenantEntity)
      .findOne({ where: { id: tenantId } });
    if (!tenant) throw new AccountsException(AccountsErrorCode.TenantNotFound);
    const role = await this.access.require(
      caller,
      tenant.organisationId,
      allowed,
      AccountsErrorCode.TenantNotFound,
    );
    return { tenant, role };
  }
}
