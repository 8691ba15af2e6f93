import type { MeResponseDto, ProblemDetails, TokenPairResponseDto } from '@tollgate/contracts';
import { AuditLogEntity } from '../audit/audit-log.entity';
import {
  type AccountsTestApp,
  startAccountsTestApp,
  uniqueEmail,
} from '../testing/accounts-test-app';
import { UserEntity } from '../users/user.entity';
import { RefreshTokenEntity } from './refresh-token.entity';

describe('auth (int)', () => {
  let sut: AccountsTestApp;

  beforeAll(async () => {
    sut = await startAccountsTestApp('auth', {
      LOGIN_MAX_FAILURES_PER_EMAIL: '3',
      LOGIN_MAX_FAILURES_PER_IP: '1000',
    });
  });

  afterAll(async () => {
    await sut?.close();
  });

  describe('POST /auth/signup', () => {
    it('creates the user and their organisation and answers tokens', async () => {
      const email = uniqueEmail('signup');
      const res = await sut.api<{
        accessToken: string;
        refreshToken: string;
        user: { id: string; email: string };
        organisation: { id: string; name: string };
      }>('POST', '/api/v1/auth/signup', {
        body: { email, password: 'a long password', organisationName: 'Acme' },
      });

      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        accessToken: expect.any(String),
        refreshToken: expect.any(String),
        user: { id: expect.any(String), email },
        organisation: { id: expect.any(String), name: 'Acme' },
      });
      const me = await sut.api<MeResponseDto>('GET', '/api/v1/me', { token: res.body.accessToken });
      expect(me.body).toEqual({
        id: res.body.user.id,
        email,
        isPlatformAdmin: false,
        memberships: [
          { organisationId: res.body.organisation.id, organisationName: 'Acme', role: 'owner' },
        ],
      });
      const row = await sut.db.getRepository(UserEntity).findOneByOrFail({ id: res.body.user.id });
      expect(row.passwordHash).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$/);
      expect(row.passwordHash).not.toContain('a long password');
      const actions = (
        await sut.db.getRepository(AuditLogEntity).findBy({ actorUserId: res.body.user.id })
      ).map((a) => a.action);
      expect(actions).toEqual(
        expect.arrayContaining(['user.signed_up', 'organisation.created', 'member.added']),
      );
    });

    it('refuses an email already registered, in any case, with 409 and changes nothing', async () => {
      const first = await sut.signup();
      const users = await sut.db.getRepository(UserEntity).count();

      const res = await sut.api<ProblemDetails>('POST', '/api/v1/auth/signup', {
        body: {
          email: first.user.email.toUpperCase(),
          password: 'another password',
          organisationName: 'Dup',
        },
      });

      expect(res.status).toBe(409);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('email_taken');
      expect(await sut.db.getRepository(UserEntity).count()).toBe(users);
    });
  });

  describe('POST /auth/login', () => {
    it('answers tokens for the right password, whatever the email case', async () => {
      const user = await sut.signup();

      const res = await sut.api<TokenPairResponseDto>('POST', '/api/v1/auth/login', {
        body: { email: user.user.email.toUpperCase(), password: user.password },
      });

      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['accessToken', 'refreshToken']);
      expect((await sut.api('GET', '/api/v1/me', { token: res.body.accessToken })).status).toBe(
        200,
      );
    });

    it('refuses a wrong password and an unknown email alike with 401', async () => {
      const user = await sut.signup();

      const wrong = await sut.api<ProblemDetails>('POST', '/api/v1/auth/login', {
        body: { email: user.user.email, password: 'not the password' },
      });
      const unknown = await sut.api<ProblemDetails>('POST', '/api/v1/auth/login', {
        body: { email: uniqueEmail('nobody'), password: 'not the password' },
      });

      expect(wrong.status).toBe(401);
      expect(wrong.body.code).toBe('invalid_credentials');
      expect(unknown.status).toBe(401);
      expect(unknown.body).toEqual(wrong.body);
    });

    it('throttles an email after too many failures, even with the right password, with Retry-After', async () => {
      const user = await sut.signup();
      for (let i = 0; i < 3; i++) {
        const res = await sut.api('POST', '/api/v1/auth/login', {
          body: { email: user.user.email, password: 'wrong password' },
        });
        expect(res.status).toBe(401);
      }

      const res = await sut.api<ProblemDetails>('POST', '/api/v1/auth/login', {
        body: { email: user.user.email, password: user.password },
      });

      expect(res.status).toBe(429);
      expect(res.body.code).toBe('too_many_login_attempts');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      // another account from the same address is unaffected
      const other = await sut.signup();
      const ok = await sut.api('POST', '/api/v1/auth/login', {
        body: { email: other.user.email, password: other.password },
      });
      expect(ok.status).toBe(200);
    });
  });

  describe('POST /auth/refresh', () => {
    it('rotates the refresh token and refuses the old one', async () => {
      const user = await sut.signup();

      const first = await sut.api<TokenPairResponseDto>('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: user.refreshToken },
      });
      expect(first.status).toBe(200);
      expect(first.body.refreshToken).not.toBe(user.refreshToken);
      expect((await sut.api('GET', '/api/v1/me', { token: first.body.accessToken })).status).toBe(
        200,
      );

      const again = await sut.api<ProblemDetails>('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: user.refreshToken },
      });
      expect(again.status).toBe(401);
      expect(again.body.code).toBe('invalid_refresh_token');
    });

    it('revokes the whole family when a rotated token is presented again', async () => {
      const user = await sut.signup();
      const rotated = await sut.api<TokenPairResponseDto>('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: user.refreshToken },
      });

      await sut.api('POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
      const successor = await sut.api('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: rotated.body.refreshToken },
      });

      expect(successor.status).toBe(401);
      const tokens = await sut.db
        .getRepository(RefreshTokenEntity)
        .findBy({ userId: user.user.id });
      expect(tokens.length).toBe(2);
      expect(tokens.every((t) => t.revokedAt !== null)).toBe(true);
      const audit = await sut.db
        .getRepository(AuditLogEntity)
        .findBy({ actorUserId: user.user.id, action: 'session.refresh_token_reused' });
      expect(audit).toHaveLength(1);
    });

    it('stores refresh tokens only as hashes', async () => {
      const user = await sut.signup();

      const rows = await sut.db.getRepository(RefreshTokenEntity).findBy({ userId: user.user.id });

      expect(rows).toHaveLength(1);
      expect(rows[0]!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
      expect(rows[0]!.tokenHash).not.toContain(user.refreshToken);
    });

    it('ends the session on logout', async () => {
      const user = await sut.signup();

      const out = await sut.api('POST', '/api/v1/auth/logout', {
        body: { refreshToken: user.refreshToken },
      });
      const res = await sut.api('POST', '/api/v1/auth/refresh', {
        body: { refreshToken: user.refreshToken },
      });

      expect(out.status).toBe(204);
      expect(res.status).toBe(401);
    });
  });

  describe('access tokens', () => {
    it('carries the documented claims, signed HS256 for 15 minutes', async () => {
      const user = await sut.signup();
      const [header, payload] = user.accessToken
        .split('.')
        .slice(0, 2)
        .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));

      expect(header.alg).toBe('HS256');
      expect(payload).toMatchObject({
        sub: user.user.id,
        email: user.user.email,
        admin: false,
        orgs: { [user.organisation.id]: 'owner' },
        typ: 'access',
        iss: 'tollgate-accounts',
        aud: 'tollgate',
      });
      expect(payload.exp - payload.iat).toBe(900);
    });

    it.each([
      ['no token', undefined],
      ['garbage', 'not-a-jwt'],
    ])('refuses %s with 401 problem', async (_label, token) => {
      const res = await sut.api<ProblemDetails>('GET', '/api/v1/me', { token });

      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(res.body.status).toBe(401);
    });
  });
});
