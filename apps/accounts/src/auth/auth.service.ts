import { Injectable } from '@nestjs/common';
import {
  type LoginRequestDto,
  OrgRole,
  type SignupRequestDto,
  type SignupResponseDto,
  type TokenPairResponseDto,
} from '@tollgate/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditAction, AuditService } from '../audit/audit.service';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { isUniqueViolation } from '../common/postgres-errors';
import { MembershipEntity } from '../organisations/membership.entity';
import { OrganisationEntity } from '../organisations/organisation.entity';
import { UserEntity } from '../users/user.entity';
import { findUserByEmail } from '../users/users.queries';
import { LoginThrottleService } from './login-throttle.service';
import { PasswordHasher } from './password-hasher';
import { TokensService } from './tokens.service';

@Injectable()
export class AuthService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokensService,
    private readonly throttle: LoginThrottleService,
    private readonly audit: AuditService,
  ) {}

  /** A new user and their new organisation, of which they are the owner. */
  async signup(dto: SignupRequestDto): Promise<SignupResponseDto> {
    if (await findUserByEmail(this.dataSource.manager, dto.email)) throw emailTaken();
    const passwordHash = await this.hasher.hash(dto.password);
    let created: { user: UserEntity; organisation: OrganisationEntity };
    try {
      created = await this.dataSource.transaction((m) =>
        this.createOwnerAndOrganisation(m, dto, passwordHash),
      );
    } catch (err) {
      if (isUniqueViolation(err, 'users_email_lower_key')) throw emailTaken();
      throw err;
    }
    const { user, organisation } = created;
    const session = await this.tokens.startSession(user.id);
    return {
      ...session,
      user: { id: user.id, email: user.email },
      organisation: { id: organisation.id, name: organisation.name },
    };
  }

  async login(dto: LoginRequestDto, clientIp: string): Promise<TokenPairResponseDto> {
    await this.throttle.assertAllowed(dto.email, clientIp);
    const user = await findUserByEmail(this.dataSource.manager, dto.email);
    const ok = user
      ? await this.hasher.verify(dto.password, user.passwordHash)
      : await this.hasher.verifyAgainstDummy(dto.password);
    if (!user || !ok) {
      await this.throttle.recordFailure(dto.email, clientIp);
      throw new AccountsException(AccountsErrorCode.InvalidCredentials);
    }
    await this.throttle.recordSuccess(dto.email);
    if (this.hasher.needsRehash(user.passwordHash)) {
      await this.dataSource
        .getRepository(UserEntity)
        .update({ id: user.id }, { passwordHash: await this.hasher.hash(dto.password) });
    }
    return this.tokens.startSession(user.id);
  }

  refresh(refreshToken: string): Promise<TokenPairResponseDto> {
    return this.tokens.refresh(refreshToken);
  }

  logout(refreshToken: string): Promise<void> {
    return this.tokens.endSession(refreshToken);
  }

  private async createOwnerAndOrganisation(
    m: EntityManager,
    dto: SignupRequestDto,
    passwordHash: string,
  ): Promise<{ user: UserEntity; organisation: OrganisationEntity }> {
    const user = await m.save(
      m.create(UserEntity, { email: dto.email, passwordHash, isPlatformAdmin: false }),
    );
    const organisation = await m.save(
      m.create(OrganisationEntity, { name: dto.organisationName.trim() }),
    );
    const membership = await m.save(
      m.create(MembershipEntity, {
        organisationId: organisation.id,
        userId: user.id,
        role: OrgRole.Owner,
      }),
    );
    await this.audit.record(m, {
      actorUserId: user.id,
      organisationId: null,
      action: AuditAction.UserSignedUp,
      targetType: 'user',
      targetId: user.id,
    });
    await this.audit.record(m, {
      actorUserId: user.id,
      organisationId: organisation.id,
      action: AuditAction.OrganisationCreated,
      targetType: 'organisation',
      targetId: organisation.id,
      details: { name: organisation.name },
    });
    await this.audit.record(m, {
      actorUserId: user.id,
      organisationId: organisation.id,
      action: AuditAction.MemberAdded,
      targetType: 'membership',
      targetId: membership.id,
      details: { userId: user.id, role: OrgRole.Owner },
    });
    return { user, organisation };
  }
}

function emailTaken(): AccountsException {
  return new AccountsException(
    AccountsErrorCode.EmailTaken,
    'an account with this email already exists',
  );
}
