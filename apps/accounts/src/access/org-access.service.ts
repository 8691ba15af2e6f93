import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { AccessTokenClaims, OrgRole } from '@tollgate/contracts';
import { Repository } from 'typeorm';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { MembershipEntity } from '../organisations/membership.entity';
import { UserEntity } from '../users/user.entity';
import { type AccessDecision, decideOrgAccess } from './access-policy';

/**
 * Checks the caller's membership against the database, the source of truth (the roles in the
 * access token may be up to its lifetime old).
 */
@Injectable()
export class OrgAccessService {
  constructor(
    @InjectRepository(MembershipEntity) private readonly memberships: Repository<MembershipEntity>,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
  ) {}

  async roleOf(userId: string, organisationId: string): Promise<OrgRole | undefined> {
    const m = await this.memberships.findOne({
      where: { userId, organisationId },
      select: { role: true },
    });
    return m?.role;
  }

  /** The caller's role when it is one of `allowed`; otherwise `notFound` (not a member) or 403. */
  async require(
    caller: AccessTokenClaims,
    organisationId: string,
    allowed: readonly OrgRole[],
    notFound: AccountsErrorCode,
  ): Promise<OrgRole> {
    const role = await this.roleOf(caller.sub, organisationId);
    enforce(decideOrgAccess(role, allowed), notFound);
    return role as OrgRole;
  }

  async requirePlatformAdmin(caller: AccessTokenClaims): Promise<void> {
    const user = await this.users.findOne({
      where: { id: caller.sub },
      select: { id: true, isPlatformAdmin: true },
    });
    if (!user?.isPlatformAdmin)
      throw new AccountsException(AccountsErrorCode.PlatformAdminRequired);
  }
}

export function enforce(decision: AccessDecision, notFound: AccountsErrorCode): void {
  switch (decision) {
    case 'allow':
      return;
    case 'not_found':
      throw new AccountsException(notFound);
    case 'forbidden':
      throw new AccountsException(
        AccountsErrorCode.Forbidden,
        'your role in this organisation does not allow this',
      );
  }
}
