import { Injectable } from '@nestjs/common';
import {
  type AccessTokenClaims,
  type AddMemberRequestDto,
  type MemberResponseDto,
  type OrgRole,
  type OrganisationResponseDto,
  type Page,
  type PageQueryDto,
  type UpdateOrganisationRequestDto,
} from '@tollgate/contracts';
import { canonicalTimeZone, InvalidTimeZoneError } from '@tollgate/server-admission';
import { DataSource } from 'typeorm';
import { ProjectionsService } from '../projections/projections.service';
import { canGrantRole, OrgAction } from '../access/access-policy';
import { OrgAccessService } from '../access/org-access.service';
import { AuditAction, AuditService } from '../audit/audit.service';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { iso } from '../common/dates';
import { keysetPage } from '../common/pagination';
import { isUniqueViolation } from '../common/postgres-errors';
import { findUserByEmail } from '../users/users.queries';
import { MembershipEntity } from './membership.entity';
import { OrganisationEntity } from './organisation.entity';

function toOrganisation(o: OrganisationEntity, role: OrgRole): OrganisationResponseDto {
  return {
    id: o.id,
    name: o.name,
    billingTimeZone: o.billingTimeZone,
    admissionFailOpen: o.admissionFailOpen,
    role,
    createdAt: iso(o.createdAt),
  };
}

function checkTimeZone(value: string): string {
  try {
    return canonicalTimeZone(value);
  } catch (err) {
    if (!(err instanceof InvalidTimeZoneError)) throw err;
    const message = 'billingTimeZone must be an IANA time zone such as "Europe/Berlin"';
    throw new AccountsException(AccountsErrorCode.ValidationFailed, message, { errors: [message] });
  }
}

function toMember(m: MembershipEntity): MemberResponseDto {
  return { userId: m.userId, email: m.user!.email, role: m.role, createdAt: iso(m.createdAt) };
}

@Injectable()
export class OrganisationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: OrgAccessService,
    private readonly audit: AuditService,
    private readonly projections: ProjectionsService,
  ) {}

  async get(caller: AccessTokenClaims, orgId: string): Promise<OrganisationResponseDto> {
    const role = await this.access.require(
      caller,
      orgId,
      OrgAction.Read,
      AccountsErrorCode.OrganisationNotFound,
    );
    const organisation = await this.dataSource
      .getRepository(OrganisationEntity)
      .findOneByOrFail({ id: orgId });
    return toOrganisation(organisation, role);
  }

  /**
   * Name, billing time zone and admission fail-open. The key records carry the last two, so every
   * key of the organisation is projected again.
   */
  async update(
    caller: AccessTokenClaims,
    orgId: string,
    dto: UpdateOrganisationRequestDto,
  ): Promise<OrganisationResponseDto> {
    const role = await this.access.require(
      caller,
      orgId,
      OrgAction.ManageOrganisation,
      AccountsErrorCode.OrganisationNotFound,
    );
    const timeZone =
      dto.billingTimeZone === undefined ? undefined : checkTimeZone(dto.billingTimeZone);
    const current = await this.dataSource
      .getRepository(OrganisationEntity)
      .findOneByOrFail({ id: orgId });
    const changes: Partial<
      Pick<OrganisationEntity, 'name' | 'billingTimeZone' | 'admissionFailOpen'>
    > = {};
    if (dto.name !== undefined && dto.name.trim() !== current.name) changes.name = dto.name.trim();
    if (timeZone !== undefined && timeZone !== current.billingTimeZone)
      changes.billingTimeZone = timeZone;
    if (dto.admissionFailOpen !== undefined && dto.admissionFailOpen !== current.admissionFailOpen)
      changes.admissionFailOpen = dto.admissionFailOpen;
    if (!Object.keys(changes).length) {
      return toOrganisation(current, role);
    }
    const updated = await this.dataSource.transaction(async (m) => {
      await m.update(OrganisationEntity, { id: orgId }, changes);
      await this.audit.record(m, {
        actorUserId: caller.sub,
        organisationId: orgId,
        action: AuditAction.OrganisationUpdated,
        targetType: 'organisation',
        targetId: orgId,
        details: { changes },
      });
      return m.findOneByOrFail(OrganisationEntity, { id: orgId });
    });
    if (changes.billingTimeZone !== undefined || changes.admissionFailOpen !== undefined) {
      await this.projections.organisationChanged(orgId, 'strict');
    }
    return toOrganisation(updated, role);
  }

  /** The organisations the caller belongs to, in the order they joined them. */
  listMine(caller: AccessTokenClaims, query: PageQueryDto): Promise<Page<OrganisationResponseDto>> {
    const qb = this.dataSource
      .getRepository(MembershipEntity)
      .createQueryBuilder('m')
      .innerJoinAndSelect('m.organisation', 'o')
      .where('m.user_id = :userId', { userId: caller.sub });
    return keysetPage(qb, 'm', query, (m) => toOrganisation(m.organisation!, m.role));
  }

  async listMembers(
    caller: AccessTokenClaims,
    orgId: string,
    query: PageQueryDto,
  ): Promise<Page<MemberResponseDto>> {
    await this.access.require(
      caller,
      orgId,
      OrgAction.Read,
      AccountsErrorCode.OrganisationNotFound,
    );
    const qb = this.dataSource
      .getRepository(MembershipEntity)
      .createQueryBuilder('m')
      .innerJoinAndSelect('m.user', 'u')
      .where('m.organisation_id = :orgId', { orgId });
    return keysetPage(qb, 'm', query, toMember);
  }

  /** Adds an existing user; only owners may add owners. */
  async addMember(
    caller: AccessTokenClaims,
    orgId: string,
    dto: AddMemberRequestDto,
  ): Promise<MemberResponseDto> {
    const callerRole = await this.access.require(
      caller,
      orgId,
      OrgAction.ManageMembers,
      AccountsErrorCode.OrganisationNotFound,
    );
    if (!canGrantRole(callerRole, dto.role)) {
      throw new AccountsException(
        AccountsErrorCode.Forbidden,
        `a ${callerRole} cannot grant the ${dto.role} role`,
      );
    }
    try {
      return await this.dataSource.transaction(async (m) => {
        const user = await findUserByEmail(m, dto.email);
        if (!user)
          throw new AccountsException(
            AccountsErrorCode.UserNotFound,
            'no user with this email; they must sign up first',
          );
        const membership = await m.save(
          m.create(MembershipEntity, { organisationId: orgId, userId: user.id, role: dto.role }),
        );
        await this.audit.record(m, {
          actorUserId: caller.sub,
          organisationId: orgId,
          action: AuditAction.MemberAdded,
          targetType: 'membership',
          targetId: membership.id,
          details: { userId: user.id, role: dto.role },
        });
        membership.user = user;
        return toMember(membership);
      });
    } catch (err) {
      if (isUniqueViolation(err, 'memberships_organisation_user_key')) {
        throw new AccountsException(
          AccountsErrorCode.AlreadyMember,
          'this user is already a member of the organisation',
        );
      }
      throw err;
    }
  }
}
