import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { AccessTokenClaims, OrgRole, TokenPairResponseDto } from '@tollgate/contracts';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@tollgate/server-kit';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { AuditAction, AuditService } from '../audit/audit.service';
import { AccountsErrorCode, AccountsException } from '../common/accounts.exception';
import { MembershipEntity } from '../organisations/membership.entity';
import { UserEntity } from '../users/user.entity';
import { RefreshTokenEntity } from './refresh-token.entity';
import { newOpaqueToken, sha256Hex } from './secure-token';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;

type RotationOutcome =
  | { kind: 'rotated'; userId: string; refreshToken: string }
  | { kind: 'reused'; userId: string; familyId: string }
  | { kind: 'invalid' };

/**
 * Short-lived HS256 access tokens carrying the caller's organisation roles, and opaque refresh
 * tokens stored as hashes. Every refresh rotates the token; a rotated or revoked token presented
 * again revokes its whole family (the pair was probably stolen).
 */
@Injectable()
export class TokensService {
  constructor(
    private readonly jwt: JwtService,
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** A new session: an access token and the first refresh token of a new family. */
  async startSession(userId: string): Promise<TokenPairResponseDto> {
    const refreshToken = await this.dataSource.transaction(async (m) => {
      const token = await this.insertRefreshToken(m, userId, randomUUID());
      await this.audit.record(m, {
        actorUserId: userId,
        organisationId: null,
        action: AuditAction.SessionStarted,
        targetType: 'user',
        targetId: userId,
      });
      return token;
    });
    return { accessToken: await this.accessTokenFor(userId), refreshToken };
  }

  async refresh(presented: string): Promise<TokenPairResponseDto> {
    const outcome = await this.dataSource.transaction((m) => this.rotate(m, presented));
    switch (outcome.kind) {
      case 'rotated':
        return {
          accessToken: await this.accessTokenFor(outcome.userId),
          refreshToken: outcome.refreshToken,
        };
      case 'reused':
      case 'invalid':
        throw new AccountsException(AccountsErrorCode.InvalidRefreshToken, 'sign in again');
    }
  }

  /** Ends the session the token belongs to (its whole family). Unknown tokens are ignored. */
  async endSession(presented: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const token = await m.findOne(RefreshTokenEntity, {
        where: { tokenHash: sha256Hex(presented) },
      });
      if (!token) return;
      const revoked = await this.revokeFamily(m, token.familyId);
      if (revoked) {
        await this.audit.record(m, {
          actorUserId: token.userId,
          organisationId: null,
          action: AuditAction.SessionEnded,
          targetType: 'session',
          targetId: token.familyId,
        });
      }
    });
  }

  async accessTokenFor(userId: string): Promise<string> {
    const user = await this.dataSource.getRepository(UserEntity).findOne({ where: { id: userId } });
    if (!user) throw new AccountsException(AccountsErrorCode.InvalidRefreshToken, 'sign in again');
    const memberships = await this.dataSource
      .getRepository(MembershipEntity)
      .find({ where: { userId }, select: { organisationId: true, role: true } });
    const orgs: Record<string, OrgRole> = {};
    for (const m of memberships) orgs[m.organisationId] = m.role;
    const claims: AccessTokenClaims = {
      sub: user.id,
      email: user.email,
      admin: user.isPlatformAdmin,
      orgs,
      typ: 'access',
    };
    return this.jwt.signAsync(claims, {
      algorithm: 'HS256',
      issuer: ACCESS_TOKEN_ISSUER,
      audience: ACCESS_TOKEN_AUDIENCE,
      expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    });
  }

  private async rotate(m: EntityManager, presented: string): Promise<RotationOutcome> {
    const token = await m.findOne(RefreshTokenEntity, {
      where: { tokenHash: sha256Hex(presented) },
      lock: { mode: 'pessimistic_write' },
    });
    if (!token) return { kind: 'invalid' };
    if (token.rotatedAt !== null || token.revokedAt !== null) {
      const revoked = await this.revokeFamily(m, token.familyId);
      if (revoked) {
        await this.audit.record(m, {
          actorUserId: token.userId,
          organisationId: null,
          action: AuditAction.RefreshTokenReused,
          targetType: 'session',
          targetId: token.familyId,
          details: { revokedTokens: revoked },
        });
      }
      return { kind: 'reused', userId: token.userId, familyId: token.familyId };
    }
    if (token.expiresAt.getTime() <= Date.now()) return { kind: 'invalid' };
    await m.update(RefreshTokenEntity, { id: token.id }, { rotatedAt: new Date() });
    const refreshToken = await this.insertRefreshToken(m, token.userId, token.familyId);
    return { kind: 'rotated', userId: token.userId, refreshToken };
  }

  private async insertRefreshToken(
    m: EntityManager,
    userId: string,
    familyId: string,
  ): Promise<string> {
    const token = newOpaqueToken();
    await m.insert(RefreshTokenEntity, {
      userId,
      familyId,
      tokenHash: sha256Hex(token),
      expiresAt: new Date(Date.now() + REFRESH_TOKEN_TTL_MS),
    });
    return token;
  }

  private async revokeFamily(m: EntityManager, familyId: string): Promise<number> {
    const result = await m.update(
      RefreshTokenEntity,
      { familyId, revokedAt: IsNull() },
      { revokedAt: new Date() },
    );
    return result.affected ?? 0;
  }
}
