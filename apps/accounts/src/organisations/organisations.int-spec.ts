import type {
  MemberResponseDto,
  MeResponseDto,
  OrganisationResponseDto,
  Page,
  ProblemDetails,
  TokenPairResponseDto,
} from '@tollgate/contracts';
import {
  type AccountsTestApp,
  type SignedUp,
  startAccountsTestApp,
} from '../testing/accounts-test-app';
import { MembershipEntity } from './membership.entity';

describe('organisations and members (int)', () => {
  let sut: AccountsTestApp;
  let owner: SignedUp;
  let orgId: string;

  beforeAll(async () => {
    sut = await startAccountsTestApp('orgs');
    owner = await sut.signup({ organisationName: 'Members Inc' });
    orgId = owner.organisation.id;
  });

  afterAll(async () => {
    await sut?.close();
  });

  const addMember = (token: string, email: string, role: string) =>
    sut.api<MemberResponseDto & ProblemDetails>('POST', `/api/v1/orgs/${orgId}/members`, {
      token,
      body: { email, role },
    });

  it('lists the caller’s organisations with their role', async () => {
    const res = await sut.api<Page<OrganisationResponseDto>>('GET', '/api/v1/orgs', {
      token: owner.accessToken,
    });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        {
          id: orgId,
          name: 'Members Inc',
          billingTimeZone: 'UTC',
          admissionFailOpen: false,
          role: 'owner',
          createdAt: expect.any(String),
        },
      ],
      nextCursor: null,
    });
  });

  it('adds an existing user, who then sees the organisation and gets its role in refreshed tokens', async () => {
    const newcomer = await sut.signup();

    const res = await addMember(owner.accessToken, newcomer.user.email, 'admin');

    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      userId: newcomer.user.id,
      email: newcomer.user.email,
      role: 'admin',
      createdAt: expect.any(String),
    });
    const me = await sut.api<MeResponseDto>('GET', '/api/v1/me', { token: newcomer.accessToken });
    expect(me.body.memberships).toContainEqual({
      organisationId: orgId,
      organisationName: 'Members Inc',
      role: 'admin',
    });
    const refreshed = await sut.api<TokenPairResponseDto>('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: newcomer.refreshToken },
    });
    const claims = JSON.parse(
      Buffer.from(refreshed.body.accessToken.split('.')[1]!, 'base64url').toString(),
    );
    expect(claims.orgs[orgId]).toBe('admin');
  });

  it('refuses a second membership with 409 and an unknown email with 404', async () => {
    const user = await sut.signup();
    await addMember(owner.accessToken, user.user.email, 'member');
    const count = await sut.db.getRepository(MembershipEntity).countBy({ organisationId: orgId });

    const dup = await addMember(owner.accessToken, user.user.email.toUpperCase(), 'finance');
    const unknown = await addMember(owner.accessToken, 'nobody-at-all@example.test', 'member');

    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('already_member');
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('user_not_found');
    expect(await sut.db.getRepository(MembershipEntity).countBy({ organisationId: orgId })).toBe(
      count,
    );
    expect(
      (
        await sut.db
          .getRepository(MembershipEntity)
          .findOneByOrFail({ organisationId: orgId, userId: user.user.id })
      ).role,
    ).toBe('member');
  });

  it('lets only owners grant owner, and only owners and admins add members', async () => {
    const admin = await sut.signup();
    const member = await sut.signup();
    const finance = await sut.signup();
    await addMember(owner.accessToken, admin.user.email, 'admin');
    await addMember(owner.accessToken, member.user.email, 'member');
    await addMember(owner.accessToken, finance.user.email, 'finance');
    const candidate = await sut.signup();

    expect((await addMember(admin.accessToken, candidate.user.email, 'owner')).status).toBe(403);
    expect((await addMember(member.accessToken, candidate.user.email, 'member')).status).toBe(403);
    expect((await addMember(finance.accessToken, candidate.user.email, 'member')).status).toBe(403);
    expect(
      await sut.db.getRepository(MembershipEntity).countBy({ userId: candidate.user.id }),
    ).toBe(1);
    expect((await addMember(admin.accessToken, candidate.user.email, 'finance')).status).toBe(201);
  });

  it('lets every member read the member list, page by page', async () => {
    const reader = await sut.signup();
    await addMember(owner.accessToken, reader.user.email, 'finance');
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const res = await sut.api<Page<MemberResponseDto>>(
        'GET',
        `/api/v1/orgs/${orgId}/members${query}`,
        { token: reader.accessToken },
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((m) => m.userId));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }

    const total = await sut.db.getRepository(MembershipEntity).countBy({ organisationId: orgId });
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(seen[0]).toBe(owner.user.id);
  });
});
