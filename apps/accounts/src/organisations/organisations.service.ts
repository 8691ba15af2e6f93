import { Injectable } from '@nestjs/common';
import {
  type AccessTokenClaims,
  type AddMemberRequestDto,
  type MemberResponseDto,
  type OrganisationResponseDto,
  type Page,
  type PageQueryDto,
} from '@tollgate/contracts';
import { DataSource } from 'typeorm';
import { canGrantRole, OrgAction } from '../access/access-policy';
import { OrgAccessService } from '../access/org-access.service';
import { AuditAction, AuditService } from '../audit/audit.service';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { iso } from '../common/dates';
import { keysetPage } from '../common/pagination';
import { isUniqueViolation } from '../common/postgres-errors';
import { findUserByEmail } from '../users/users.queries';
import { MembershipEntity } from './membership.entity';

function toOrganisation(m: MembershipEntity): OrganisationResponseDto {
  const o = m.organisation!;
  return {
    id: o.id,
    name: o.name,
    billingTimeZone: o.billingTimeZone,
    role: m.role,
    createdAt: iso(o.createdAt),
  };
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
  ) {}

  /** The organisations the caller belongs to, in the order they joined them. */
  listMine(caller: AccessTokenClaims, query: PageQueryDto): Promise<Page<OrganisationResponseDto>> {
    const qb = this.dataSource
      .getRepository(MembershipEntity)
      .createQueryBuilder('m')
      .innerJoinAndSelect('m.organisation', 'o')
      .where('m.user_id = :userId', { userId: caller.sub });
    return keysetPage(qb, 'm', query, toOrganisation);
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
